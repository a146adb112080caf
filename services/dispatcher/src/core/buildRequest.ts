import { DestinationTypes, type Conversion, type DestinationType } from '@sas/contracts';
import type { Destination } from '@sas/runtime';
import { actionOf, type ActionPlan } from './dispatchAction.js';
import { classifyResponse } from './classifyResponse.js';
import type { FollowUp, PartnerAdapter } from './partners/adapter.js';
import { everflowAdapter } from './partners/everflow.js';
import { impactAdapter } from './partners/impact.js';
import { partnerstackAdapter } from './partners/partnerstack.js';
import { tracknowAdapter } from './partners/tracknow.js';
import { webhookAdapter } from './partners/webhook.js';
import { DestinationConfigError, type BuildContext, type BuildResult, type PartnerRequest } from './partnerRequest.js';

type SendingType = Exclude<DestinationType, 'dry_run'>;

const adapters: Record<SendingType, PartnerAdapter> = {
  impact: impactAdapter,
  partnerstack: partnerstackAdapter,
  everflow: everflowAdapter,
  tracknow: tracknowAdapter,
  webhook: webhookAdapter,
};

/**
 * A dry-run destination builds what its `target` type (default: webhook) would send, with
 * the target's settings, and records it instead of sending it.
 */
export const dryRunTarget = (d: Destination): SendingType => {
  const t = d.settings.target;
  return typeof t === 'string' && t !== 'dry_run' && (DestinationTypes as readonly string[]).includes(t) ? (t as SendingType) : 'webhook';
};

const DRY_RUN_PLACEHOLDERS: Record<string, string> = {
  authToken: 'dry-run', secretKey: 'dry-run', verificationToken: 'dry-run', signingSecret: 'dry-run',
};

const effective = (d: Destination): { adapter: PartnerAdapter; dest: Destination } => {
  if (d.type !== 'dry_run') return { adapter: adapters[d.type], dest: d };
  return { adapter: adapters[dryRunTarget(d)], dest: { ...d, credentials: { ...DRY_RUN_PLACEHOLDERS, ...d.credentials } } };
};

export type Plan = { readonly skip: string } | ({ readonly needsEmail: boolean } & ActionPlan);

/** Decided from the conversion and settings alone, before the ledger: skip, or the ledger action and whether the email is needed. */
export const planDispatch = (c: Conversion, d: Destination): Plan => {
  const { adapter, dest } = effective(d);
  const skip = adapter.skipReason(c, dest);
  if (skip) return { skip };
  return { ...actionOf(c), needsEmail: adapter.needsEmail(c, dest) };
};

/** Conversion + destination (+ looked-up email and the clock) → the request, or why not. A config error is unsendable. */
export const buildRequest = (c: Conversion, d: Destination, ctx: BuildContext): BuildResult => {
  const { adapter, dest } = effective(d);
  try {
    return adapter.build(c, dest, ctx);
  } catch (err) {
    // Settings or data the partner's format cannot carry (a missing setting, a currency that is
    // not ISO 4217): retrying changes nothing, so the conversion is dead-lettered with the reason.
    if (err instanceof DestinationConfigError) return { invalid: err.message };
    return { invalid: `${(err as Error).name}: ${(err as Error).message}` };
  }
};

/** Refunds to this destination must be ordered by refunded total (a dry run sends nothing, so it need not wait). */
export const refundsSetTotal = (d: Destination): boolean => d.type !== 'dry_run' && adapters[d.type].refundSetsTotal === true;

/**
 * Partners whose refund and reversal calls act on their record of the sale (impact's Actions
 * API, PartnerStack's DELETE /transactions): such a call must not reach them before the sale
 * of the same order is credited (decideAfterSale), or it finds nothing (404) and a 404 on a
 * retry cannot be told from our own earlier reversal. Kept here, not on the adapters, so the
 * rule is in one place with refundsSetTotal.
 */
const REFUNDS_AFTER_SALE: ReadonlySet<DestinationType> = new Set<DestinationType>(['impact', 'partnerstack']);
export const refundsAfterSale = (d: Destination): boolean => REFUNDS_AFTER_SALE.has(d.type);

/** Whether the partner can recognise a resend (its key, a lookup) — false only where none is documented. */
export const partnerDedupes = (d: Destination): boolean => {
  const { adapter, dest } = effective(d);
  const none = typeof adapter.noPartnerDedupe === 'function' ? adapter.noPartnerDedupe(dest) : adapter.noPartnerDedupe === true;
  return !none;
};

/**
 * The note on an outcome of a resend to a partner that cannot dedupe: an earlier attempt
 * (a crash after the request, a timeout, a 5xx after processing) may have been credited.
 */
export const inDoubtNote = (d: Destination, orderId: string, attempt: number, action: PartnerRequest['action'] = 'credit'): string | null =>
  // Only a credit can count twice: a resent reversal (Everflow's voids the conversion) finds nothing left.
  action === 'credit' && attempt > 1 && !partnerDedupes(d)
    ? `in doubt: resent after attempt ${attempt - 1} may have reached ${d.type}, which documents no dedupe; order ${orderId} may be credited twice there, check it`
    : null;

export const classifyFor = (type: DestinationType): PartnerAdapter['classify'] => (type === 'dry_run' ? (a) => classifyResponse(a) : adapters[type].classify);

const SECRET_HEADERS = new Set(['authorization', 'webhook-signature', 'x-eflow-api-key']);
const SECRET_PARAMS = ['verification_token', 'email'];

/** What a dry run records: the request without credentials, signatures, tokens or plain emails. */
export const redactRequest = (r: PartnerRequest): PartnerRequest => {
  const url = new URL(r.url);
  for (const p of SECRET_PARAMS) if (url.searchParams.has(p)) url.searchParams.set(p, '[redacted]');
  let body = r.body;
  if (body && r.headers['content-type'] === 'application/json') {
    try {
      const j = JSON.parse(body) as Record<string, unknown>;
      if (typeof j.email === 'string') j.email = '[redacted]';
      if (typeof j.customer_email === 'string') j.customer_email = '[redacted]';
      body = JSON.stringify(j);
    } catch {
      /* not JSON: kept */
    }
  }
  return {
    ...r,
    url: url.toString(),
    headers: Object.fromEntries(Object.entries(r.headers).map(([k, v]) => [k, SECRET_HEADERS.has(k.toLowerCase()) ? '[redacted]' : v])),
    body,
  };
};

/** How to follow a request this destination's partner queued (impact), or null: its answer settles it. */
export const followUpFor = (d: Destination): FollowUp | null => (d.type === 'dry_run' ? null : adapters[d.type].follow ?? null);
