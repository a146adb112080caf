/**
 * A planned event as the JSON Stripe sends, built with the testkit's fixture builders.
 *
 * API version 2022-08-01, on purpose: an account pinned to a version before 2022-11-15 gets
 * charges that carry their `refunds` list and (before basil) their `invoice`. So the mapper
 * maps every event from the payload alone: a refund's amounts come from the charge's list
 * (each keyed by its re_ id, so deliveries in any order emit each refund once), and its order
 * from the link the invoice.paid left (or `charge.invoice`). The simulated integration has no
 * Stripe API key, so no enrichment call is made, and stripe-mock's canned objects (which know
 * nothing of these customers) never answer for them.
 *
 * The ids and amounts come from the plan (seeded); incidental ids inside the objects (line
 * items, prices, balance transactions) are random, which nothing reconciled depends on.
 */
import { chargeEvent, checkoutSessionCompletedEvent, customerEvent, invoiceEvent } from '@sas/testkit';
import type { PlannedCharge, PlannedDiscount, PlannedEvent, PlannedInvoice, PlannedSession, PlannedTax } from './history.js';

export const SIMULATED_API_VERSION = '2022-08-01';

const chargeOptions = (c: PlannedCharge) => ({
  id: c.id,
  amount: c.amount,
  currency: c.currency,
  customer: c.customerId,
  paymentIntent: c.paymentIntent,
  invoice: c.invoiceId,
  email: c.email,
  refunds: c.refunds.map((r) => ({ id: r.id, amount: r.amount, created: r.created })),
});

/** A Discount object as an invoice carries it (docs.stripe.com/api/discounts/object): the coupon, and the promotion code's id. */
const discountObject = (d: PlannedDiscount, invoiceId: string, customerId: string) => ({
  id: `di_${d.couponId}${invoiceId.slice(-8)}`, object: 'discount', checkout_session: null, customer: customerId, end: null, invoice: invoiceId,
  invoice_item: null, promotion_code: d.promotionCode?.id ?? null, start: 0, subscription: null,
  coupon: { id: d.couponId, object: 'coupon', amount_off: null, duration: 'once', percent_off: d.percentOff, valid: true },
});

const taxAmount = (t: PlannedTax) => ({ amount: t.amount, inclusive: t.inclusive, tax_rate: t.rateId });

/**
 * The invoice's discount and tax fields as the Invoice object documents them
 * (docs.stripe.com/api/invoices/object, this API version): `subtotal` before discount and
 * exclusive tax; `discount` / `discounts` / `total_discount_amounts`; `tax` (the sum of all tax
 * amounts, inclusive ones too) and `total_tax_amounts` with `inclusive`; `total` and
 * `amount_paid` after both; each line's `discount_amounts`, `tax_amounts` and
 * `amount_excluding_tax`. Discount and tax sit on the invoice's single line (the simulator puts
 * neither on multi-line proration invoices).
 */
const withDiscountAndTax = (inv: Record<string, unknown>, p: PlannedInvoice): void => {
  const d = p.discount;
  const t = p.tax;
  if (!d && !t) return;
  const discount = d ? discountObject(d, p.id, p.customerId) : null;
  const subtotal = p.lines.reduce((s, l) => s + l.amount, 0);
  const exclusiveTax = t && !t.inclusive ? t.amount : 0;
  const total = subtotal - (d?.amount ?? 0) + exclusiveTax;
  const lines = (inv.lines as { data: Record<string, unknown>[] }).data.map((line) => ({
    ...line,
    discount_amounts: discount ? [{ amount: d!.amount, discount: discount.id }] : [],
    discounts: discount ? [discount.id] : [],
    tax_amounts: t ? [taxAmount(t)] : [],
    amount_excluding_tax: (line.amount as number) - (t?.inclusive ? t.amount : 0),
  }));
  const paid = inv.status === 'paid';
  Object.assign(inv, {
    lines: { ...(inv.lines as object), data: lines },
    subtotal, subtotal_excluding_tax: subtotal - (t?.inclusive ? t.amount : 0),
    discount, discounts: discount ? [discount.id] : [],
    total_discount_amounts: discount ? [{ amount: d!.amount, discount: discount.id }] : [],
    tax: t?.amount ?? 0, total_tax_amounts: t ? [taxAmount(t)] : [],
    total, total_excluding_tax: total - (t?.amount ?? 0),
    amount_due: total, amount_paid: paid ? total : 0, amount_remaining: paid ? 0 : total,
  });
};

