import type { OrderLink, RecordedTransaction } from './facts.js';
import type { ChargeTracking } from './mapContext.js';

/** The sale a refund undoes: the order id it was credited under and what it was credited on. */
export interface RefundedSale {
  readonly orderId: string;
  /** Null when the sale's basis is unknown (the refund then stays in Stripe's amounts). */
  readonly saleNetMinor: number | null;
}

/**
 * Which sale a charge's refund undoes, by the same rules that made the sale (toConversions):
 * - a charge whose TRANSACTION was recorded was credited under the charge id, on the charge's
 *   amount (a charge carries no tax split);
 * - so was a charge the integration's tracking counts, when its bookkeeping is not there (yet):
 *   `all` counts every charge, `non_invoice` every charge that pays no invoice (a Checkout's
 *   charge included: with charge tracking on, the session is not counted);
 * - otherwise its order's sale (the invoice or the Checkout session), on that sale's net of
 *   tax when the order link knows it; a charge of no known order is its own order.
 * Before issue 14 a refund always named the invoice or session: with `all`, PartnerStack's
 * DELETE 404'd and Everflow reversed another order_id than the one credited.
 */
export const refundedSale = (p: {
  chargeId: string;
  capturedMinor: number;
  tracking: ChargeTracking;
  order: OrderLink | null;
  transaction: RecordedTransaction | null;
}): RefundedSale => {
  const t = p.transaction;
  if (t && t.status !== 'failed') return { orderId: t.orderId ?? p.chargeId, saleNetMinor: t.amountMinor ?? p.capturedMinor };
  const chargeCounted = p.tracking === 'all' || (p.tracking === 'non_invoice' && p.order?.kind !== 'invoice');
  if (chargeCounted) return { orderId: p.chargeId, saleNetMinor: p.capturedMinor };
  return p.order ? { orderId: p.order.orderId, saleNetMinor: p.order.saleNetMinor ?? null } : { orderId: p.chargeId, saleNetMinor: null };
};
