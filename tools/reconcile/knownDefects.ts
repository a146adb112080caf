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
 * impact.com and PartnerStack, a full refund that reaches the partner before its sale (the sale
 * still queued behind a backlog longer than the hold, or in retry): the DELETE answers 404, is
 * retried, and the second 404 is taken for "an earlier attempt of ours already reversed it"
 * (`mayHaveReached: attempt > 1` in services/dispatcher/src/engine.ts; impact.ts and
 * partnerstack.ts classify a DELETE 404 then as accepted). Then the sale lands and stays: the
 * partner holds the sale (less any partial refunds it applied) for an order Stripe refunded in full.
 */
export const fullRefundLostBeforeSale: KnownDefect = (f, t) => {
  if (!t || !/^(impact|impact_one_tracker|partnerstack)$/.test(f.destination) || t.refundedMinor !== t.paidMinor || t.refunds.length === 0) return null;
  const partials = t.refundedMinor - t.refunds[t.refunds.length - 1]!;
  return f.creditedMinor === t.paidMinor || f.creditedMinor === t.paidMinor - partials
    ? `${f.destination.replace(/_one_tracker$/, '')}: a full refund that arrived before its sale was taken as done on its second 404 (DELETE), then the sale was credited`
    : null;
};

export const knownDefects: KnownDefect = (f, t) =>
  partnerstackPartialsSurviveDelete(f, t) ?? fullRefundLostBeforeSale(f, t);
