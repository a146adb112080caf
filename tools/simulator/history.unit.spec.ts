import { describe, expect, it } from 'vitest';
import { simulate, type PlannedEvent } from './history.js';
import { renderEvent, SIMULATED_API_VERSION } from './render.js';
import { netShare, truthOf } from './truth.js';

const histories = simulate({ seed: 7, customers: 400, runTag: 't' });
const all = histories.flatMap((h) => h.events);

describe('simulated Stripe histories', () => {
  it('are the same for the same seed, and differ for another', () => {
    expect(simulate({ seed: 7, customers: 400, runTag: 't' })).toEqual(histories);
    expect(simulate({ seed: 8, customers: 400, runTag: 't' })).not.toEqual(histories);
  });

  it.each<[string, (e: PlannedEvent) => boolean]>([
    ['a signup with a click id and a customer key', (e) => e.type === 'customer.created' && Boolean(e.customer.metadata.impact_click_id && e.customer.metadata.customer_key)],
    ['a first invoice', (e) => e.type === 'invoice.paid' && e.invoice.billingReason === 'subscription_create'],
    ['a renewal', (e) => e.type === 'invoice.paid' && e.invoice.billingReason === 'subscription_cycle'],
    ['an upgrade with a negative proration line', (e) => e.type === 'invoice.paid' && e.invoice.lines.some((l) => l.proration && l.amount < 0)],
    ['a one-time Checkout', (e) => e.type === 'checkout.session.completed'],
    ['a failed charge', (e) => e.type === 'charge.failed'],
    ['a failed invoice payment', (e) => e.type === 'invoice.payment_failed'],
    ['a second refund of one charge', (e) => e.type === 'charge.refunded' && e.charge.refunds.length === 2],
    ['a JPY customer', (e) => e.type === 'customer.created' && e.customer.currency === 'jpy'],
    ['a KWD customer', (e) => e.type === 'customer.created' && e.customer.currency === 'kwd'],
    // Issue 14's mix.
    ['an invoice with a coupon', (e) => e.type === 'invoice.paid' && e.invoice.discount !== null && e.invoice.discount.promotionCode === null],
    ['an invoice with a promotion code', (e) => e.type === 'invoice.paid' && Boolean(e.invoice.discount?.promotionCode)],
    ['a Checkout with a promotion code', (e) => e.type === 'checkout.session.completed' && Boolean(e.session.discount?.promotionCode)],
    ['an invoice with exclusive tax', (e) => e.type === 'invoice.paid' && e.invoice.tax?.inclusive === false],
    ['an invoice with inclusive tax', (e) => e.type === 'invoice.paid' && e.invoice.tax?.inclusive === true],
    ['a Checkout with inclusive tax and a discount', (e) => e.type === 'checkout.session.completed' && e.session.tax?.inclusive === true && e.session.discount !== null],
    ['a refunded taxed order', (e) => e.type === 'charge.refunded' && all.some((s) => s.type === 'invoice.paid' && s.invoice.chargeId === e.charge.id && s.invoice.tax !== null)],
    ['a Checkout Session id of 66 characters or more, as Stripe\'s own', (e) => e.type === 'checkout.session.completed' && e.session.id.length >= 66],
  ])('include %s', (_what, test) => {
    expect(all.some(test)).toBe(true);
  });

  it('deliver every event at least once, some twice, some out of order, never a refund before its sale', () => {
    let duplicates = 0;
    let swapped = 0;
    for (const h of histories) {
      const ids = h.deliveries.map((d) => d.eventId);
      expect(new Set(ids)).toEqual(new Set(h.events.map((e) => e.eventId)));
      duplicates += ids.length - new Set(ids).size;
      const firstAt = new Map<string, number>();
      ids.forEach((id, i) => { if (!firstAt.has(id)) firstAt.set(id, i); });
      const order = h.events.map((e) => firstAt.get(e.eventId)!);
      swapped += order.filter((p, i) => i > 0 && p < order[i - 1]!).length;
      for (const e of h.events) {
        if (e.type !== 'charge.refunded') continue;
        const sale = h.events.find((s) => (s.type === 'invoice.paid' && s.invoice.chargeId === e.charge.id) || (s.type === 'checkout.session.completed' && s.session.paymentIntent === e.charge.paymentIntent))!;
        expect(firstAt.get(sale.eventId)).toBeLessThan(firstAt.get(e.eventId)!);
      }
    }
    expect(duplicates).toBeGreaterThan(20);
    expect(swapped).toBeGreaterThan(20);
  });

  it('refund at most what was paid, and a failed payment is no order', () => {
    const truth = truthOf(histories);
    for (const t of truth) {
      expect(t.refundedMinor).toBeLessThanOrEqual(t.paidMinor);
      expect(t.paidMinor).toBeGreaterThan(0);
      expect(Number.isInteger(t.paidMinor)).toBe(true);
    }
    const invoiceTracked = histories.filter((h) => !h.chargeTracked).flatMap((h) => h.events);
    const failedOnly = invoiceTracked.filter((e) => e.type === 'invoice.payment_failed').map((e) => e.type === 'invoice.payment_failed' && e.invoice.id);
    const paid = new Set(invoiceTracked.flatMap((e) => (e.type === 'invoice.paid' ? [e.invoice.id] : [])));
    for (const id of failedOnly) expect(truth.some((t) => t.orderId === id)).toBe(paid.has(id as string));
  });

  it('some customers belong to a merchant that tracks charges: their orders are their charges, credited as paid', () => {
    const truth = truthOf(histories);
    const tracked = histories.filter((h) => h.chargeTracked);
    expect(tracked.length).toBeGreaterThan(40);
    const charges = new Map(tracked.flatMap((h) => h.events).flatMap((e) => (e.type === 'charge.succeeded' ? [[e.charge.id, e.charge.amount]] : [])));
    const theirs = truth.filter((t) => t.tracking === 'charge');
    expect(theirs.map((t) => [t.orderId, t.paidMinor]).sort()).toEqual([...charges].sort());
  });

  it('the truth is net of tax and discount, refunds in that basis: a full refund ends at exactly 0, partials never pass it', () => {
    const truth = truthOf(histories).filter((t) => t.tracking === 'invoice');
    const taxed = truth.filter((t) => t.paidMinor < t.stripePaidMinor);
    expect(taxed.length).toBeGreaterThan(20);
    for (const t of truth) {
      const stripeRefunded = t.stripeRefunds.reduce((s, r) => s + r, 0);
      if (stripeRefunded === t.stripePaidMinor) expect(t.refundedMinor).toBe(t.paidMinor);
      expect(t.refunds.every((r) => r >= 0)).toBe(true);
      expect(t.refundedMinor).toBeLessThanOrEqual(t.paidMinor);
    }
    // Stripe's split is proportional (docs.stripe.com/tax/invoicing/refunds): $100 + $25 tax, $25 refunded → $20 net.
    expect(netShare(2_500, 12_500, 10_000)).toBe(2_000);
  });

  it('render discounts and tax as Stripe documents them (invoice and Checkout Session objects)', () => {
    const inclusive = all.find((e): e is Extract<PlannedEvent, { invoice: unknown }> => e.type === 'invoice.paid' && e.invoice.tax?.inclusive === true && e.invoice.discount !== null)
      ?? all.find((e): e is Extract<PlannedEvent, { invoice: unknown }> => e.type === 'invoice.paid' && e.invoice.tax?.inclusive === true)!;
    const inv = JSON.parse(renderEvent(inclusive)).data.object;
    const discount = inclusive.invoice.discount?.amount ?? 0;
    expect(inv.total).toBe(inv.subtotal - discount);
    expect(inv.amount_paid).toBe(inv.total);
    expect(inv.tax).toBe(inclusive.invoice.tax!.amount);
    expect(inv.total_tax_amounts).toEqual([expect.objectContaining({ amount: inclusive.invoice.tax!.amount, inclusive: true })]);
    expect(inv.total_discount_amounts.reduce((s: number, d: { amount: number }) => s + d.amount, 0)).toBe(discount);
    expect(inv.lines.data[0].tax_amounts).toEqual([expect.objectContaining({ inclusive: true })]);
    const exclusive = all.find((e): e is Extract<PlannedEvent, { invoice: unknown }> => e.type === 'invoice.paid' && e.invoice.tax?.inclusive === false)!;
    const ex = JSON.parse(renderEvent(exclusive)).data.object;
    expect(ex.total).toBe(ex.subtotal - (exclusive.invoice.discount?.amount ?? 0) + exclusive.invoice.tax!.amount);
    const promo = all.find((e): e is Extract<PlannedEvent, { invoice: unknown }> => e.type === 'invoice.paid' && Boolean(e.invoice.discount?.promotionCode))!;
    expect(JSON.parse(renderEvent(promo)).data.object.discount).toMatchObject({ object: 'discount', promotion_code: promo.invoice.discount!.promotionCode!.id, coupon: { id: promo.invoice.discount!.couponId } });
    const session = all.find((e): e is Extract<PlannedEvent, { type: 'checkout.session.completed' }> => e.type === 'checkout.session.completed' && e.session.tax !== null && e.session.discount !== null)!;
    const s = JSON.parse(renderEvent(session)).data.object;
    expect(s).toMatchObject({
      id: session.session.id, amount_subtotal: session.session.amountSubtotal, amount_total: session.session.amountTotal,
      total_details: { amount_discount: session.session.discount!.amount, amount_tax: session.session.tax!.amount },
    });
    expect(s.discounts).toEqual([{ coupon: session.session.discount!.couponId, promotion_code: session.session.discount!.promotionCode?.id ?? null }]);
  });

  it('render as Stripe JSON that carries what the mapper needs without the API', () => {
    const refund = all.find((e): e is Extract<PlannedEvent, { type: 'charge.refunded' }> => e.type === 'charge.refunded' && e.charge.refunds.length === 2)!;
    const json = JSON.parse(renderEvent(refund));
    expect(json).toMatchObject({ id: refund.eventId, type: 'charge.refunded', api_version: SIMULATED_API_VERSION });
    expect(json.data.object.refunds.data.map((r: { amount: number }) => r.amount)).toEqual(refund.charge.refunds.map((r) => r.amount));
    expect(json.data.object.amount_refunded).toBe(json.data.object.refunds.data.reduce((s: number, r: { amount: number }) => s + r.amount, 0));
    expect('invoice' in json.data.object).toBe(true);
    const upgrade = all.find((e) => e.type === 'invoice.paid' && e.invoice.billingReason === 'subscription_update')!;
    const inv = JSON.parse(renderEvent(upgrade)).data.object;
    expect(inv.amount_paid).toBe(inv.lines.data.reduce((s: number, l: { amount: number }) => s + l.amount, 0));
    expect(inv.lines.data.some((l: { proration: boolean; amount: number }) => l.proration && l.amount < 0)).toBe(true);
    const failed = all.find((e) => e.type === 'invoice.payment_failed')!;
    expect(JSON.parse(renderEvent(failed)).data.object).toMatchObject({ amount_paid: 0, status: 'open', paid: false });
  });
});
