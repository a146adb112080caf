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

/** The destination's sale (ledger action `credit`) of the same order, as the ledger holds it. */
export interface SaleRow {
  readonly status: 'pending' | 'sending' | 'sent' | 'failed' | 'dry_run';
  /** Milliseconds until its next attempt is due (0 when due or unknown). */
  readonly dueInMs: number;
  readonly lastError: string | null;
  /**
   * The partner answered the sale QUEUED and has not processed it yet (impact; the row is
   * pending while its submission is followed). Not credited: impact's PUT/DELETE on an action it
   * has not created yet answers 404, so the refund waits for the submission to settle.
   */
  readonly queuedAtPartner?: boolean;
}

export type RefundOrderDecision =
  /**
   * Send, with the order's highest known refunded total (null: its own, a full refund).
   * `saleCredited`: the destination's sale of this order is `sent` in the ledger (false: the
   * ledger never saw it, e.g. credited before this ledger existed, so the partner may still have it).
   */
  | { readonly go: 'send'; readonly refundedTotalMinor: number | null; readonly saleCredited: boolean }
  | { readonly go: 'skip'; readonly reason: string }
  /** Not now, no attempt counted: hand the row back for `delayMs` at least. */
  | { readonly go: 'wait'; readonly reason: string; readonly delayMs: number }
  /** Never sendable (its sale was dead-lettered or skipped): count the attempt and dead-letter it. */
  | { readonly go: 'dead'; readonly reason: string };

/** Poll a waiting refund at least this often, and no more often than this. */
export const REFUND_WAIT_MIN_MS = 500;
export const REFUND_WAIT_MAX_MS = 60_000;

/**
 * A refund or reversal reaches a partner only after that partner's sale of the same order:
 * before it, impact's DELETE/PUT and PartnerStack's DELETE find nothing (404), and a 404 on a
 * retry cannot be told from "our own earlier attempt already reversed it". So it waits (no
 * attempt counted) while the sale is pending or being sent, until the sale is due again; it is
 * dead-lettered when the sale was given up (dead-lettered, or skipped when built), since there
 * is nothing to reverse; and it is sent when the sale is `sent`, or when the ledger has no sale
 * row (a sale from before this ledger; if it really is not there, its 404s are retried on the
 * schedule and then dead-lettered, never taken as done, see `saleCredited`).
 */
export const decideAfterSale = (orderId: string, sale: SaleRow | null): RefundOrderDecision | null => {
  if (!sale || sale.status === 'sent' || sale.status === 'dry_run') return null;
  if (sale.status === 'failed') {
    return { go: 'dead', reason: `the sale of order ${orderId} was never credited to this destination (${sale.lastError ?? 'given up'}): nothing to refund; if that sale's dead letter is requeued, requeue this one after it is sent` };
  }
  return {
    go: 'wait', reason: `the sale of order ${orderId} is not credited yet (${sale.queuedAtPartner ? 'queued at the partner, not processed yet' : sale.status})`,
    delayMs: Math.min(REFUND_WAIT_MAX_MS, Math.max(REFUND_WAIT_MIN_MS, sale.dueInMs + REFUND_WAIT_MIN_MS)),
  };
};

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
export const decideRefundOrder = (mine: { action: string; rank: number }, siblings: readonly SiblingRefund[], saleCredited = true): RefundOrderDecision => {
  const others = siblings.filter((s) => s.action !== mine.action && s.status !== 'dry_run');
  const inFlight = others.find((s) => s.rank < mine.rank && s.status === 'sending' && s.leaseAlive);
  if (inFlight) return { go: 'wait', reason: `${inFlight.action} (refunded total ${inFlight.rank}) is being sent`, delayMs: REFUND_WAIT_MIN_MS };
  if (mine.rank === FULL) return { go: 'send', refundedTotalMinor: null, saleCredited };
  const reversal = others.find((s) => s.rank === FULL && (s.status === 'sent' || s.attempts > 0));
  if (reversal) {
    return { go: 'skip', reason: `superseded by ${reversal.action} (full refund), already ${reversal.status === 'sent' ? 'sent' : 'attempted'}: the order is reversed` };
  }
  const highest = Math.max(mine.rank, ...others.filter((s) => s.rank !== FULL).map((s) => s.rank));
  return { go: 'send', refundedTotalMinor: highest, saleCredited };
};

/**
 * The whole decision for a refund or reversal row, under the order's lock: first its sale
 * (decideAfterSale), then, for partners whose refund sets a total, the order of refunds.
 */
export const decideOrderAction = (p: {
  orderId: string; sale: SaleRow | null; setsTotal: boolean;
  mine: { action: string; rank: number } | null; siblings: readonly SiblingRefund[];
}): RefundOrderDecision => {
  const gate = decideAfterSale(p.orderId, p.sale);
  if (gate) return gate;
  const saleCredited = p.sale !== null && p.sale.status === 'sent';
  // A reversal, or a row written before refund ranks existed: nothing to order it by.
  if (!p.setsTotal || !p.mine) return { go: 'send', refundedTotalMinor: null, saleCredited };
  return decideRefundOrder(p.mine, p.siblings, saleCredited);
};

/**
 * The one case where a 404 to a reversal (DELETE) means "done": an earlier attempt of this
 * same row may have reached the partner and taken effect (no answer, a 5xx, or a crash while
 * it was on the wire: `mayHaveLanded` in the ledger) AND the sale was credited by us (so the
 * order did exist there). A 404 after only definite answers (e.g. 404, the sale not processed
 * yet at impact) is retried, and dead-lettered when the schedule runs out.
 */
export const reversalMayHaveLanded = (mayHaveLanded: boolean, saleCredited: boolean): boolean => mayHaveLanded && saleCredited;

/** An attempt may have taken effect at the partner: it got no answer or a 5xx (it may have been processed). */
export const attemptMayHaveLanded = (status: number | null): boolean => status === null || status >= 500;

