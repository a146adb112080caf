/** A partner's answer, as the shell received it. */
export interface PartnerAnswer {
  readonly status: number;
  readonly body: string;
  readonly retryAfter: string | null;
  /** X-RateLimit-Reset (impact answers a 429 with it, not with Retry-After). */
  readonly rateLimitReset?: string | null;
}

/** What a partner's answer means for the ledger and for retrying. */
export type ResponseClass =
  /**
   * `follow`: the partner took the request for later processing and names where its outcome
   * will be (impact's QueuedUri): not settled until that says so.
   */
  | { readonly ok: true; readonly partnerRef: string | null; readonly duplicate: boolean; readonly follow?: string }
  | { readonly ok: false; readonly retriable: boolean; readonly error: string };

export interface ClassifyContext {
  /**
   * An earlier attempt may have reached the partner. For most rows: this is not the first
   * attempt. For refunds and reversals after their sale (impact, PartnerStack), where it turns a
   * DELETE's 404 into "already done": only if an earlier attempt of this row may have landed (no
   * answer, a 5xx, a crash mid-request: ledger `may_have_landed`) and the sale is credited in the
   * ledger (reversalMayHaveLanded), so a refund that overtook its sale is never taken as done.
   */
  readonly mayHaveReached: boolean;
  /**
   * Whether the partner, under this destination's settings, recognises a resend (buildRequest
   * partnerDedupes); absent: it does. Everflow reads a bodyless answer to a resend as its own
   * duplicate rejection only when it does.
   */
  readonly partnerDedupes?: boolean;
}

export const accepted = (partnerRef: string | null = null, duplicate = false): ResponseClass => ({ ok: true, partnerRef, duplicate });
export const rejected = (error: string, retriable: boolean): ResponseClass => ({ ok: false, retriable, error });

export const httpError = (a: PartnerAnswer): string => `HTTP ${a.status}: ${a.body.slice(0, 500)}`;

export const isRetriableStatus = (status: number): boolean => status === 429 || status === 408 || status >= 500;

/**
 * 2xx is success unless the body says otherwise (impact answers {"Status":"ERROR"} in some
 * cases); 429, 408 and 5xx are retried; other 4xx cannot be fixed by retrying.
 */
export const classifyResponse = (a: PartnerAnswer): ResponseClass => {
  if (a.status >= 200 && a.status < 300) {
    try {
      const json = JSON.parse(a.body) as { Status?: unknown; QueuedUri?: unknown };
      if (json.Status === 'ERROR') return rejected(`partner said ERROR: ${a.body.slice(0, 500)}`, false);
      return accepted(typeof json.QueuedUri === 'string' ? json.QueuedUri : null);
    } catch {
      return accepted();
    }
  }
  return rejected(httpError(a), isRetriableStatus(a.status));
};

/** Retry-After in seconds or as an HTTP date → milliseconds from now (clock passed in). */
export const retryAfterMs = (header: string | null, nowMs: number): number | null => {
  if (!header) return null;
  const secs = Number(header);
  if (Number.isFinite(secs)) return Math.max(0, secs * 1000);
  const at = Date.parse(header);
  return Number.isNaN(at) ? null : Math.max(0, at - nowMs);
};

/**
 * X-RateLimit-Reset → milliseconds from now. impact describes it as the seconds until the limit
 * resets, while its own example value (1487332519) is a Unix time
 * (integrations.impact.com/impact-brand/reference/rate-limits): a value past 10^9 (2001) is read
 * as a Unix time in seconds, anything smaller as seconds from now.
 */
const UNIX_TIME_FROM = 1_000_000_000;
export const rateLimitResetMs = (header: string | null | undefined, nowMs: number): number | null => {
  if (!header || !/^\d+(\.\d+)?$/.test(header.trim())) return null;
  const v = Number(header);
  return v >= UNIX_TIME_FROM ? Math.max(0, v * 1000 - nowMs) : v * 1000;
};

/** How long a partner asked us to wait: the later of Retry-After and X-RateLimit-Reset. */
export const partnerWaitMs = (a: PartnerAnswer, nowMs: number): number | null => {
  const waits = [retryAfterMs(a.retryAfter, nowMs), rateLimitResetMs(a.rateLimitReset, nowMs)].filter((w): w is number => w !== null);
  return waits.length > 0 ? Math.max(...waits) : null;
};
