import { describe, expect, it } from 'vitest';
import { simulate, type PlannedEvent } from './history.js';
import { renderEvent, SIMULATED_API_VERSION } from './render.js';
import { truthOf } from './truth.js';

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
    const failedOnly = all.filter((e) => e.type === 'invoice.payment_failed').map((e) => e.type === 'invoice.payment_failed' && e.invoice.id);
    const paid = new Set(all.flatMap((e) => (e.type === 'invoice.paid' ? [e.invoice.id] : [])));
    for (const id of failedOnly) expect(truth.some((t) => t.orderId === id)).toBe(paid.has(id as string));
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
