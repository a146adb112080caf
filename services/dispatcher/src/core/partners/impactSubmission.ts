import { millisecondsListOf, SUBMISSION_CHECKS_MS } from '@sas/contracts';
import type { Destination } from '@sas/runtime';
import type { PartnerAnswer } from '../classifyResponse.js';
import { DestinationConfigError } from '../partnerRequest.js';

/**
 * impact.com processes Conversions and Actions calls asynchronously: the call answers
 * `{"Status":"QUEUED","QueuedUri":"/Advertisers/{SID}/APISubmissions/{BatchId}"}`
 * (reverse-an-action example: https://help.impact.com/en/support/solutions/articles/155000002598-reverse-an-entire-action-via-api;
 * ../shared/docs/partner-apis.md), and the API submission at that URI says what became of it
 * (GET /Advertisers/{SID}/APISubmissions/{BatchId}:
 * https://integrations.impact.com/brand-api-reference/reference/submissions/api-submissions).
 *
 * The submission object (https://integrations.impact.com/impact-brand/reference/the-api-submission-object):
 * `Status` starts `Queued`, then `In Progress`, then `Complete`; `Complete` still may carry
 * errors: `ErrorType` (e.g. `Validation`, `Contract Error`) and `ErrorReason` (a list of codes,
 * e.g. `CONTRACT_NOT_FOUND RESTRICTED_PROMOCODE`). `CONV_DUPLICATE` means an action with the
 * same OrderId was already registered (the reason list of the FTP error details, same page
 * family: https://integrations.impact.com/brand-api-reference/reference/submissions/ftp-submissions).
 * Submissions are kept for no more than 90 days (the object's page).
 */
export interface SubmissionState {
  readonly status: string;
  readonly errorType: string | null;
  readonly errorReason: string | null;
}

/** The submission object from a GET answer; null when the answer is not one (not JSON, no Status). */
export const readSubmission = (a: PartnerAnswer): SubmissionState | null => {
  if (a.status < 200 || a.status >= 300) return null;
  try {
    const j = JSON.parse(a.body) as Record<string, unknown>;
    if (typeof j.Status !== 'string') return null;
    const text = (v: unknown): string | null => (typeof v === 'string' && v.trim().length > 0 ? v.trim() : null);
    return { status: j.Status, errorType: text(j.ErrorType), errorReason: text(j.ErrorReason) };
  } catch {
    return null;
  }
};

export type SubmissionDecision =
  /** Processed without errors (`duplicate`: impact already had an action with this OrderId). */
  | { readonly settle: 'sent'; readonly duplicate: boolean }
  /** Processed with errors: a failed delivery with impact's reason. */
  | { readonly settle: 'rejected'; readonly reason: string }
  /** Not processed yet, or no readable answer: look again in `inMs`. */
  | { readonly settle: 'check'; readonly inMs: number; readonly note: string }
  /** Still not settled after the whole schedule: a failed delivery saying so, never "sent". */
  | { readonly settle: 'gaveUp'; readonly reason: string };

/**
 * How long after the QUEUED answer, then after each check, to look again. impact documents no
 * processing time, so it is a destination setting (`submissionChecksMs`); this default looks
 * within seconds (most submissions), then backs off to about a day and a half in all, well
 * inside the 90 days impact keeps a submission.
 */
export const DEFAULT_SUBMISSION_CHECKS_MS: readonly number[] = [
  2_000, 10_000, 30_000, 60_000, 300_000, 900_000, 1_800_000, 3_600_000, 7_200_000, 14_400_000, 28_800_000, 28_800_000, 28_800_000,
];
/**
 * The destination's follow-up schedule (libs/contracts SUBMISSION_CHECKS_MS; the admin API
 * refuses a bad one with the same rule); one stored before that check is refused here, naming it.
 */
export const submissionChecksOf = (d: Pick<Destination, 'id' | 'settings'>): readonly number[] => {
  const v = d.settings[SUBMISSION_CHECKS_MS];
  if (v === undefined || v === null) return DEFAULT_SUBMISSION_CHECKS_MS;
  const list = millisecondsListOf(v);
  if (!list) throw new DestinationConfigError(`destination ${d.id}: setting "${SUBMISSION_CHECKS_MS}" must be a non-empty list of milliseconds (non-negative integers)`);
  return list;
};

const DUPLICATE_REASON = 'CONV_DUPLICATE';

const duration = (ms: number): string => (ms < 10_000 ? `${ms} ms` : ms < 7_200_000 ? `${Math.round(ms / 1000)} s` : `${Math.round(ms / 3_600_000)} h`);

/**
 * What the submission's state means after check number `checksDone` (1 for the first GET):
 * `state` null means the GET gave no submission (no answer, a 5xx/429, a 404 before impact has
 * registered it, a body that is not one), which is "not known yet", never "sent".
 */
export const decideSubmission = (p: {
  uri: string; state: SubmissionState | null; checksDone: number; schedule: readonly number[]; answer?: string | null;
}): SubmissionDecision => {
  const { state } = p;
  if (state && state.status.toLowerCase() === 'complete') {
    if (!state.errorType && !state.errorReason) return { settle: 'sent', duplicate: false };
    const codes = (state.errorReason ?? '').split(/[\s,]+/).filter(Boolean);
    // Our own earlier submission of the same OrderId (a resend after a crash or a timeout): impact has the action.
    if (codes.length > 0 && codes.every((c) => c === DUPLICATE_REASON)) return { settle: 'sent', duplicate: true };
    return { settle: 'rejected', reason: `impact rejected submission ${p.uri}: ${state.errorType ?? 'error'}${state.errorReason ? `: ${state.errorReason}` : ''}` };
  }
  const now = state ? `still ${state.status}` : `status unknown (${p.answer ?? 'no submission in the answer'})`;
  const next = p.schedule[p.checksDone];
  if (next === undefined) {
    const total = p.schedule.reduce((a, b) => a + b, 0);
    return {
      settle: 'gaveUp',
      reason: `gave up following impact submission ${p.uri}: ${now} after ${p.checksDone} checks over ${duration(total)}; not known to be credited, check it in impact`,
    };
  }
  return { settle: 'check', inMs: next, note: now };
};
