/**
 * What each partner must end up crediting, per order, read from Stripe's own amounts the way a
 * merchant reads their Stripe dashboard, independently of the mapper:
 * - an order is a paid invoice (`amount_paid`), a paid Checkout session (`amount_total`), or,
 *   for a merchant whose integration tracks charges, each succeeded charge (`amount`);
 * - a partner is credited the sale net of tax and discount: the discount is already off what was
 *   paid, and tax (exclusive or inclusive) is taken out; a charge carries no tax split
 *   (docs.stripe.com/api/charges/object), so a charge-tracked order is credited as paid;
 * - a refund is split between net and tax in proportion to the amounts charged, as Stripe
 *   does (docs.stripe.com/tax/invoicing/refunds); each refund's net share is the difference of the
 *   cumulative refunded net, so a full refund returns exactly the credited net.
 * Failed payments (`invoice.payment_failed`, `charge.failed`) are not money and never appear.
 */
import type { CustomerHistory, PlannedEvent, PlannedTax } from './history.js';

export interface TruthOrder {
  readonly customerId: string;
  /** The order a partner is credited under: the invoice id, the Checkout session id, or the charge id. */
  readonly orderId: string;
  /** ISO 4217, upper case. */
  readonly currency: string;
  /** What the sale is credited at: paid, net of tax. */
  readonly paidMinor: number;
  /** Σ refunds in that basis. */
  readonly refundedMinor: number;
  /** Each refund in that basis, oldest first (Σ = refundedMinor). */
  readonly refunds: readonly number[];
  /** What Stripe took and gave back, tax included. */
  readonly stripePaidMinor: number;
  readonly stripeRefunds: readonly number[];
  /** What was sold: a subscription's first invoice, a renewal, another invoice (an upgrade's prorations), a one-time Checkout, a tracked charge. */
  readonly sale: 'first' | 'recurring' | 'other' | 'one_time' | 'charge';
  /** Which of the merchant's integrations: one that credits invoices and sessions, or one that tracks charges. */
  readonly tracking: 'invoice' | 'charge';
  /** The customer's `partner_key` in Stripe metadata (a partner referred them), else null. */
  readonly partnerKey?: string | null;
}

export const invoiceAmountPaid = (lines: readonly { amount: number }[]): number => lines.reduce((s, l) => s + l.amount, 0);

const taxOf = (t: PlannedTax | null): number => t?.amount ?? 0;

/** Refunded `gross` of `paid` (tax included) in the basis `net`, half up; all of it once the whole was refunded. */
export const netShare = (gross: number, paid: number, net: number): number => {
  if (gross >= paid) return net;
  const n = BigInt(gross) * BigInt(net);
  return Number((2n * n + BigInt(paid)) / (2n * BigInt(paid)));
};

const inBasis = (refunds: readonly number[], paid: number, net: number): number[] => {
  let gross = 0;
  let before = 0;
  return refunds.map((r) => {
    gross += r;
    const now = netShare(gross, paid, net);
    const share = now - before;
    before = now;
    return share;
  });
};

export const truthOf = (histories: readonly CustomerHistory[]): TruthOrder[] => histories.flatMap((h) => {
  const orders = new Map<string, { currency: string; paid: number; net: number; sale: TruthOrder['sale'] }>();
  const orderOfCharge = new Map<string, string>();
  const refunded = new Map<string, number[]>();
  const seen = new Set<string>();
  const unique: PlannedEvent[] = h.events.filter((e) => !seen.has(e.eventId) && seen.add(e.eventId));
  for (const e of unique) {
    if (h.chargeTracked) {
      if (e.type === 'charge.succeeded') {
        orders.set(e.charge.id, { currency: e.charge.currency, paid: e.charge.amount, net: e.charge.amount, sale: 'charge' });
        orderOfCharge.set(e.charge.id, e.charge.id);
      }
    } else if (e.type === 'invoice.paid') {
      const r = e.invoice.billingReason;
      const sale = r === 'subscription_create' ? 'first' : r === 'subscription_cycle' ? 'recurring' : 'other';
      const inv = e.invoice;
      const paid = invoiceAmountPaid(inv.lines) - (inv.discount?.amount ?? 0) + (inv.tax && !inv.tax.inclusive ? inv.tax.amount : 0);
      orders.set(inv.id, { currency: inv.currency, paid, net: paid - taxOf(inv.tax), sale });
      orderOfCharge.set(inv.chargeId, inv.id);
    } else if (e.type === 'checkout.session.completed') {
      const s = e.session;
      orders.set(s.id, { currency: s.currency, paid: s.amountTotal, net: s.amountTotal - taxOf(s.tax), sale: 'one_time' });
      orderOfCharge.set(s.paymentIntent, s.id);
    }
    if (e.type === 'charge.refunded') {
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
    const stripeRefunds = refundedByOrder.get(orderId) ?? [];
    const refunds = inBasis(stripeRefunds, o.paid, o.net);
    return {
      customerId: h.customerId, orderId, currency: o.currency.toUpperCase(), paidMinor: o.net,
      refundedMinor: refunds.reduce((s, r) => s + r, 0), refunds, stripePaidMinor: o.paid, stripeRefunds,
      sale: o.sale, partnerKey, tracking: h.chargeTracked ? 'charge' as const : 'invoice' as const,
    };
  });
});
