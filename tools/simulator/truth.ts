/**
 * What Stripe says was paid and refunded, per order, read from the events' own amounts the way a
 * merchant reads their Stripe dashboard: a paid invoice's `amount_paid`, a paid Checkout
 * session's `amount_total`, a charge's refunds (`amount_refunded` is their sum). Failed
 * payments (`invoice.payment_failed`, `charge.failed`) are not money and never appear.
 */
import type { CustomerHistory, PlannedEvent } from './history.js';

export interface TruthOrder {
  readonly customerId: string;
  /** The order a partner is credited under: the invoice id, or the Checkout session id. */
  readonly orderId: string;
  /** ISO 4217, upper case. */
  readonly currency: string;
  readonly paidMinor: number;
  readonly refundedMinor: number;
  /** Each refund's amount, oldest first (Σ = refundedMinor). */
  readonly refunds: readonly number[];
  /** What was sold: a subscription's first invoice, a renewal, another invoice (an upgrade's prorations), a one-time Checkout. */
  readonly sale: 'first' | 'recurring' | 'other' | 'one_time';
  /** The customer's `partner_key` in Stripe metadata (a partner referred them), else null. */
  readonly partnerKey?: string | null;
}

export const invoiceAmountPaid = (lines: readonly { amount: number }[]): number => lines.reduce((s, l) => s + l.amount, 0);

export const truthOf = (histories: readonly CustomerHistory[]): TruthOrder[] => histories.flatMap((h) => {
  const orders = new Map<string, { currency: string; paidMinor: number; sale: TruthOrder['sale'] }>();
  const orderOfCharge = new Map<string, string>();
  const refunded = new Map<string, number[]>();
  const seen = new Set<string>();
  const unique: PlannedEvent[] = h.events.filter((e) => !seen.has(e.eventId) && seen.add(e.eventId));
  for (const e of unique) {
    if (e.type === 'invoice.paid') {
      const r = e.invoice.billingReason;
      const sale = r === 'subscription_create' ? 'first' : r === 'subscription_cycle' ? 'recurring' : 'other';
      orders.set(e.invoice.id, { currency: e.invoice.currency, paidMinor: invoiceAmountPaid(e.invoice.lines), sale });
      orderOfCharge.set(e.invoice.chargeId, e.invoice.id);
    } else if (e.type === 'checkout.session.completed') {
      orders.set(e.session.id, { currency: e.session.currency, paidMinor: e.session.amountTotal, sale: 'one_time' });
      orderOfCharge.set(e.session.paymentIntent, e.session.id);
    } else if (e.type === 'charge.refunded') {
      // Each charge.refunded lists the refunds so far: the longest list is the charge's latest state.
      if (e.charge.refunds.length > (refunded.get(e.charge.id)?.length ?? 0)) refunded.set(e.charge.id, e.charge.refunds.map((r) => r.amount));
    }
  }
  const created = unique.find((e) => e.type === 'customer.created');
  const partnerKey = created?.type === 'customer.created' ? created.customer.metadata.partner_key ?? null : null;
  const refundedByOrder = new Map<string, number[]>();
  for (const e of unique) {
    if (e.type !== 'charge.refunded') continue;
    const order = orderOfCharge.get(e.charge.id) ?? orderOfCharge.get(e.charge.paymentIntent);
    if (order) refundedByOrder.set(order, refunded.get(e.charge.id)!);
  }
  return [...orders].map(([orderId, o]) => {
    const refunds = refundedByOrder.get(orderId) ?? [];
    return {
      customerId: h.customerId, orderId, currency: o.currency.toUpperCase(), paidMinor: o.paidMinor,
      refundedMinor: refunds.reduce((s, r) => s + r, 0), refunds, sale: o.sale, partnerKey,
    };
  });
});