/**
 * The session's amounts as the Checkout Session object documents them
 * (docs.stripe.com/api/checkout/sessions/object): `amount_subtotal` before discount and tax
 * (inclusive tax is inside it), `amount_total` after, `total_details.amount_discount` and
 * `amount_tax` (inclusive tax counted there too), `discounts[]` of coupon and promotion code.
 */
const withSessionTotals = (s: Record<string, unknown>, p: PlannedSession): void => {
  Object.assign(s, {
    amount_subtotal: p.amountSubtotal,
    amount_total: p.amountTotal,
    total_details: { amount_discount: p.discount?.amount ?? 0, amount_shipping: 0, amount_tax: p.tax?.amount ?? 0 },
    discounts: p.discount ? [{ coupon: p.discount.couponId, promotion_code: p.discount.promotionCode?.id ?? null }] : [],
    automatic_tax: { enabled: p.tax !== null, liability: null, status: p.tax ? 'complete' : null },
  });
};

const build = (e: PlannedEvent): { api_version: string } & Record<string, unknown> => {
  const envelope = { eventId: e.eventId, created: e.created };
  switch (e.type) {
    case 'customer.created':
      return customerEvent('customer.created', { ...envelope, id: e.customer.id, email: e.customer.email, currency: e.customer.currency, metadata: { ...e.customer.metadata } });
    case 'invoice.paid':
    case 'invoice.payment_failed': {
      const ev = invoiceEvent(e.type, {
        ...envelope, paidAt: e.created, id: e.invoice.id, customer: e.invoice.customerId, customerEmail: e.invoice.email,
        subscription: e.invoice.subscriptionId, billingReason: e.invoice.billingReason, currency: e.invoice.currency,
        clickId: e.invoice.clickId, chargeId: e.invoice.chargeId, status: e.invoice.status, description: 'Plan',
        lines: e.invoice.lines.map((l) => ({ ...l })),
      });
      withDiscountAndTax(ev.data.object as Record<string, unknown>, e.invoice);
      return ev;
    }
    case 'charge.succeeded':
    case 'charge.failed':
      return chargeEvent(e.type, { ...envelope, ...chargeOptions(e.charge) });
    case 'charge.refunded': {
      const previousRefunds = e.charge.refunds.slice(0, -1);
      return chargeEvent('charge.refunded', {
        ...envelope, ...chargeOptions(e.charge),
        previousAttributes: { amount_refunded: e.previousRefunded, refunded: false, refunds: { data: previousRefunds.map((r) => ({ id: r.id })), total_count: previousRefunds.length } },
      });
    }
    case 'checkout.session.completed': {
      const ev = checkoutSessionCompletedEvent({
        ...envelope, id: e.session.id, mode: 'payment', customer: e.session.customerId, email: e.session.email,
        currency: e.session.currency, amountSubtotal: e.session.amountSubtotal, paymentIntent: e.session.paymentIntent,
        clientReferenceId: e.session.clientReferenceId,
      });
      withSessionTotals(ev.data.object as Record<string, unknown>, e.session);
      return ev;
    }
  }
};

/** The event's JSON body, as Stripe would POST it. */
export const renderEvent = (e: PlannedEvent): string => JSON.stringify({ ...build(e), api_version: SIMULATED_API_VERSION });
