import type { Conversion } from '@sas/contracts';
import { isFullRefund } from './dispatchAction.js';

const FULL = Number.MAX_SAFE_INTEGER;

/**
 * Where a refund brings its order: the refunded total in minor units, or the largest value for
 * a full refund (nothing comes after it). Null for everything that is not a refund.
 */
export const refundRank = (c: Conversion): number | null => {
  if (c.kind !== 'REFUND_FULL' && c.kind !== 'REFUND_PARTIAL') return null;
  if (isFullRefund(c)) return FULL;
  return c.refundedTotalMinor;
};

/** Another refund row of the same (integration, destination, order), as the ledger holds it. */
export interface SiblingRefund {
  readonly action: string;
  readonly rank: number;
  readonly status: 'pending' | 'sending' | 'sent' | 'failed' | 'dry_run';
  readonly attempts: number;
  /** Its lease is held now: an instance may be sending it at this moment. */
  readonly leaseAlive: boolean;
}

export type RefundOrderDecision =
  /** Send, with the order's highest known refunded total (null: its own, a full refund). */
  | { readonly go: 'send'; readonly refundedTotalMinor: number | null }
  | { readonly go: 'skip'; readonly reason: string }
  | { readonly go: 'wait'; readonly reason: string };

/**
 * For partners whose refund call sets a new total (impact: Amount = order amount − refunded
 * total). Stripe's refunded total of a charge only grows, so the highest total among the
 * order's refund rows is the truth, whichever arrived or was sent first: every partial refund
 * sends that highest total. Arrival order, a timed-out request that lands late, a dead-lettered
 * sibling that may have landed: each later send re-asserts the highest total, and a replay
 * sends the same. A partial refund is skipped only once a full refund (a reversal) was sent or
 * attempted; it waits while a smaller one is on the wire right now, so two requests of one
 * order never race.
 */
export const decideRefundOrder = (mine: { action: string; rank: number }, siblings: readonly SiblingRefund[]): RefundOrderDecision => {
  const others = siblings.filter((s) => s.action !== mine.action && s.status !== 'dry_run');
  const inFlight = others.find((s) => s.rank < mine.rank && s.status === 'sending' && s.leaseAlive);
  if (inFlight) return { go: 'wait', reason: `${inFlight.action} (refunded total ${inFlight.rank}) is being sent` };
  if (mine.rank === FULL) return { go: 'send', refundedTotalMinor: null };
  const reversal = others.find((s) => s.rank === FULL && (s.status === 'sent' || s.attempts > 0));
  if (reversal) {
    return { go: 'skip', reason: `superseded by ${reversal.action} (full refund), already ${reversal.status === 'sent' ? 'sent' : 'attempted'}: the order is reversed` };
  }
  const highest = Math.max(mine.rank, ...others.filter((s) => s.rank !== FULL).map((s) => s.rank));
  return { go: 'send', refundedTotalMinor: highest };
};

