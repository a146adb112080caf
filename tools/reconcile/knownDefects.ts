/**
 * Bugs the reconciliation found in the system (not in the simulator), each stated exactly, so a
 * run reports them apart from anything else and a fix shows up as the count going to zero.
 */
import type { KnownDefect } from './reconcile.js';

/**
 * PartnerStack, a charge refunded in several refunds: each partial refund is a negative
 * transaction (`<order>:refund:<re_…>`), and the refund that completes it DELETEs the order's
 * transaction, so the negative ones stay: PartnerStack holds −(Σ partial refunds) instead of 0
 * (services/dispatcher/src/core/partners/partnerstack.ts, a full refund is always a DELETE).
 */
export const partnerstackPartialsSurviveDelete: KnownDefect = (f, t) =>
  f.destination.startsWith('partnerstack') && t && t.refunds.length >= 2 && t.refundedMinor === t.paidMinor &&
  f.creditedMinor === -(t.paidMinor - t.refunds[t.refunds.length - 1]!)
    ? 'partnerstack: partial refunds then the rest leave the negative partial transactions after the DELETE'
    : null;

/**
 * impact.com with separate trackers for first and recurring sales (seed 001): a refund
 * conversion carries no `saleReason` (the mapper's refund never has it), so the dispatcher sends
 * the refund of a renewal or an upgrade invoice to the first-sale tracker, where that OrderId
 * does not exist: 404 until dead-lettered, and impact keeps the full sale.
 */
export const impactRefundOnFirstTracker: KnownDefect = (f, t) =>
  f.destination === 'impact' && t && (t.sale === 'recurring' || t.sale === 'other') && t.refundedMinor > 0 && f.creditedMinor === t.paidMinor
    ? 'impact: the refund of a non-first invoice goes to the first-sale tracker (refunds carry no saleReason)'
    : null;

export const knownDefects: KnownDefect = (f, t) => partnerstackPartialsSurviveDelete(f, t) ?? impactRefundOnFirstTracker(f, t);
