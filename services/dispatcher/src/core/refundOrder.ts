import type { Conversion } from '@sas/contracts';
import { isFullRefund } from './dispatchAction.js';

/**
 * Where a refund brings its order: the refunded total in minor units, or the largest value for
 * a full refund (nothing comes after it). Null for everything that is not a refund.
 */
export const refundRank = (c: Conversion): number | null => {
  if (c.kind !== 'REFUND_FULL' && c.kind !== 'REFUND_PARTIAL') return null;
  if (isFullRefund(c)) return Number.MAX_SAFE_INTEGER;
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
  | { readonly go: 'send' }
  | { readonly go: 'skip'; readonly reason: string }
  | { readonly go: 'wait'; readonly reason: string };

/**
 * For partners whose refund call sets a new total (impact: Amount = order amount − refunded
 * total), the totals sent for one order must only go down. A refund is skipped when a refund
 * that brings the order further was sent or may have reached the partner (attempted and not
 * given up); it waits while a smaller one is being sent right now, so the smaller one lands
 * first. Otherwise it is sent. Equal ranks are the same refund sent again (idempotent).
 */
export const decideRefundOrder = (mine: { action: string; rank: number }, siblings: readonly SiblingRefund[]): RefundOrderDecision => {
  const others = siblings.filter((s) => s.action !== mine.action);
  const further = others.find((s) => s.rank > mine.rank &&
    (s.status === 'sent' || ((s.status === 'sending' || s.status === 'pending') && s.attempts > 0)));
  if (further) {
    return { go: 'skip', reason: `superseded by ${further.action} (refunded total ${rankText(further.rank)} > ${rankText(mine.rank)}), already ${further.status === 'sent' ? 'sent' : 'attempted'}: sending this one would raise the amount back` };
  }
  const inFlight = others.find((s) => s.rank < mine.rank && s.status === 'sending' && s.leaseAlive);
  if (inFlight) return { go: 'wait', reason: `${inFlight.action} (refunded total ${rankText(inFlight.rank)}) is being sent` };
  return { go: 'send' };
};

const rankText = (r: number): string => (r === Number.MAX_SAFE_INTEGER ? 'full' : String(r));
