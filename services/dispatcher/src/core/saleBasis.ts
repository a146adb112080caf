import type { Conversion } from '@sas/contracts';
import { isFullRefund } from './dispatchAction.js';

/** A refund brought to the basis its sale was credited in (minor units of the order's currency). */
export interface RefundInSaleBasis {
  /** What the sale was credited on (paid net of tax; a charge-tracked sale: the charge). */
  readonly saleNetMinor: number;
  /** This refund, in that basis (≥ 0). */
  readonly refundMinor: number;
  /** Everything refunded on the order, in that basis: `refundedTotalMinor` converted (≤ saleNetMinor). */
  readonly refundedTotalMinor: number;
  /** The sale's new total: saleNetMinor − refundedTotalMinor, exactly 0 after a full refund. */
  readonly newTotalMinor: number;
}

/**
 * Stripe's refunded total `grossMinor` (tax included) of an order that took `orderGrossMinor`,
 * in the basis `saleNetMinor`. Stripe splits a refund between net and tax in proportion to the
 * amounts charged (https://docs.stripe.com/tax/invoicing/refunds, both for exclusive and
 * inclusive tax); we round half up to the minor unit. Applied to the cumulative total, never to
 * a refund alone: each refund's share is the difference of two cumulative values, so partial
 * refunds and the one completing them sum to exactly `saleNetMinor` and rounding never drifts.
 * BigInt so that amount × amount cannot lose a digit.
 */
export const refundedInSaleBasis = (grossMinor: number, orderGrossMinor: number, saleNetMinor: number): number => {
  if (grossMinor <= 0 || saleNetMinor <= 0) return 0;
  if (orderGrossMinor <= 0 || grossMinor >= orderGrossMinor) return saleNetMinor;
  const n = BigInt(grossMinor) * BigInt(saleNetMinor) * 2n + BigInt(orderGrossMinor);
  return Number(n / (BigInt(orderGrossMinor) * 2n));
};

/**
 * The one rule every adapter calls for a refund's amount and new total in its sale's basis.
 * Inputs are the refund conversion's own fields: `orderAmountMinor` (what the charge took),
 * `refundedTotalMinor` (Stripe's refunded total, this refund included; the dispatcher may raise
 * it to the order's highest known total for partners whose refund sets a total) and
 * `amountMinor` (this refund). `saleNetMinor` is the sale's basis, from the mapper.
 *
 * Records without the basis (written before `saleNetMinor`, or a sale the mapper never saw): the
 * refund stays in Stripe's amounts, i.e. the basis is taken to be the order amount, which is
 * what was sent before the field existed. Null when even the order amount is unknown (a record
 * from before `orderAmountMinor`): no new total can be set.
 */
export const refundInSaleBasis = (c: Conversion): RefundInSaleBasis | null => {
  const orderGross = c.orderAmountMinor;
  if (orderGross === null) return null;
  const saleNet = c.saleNetMinor ?? orderGross;
  const cumulative = isFullRefund(c) ? orderGross : c.refundedTotalMinor ?? c.amountMinor;
  const refundedTotal = refundedInSaleBasis(cumulative, orderGross, saleNet);
  const before = refundedInSaleBasis(Math.max(0, cumulative - c.amountMinor), orderGross, saleNet);
  return { saleNetMinor: saleNet, refundMinor: refundedTotal - before, refundedTotalMinor: refundedTotal, newTotalMinor: saleNet - refundedTotal };
};
