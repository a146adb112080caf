import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { parseStripeEventEnvelope, type LineItem, type StripeEventEnvelope } from '@sas/contracts';
import {
  chargeEvent, checkoutSessionCompletedEvent, customerEvent, invoicePaidEvent, invoicePaymentSucceededEvent,
} from '@sas/testkit';
import { mergeStored, NO_HINTS } from './attribution.js';
import { MappingError } from './conversionBase.js';
import { NO_FACTS, type MapFacts, type StoredAttribution } from './facts.js';
import type { MapContext } from './mapContext.js';
import { decide } from './toConversions.js';

const RECEIVED = 1_700_000_001_000;
const ctx = (o: Partial<MapContext> = {}): MapContext => ({
  integrationId: 'int_1', eventId: 'evt_1', eventCreatedSec: 1_700_000_000, stripeAccount: null, livemode: false,
  receivedAt: RECEIVED, saleTrigger: 'invoice.paid', refundHoldSeconds: 3600, chargeTracking: 'off', ...o,
});
const facts = (o: Partial<MapFacts> = {}): MapFacts => ({ ...NO_FACTS, ...o });
const ev = (raw: unknown): StripeEventEnvelope => {
  const p = parseStripeEventEnvelope(JSON.parse(JSON.stringify(raw)));
  if (!p.ok) throw new Error(p.reason);
  return p.event;
};
const sha = (s: string) => createHash('sha256').update(s).digest('hex');
const stored = (o: Partial<StoredAttribution> = {}): StoredAttribution => ({ ...NO_HINTS, identityAt: null, ...o });
const line = (o: Partial<LineItem> = {}): LineItem => ({
  sku: 'prod_A', description: 'T-shirt', productId: 'prod_A', priceId: 'price_A', quantity: 1, unitAmountMinor: 2_000, amountMinor: 2_000, ...o,
});

describe('decide: checkout.session.completed', () => {
  it.each([
    {
      name: 'payment mode, several line items from the API, a promotion code, tax excluded from lines',
      given: checkoutSessionCompletedEvent({ id: 'cs_1', customer: 'cus_1', amountSubtotal: 5_000, discount: 500, tax: 450, promotionCode: 'promo_1', clientReferenceId: 'tn_click_9', paymentIntent: 'pi_1' }),
      facts: facts({ lineItems: [line(), line({ sku: 'prod_B', productId: 'prod_B', priceId: 'price_B', quantity: 3, unitAmountMinor: 1_000, amountMinor: 2_500 })], promoCodes: { promo_1: 'FALL20' } }),
      then: {
        kind: 'SALE_ONE_TIME', orderId: 'cs_1', customerId: 'cus_1', currency: 'USD', amountMinor: 4_950, taxMinor: 450, discountMinor: 500,
        attributed: true, attribution: { clickId: null, clientReferenceId: 'tn_click_9', promoCode: 'FALL20', emailSha256: sha('jenny.rosen@example.com') },
        notBefore: RECEIVED, subscriptionId: null,
      },
      lines: 2,
    },
    {
      name: 'JPY stays in yen (zero-decimal): ¥4,900 is 4900, never 49.00',
      given: checkoutSessionCompletedEvent({ id: 'cs_2', currency: 'jpy', amountSubtotal: 4_900 }),
      facts: facts({ lineItems: [line({ unitAmountMinor: 4_900, amountMinor: 4_900 })] }),
      then: { kind: 'SALE_ONE_TIME', currency: 'JPY', amountMinor: 4_900 },
      lines: 1,
    },
    {
      name: 'KWD three-decimal: 12.345 KWD is 12345',
      given: checkoutSessionCompletedEvent({ id: 'cs_3', currency: 'kwd', amountSubtotal: 12_345 }),
      facts: facts(),
      then: { currency: 'KWD', amountMinor: 12_345 },
      lines: 1,
    },
    {
      name: 'no API key: one line for the whole order, sale kept; guest with null email is unattributed',
      given: checkoutSessionCompletedEvent({ id: 'cs_4', customer: null, email: null, amountSubtotal: 3_000, discount: 1_000 }),
      facts: facts(),
      then: { customerId: null, attributed: false, attribution: { clickId: null, emailSha256: null }, amountMinor: 2_000 },
      lines: 1,
    },
  ])('$name', ({ given, facts: f, then, lines }) => {
    const { conversions } = decide(ev(given), ctx(), f);
    expect(conversions).toHaveLength(1);
    expect(conversions[0]).toMatchObject(then);
    expect(conversions[0]!.lineItems).toHaveLength(lines);
  });

  it('the fallback line is the subtotal after discounts', () => {
    const [c] = decide(ev(checkoutSessionCompletedEvent({ amountSubtotal: 3_000, discount: 1_000, tax: 100 })), ctx()).conversions;
    expect(c!.lineItems).toEqual([{ sku: 'order', description: null, productId: null, priceId: null, quantity: 1, unitAmountMinor: 3_000, amountMinor: 2_000 }]);
  });

  it('the fallback line is net of tax when the tax is inside the prices (inclusive): amount_total − amount_tax (issue 14)', () => {
    // €79 with 20 % VAT inside, a €7.90 coupon: €71.10 paid, of which €11.85 tax; €59.25 credited.
    const raw = checkoutSessionCompletedEvent({ amountSubtotal: 7_900, discount: 790 });
    Object.assign(raw.data.object, { amount_total: 7_110, total_details: { amount_discount: 790, amount_shipping: 0, amount_tax: 1_185 } });
    const [c] = decide(ev(raw), ctx()).conversions;
    expect({ net: c!.amountMinor - c!.taxMinor, lines: c!.lineItems.map((l) => l.amountMinor) }).toEqual({ net: 5_925, lines: [5_925] });
  });

  it.each([
    { name: 'subscription mode', o: { mode: 'subscription' as const } },
    { name: 'unpaid (async payment pending)', o: { paymentStatus: 'unpaid' as const } },
    { name: 'charge tracking counts the charge instead', o: {}, tracking: 'all' as const },
    { name: 'charge tracking (non-invoice) counts the charge instead', o: {}, tracking: 'non_invoice' as const },
  ])('no sale for $name, but its attribution is recorded', ({ o, tracking }) => {
    const e = ev(checkoutSessionCompletedEvent({ ...o, customer: 'cus_S', clientReferenceId: 'clk_S', metadata: { partner_key: 'pk_1' } }));
    const d = decide(e, ctx({ chargeTracking: tracking ?? 'off' }));
    expect(d.conversions).toEqual([]);
    expect(d.effects).toContainEqual(expect.objectContaining({
      type: 'attribution', key: 'cus_S', row: expect.objectContaining({ clickId: null, clientReferenceId: 'clk_S', partnerKey: 'pk_1', email: 'jenny.rosen@example.com' }),
    }));
  });

  it('async_payment_succeeded completes an unpaid session with the same id as a paid one', () => {
    const a = decide(ev(checkoutSessionCompletedEvent({ id: 'cs_async', type: 'checkout.session.async_payment_succeeded' })), ctx()).conversions[0]!;
    const b = decide(ev(checkoutSessionCompletedEvent({ id: 'cs_async' })), ctx({ eventId: 'evt_2' })).conversions[0]!;
    expect(a.conversionId).toBe(b.conversionId);
  });

  it('a guest checkout keeps its hints under the payment intent and links it to the session', () => {
    const d = decide(ev(checkoutSessionCompletedEvent({ id: 'cs_g', customer: null, paymentIntent: 'pi_g', clientReferenceId: 'clk_g' })), ctx());
    expect(d.effects).toEqual(expect.arrayContaining([
      expect.objectContaining({ type: 'attribution', key: 'pi_g' }),
      expect.objectContaining({ type: 'orderLink', ref: 'pi_g', orderId: 'cs_g', kind: 'checkout' }),
    ]));
  });
});

describe('decide: invoice lines with tax inside the price (issue 14)', () => {
  it('a line\'s inclusive tax is taken out, as its discount is: the lines sum to the sale\'s net of tax', () => {
    // $100 with 20 % tax inside, a $10 coupon: $90 paid, of which $15 tax; the line is $75.
    const raw = invoicePaidEvent({ unitAmount: 10_000, amountPaid: 9_000 });
    const inv = raw.data.object as Record<string, unknown> & { lines: { data: Record<string, unknown>[] } };
    Object.assign(inv, { tax: 1_500, total_discount_amounts: [{ amount: 1_000, discount: 'di_1' }], total_tax_amounts: [{ amount: 1_500, inclusive: true, tax_rate: 'txr_1' }] });
    Object.assign(inv.lines.data[0]!, { discount_amounts: [{ amount: 1_000, discount: 'di_1' }], tax_amounts: [{ amount: 1_500, inclusive: true, tax_rate: 'txr_1' }] });
    const [c] = decide(ev(raw), ctx()).conversions;
    expect({ net: c!.amountMinor - c!.taxMinor, lines: c!.lineItems.map((l) => l.amountMinor) }).toEqual({ net: 7_500, lines: [7_500] });
  });

  it('exclusive tax is not in the line: the line is its amount less its discount', () => {
    const raw = invoicePaidEvent({ unitAmount: 10_000, tax: 1_800, amountPaid: 10_800 });
    const inv = raw.data.object as Record<string, unknown> & { lines: { data: Record<string, unknown>[] } };
    Object.assign(inv, { total_discount_amounts: [{ amount: 1_000, discount: 'di_1' }] });
    Object.assign(inv.lines.data[0]!, { discount_amounts: [{ amount: 1_000, discount: 'di_1' }], tax_amounts: [{ amount: 1_800, inclusive: false, tax_rate: 'txr_1' }] });
    const [c] = decide(ev(raw), ctx()).conversions;
    expect({ net: c!.amountMinor - c!.taxMinor, lines: c!.lineItems.map((l) => l.amountMinor) }).toEqual({ net: 9_000, lines: [9_000] });
  });
});

describe('decide: invoices with the attribution store', () => {
  it.each([
    { name: 'own click id beats the store', clickId: 'clk_own', store: stored({ clickId: 'clk_store', partnerKey: 'pk' }), then: { clickId: 'clk_own', partnerKey: 'pk' } },
    { name: 'no click on the invoice: the customer\'s stored click', clickId: null, store: stored({ clickId: 'clk_store', email: 'a@b.c' }), then: { clickId: 'clk_store' } },
    { name: 'no hint anywhere but the invoice email', clickId: null, store: null, then: { clickId: null, emailSha256: sha('jane.doe@example.com') } },
  ])('$name', ({ clickId, store, then }) => {
    const e = ev(invoicePaidEvent({ customer: 'cus_I', clickId }));
    const [c] = decide(e, ctx(), facts({ stored: store ? { cus_I: store } : {} })).conversions;
    expect(c!.attribution).toMatchObject(then);
    expect(c!.attributed).toBe(true);
  });

  it('a sale with no hint at all is emitted and marked unattributed', () => {
    const [c] = decide(ev(invoicePaidEvent({ clickId: null, customerEmail: null })), ctx()).conversions;
    expect(c).toMatchObject({ attributed: false, attribution: { clickId: null, partnerKey: null, customerKey: null, promoCode: null, emailSha256: null } });
  });

  it.each(['legacy', 'basil'] as const)('reads the promotion code of a %s invoice discount', (shape) => {
    const raw = invoicePaidEvent({ shape });
    const inv = raw.data.object as Record<string, unknown>;
    if (shape === 'legacy') inv.discount = { id: 'di_1', object: 'discount', promotion_code: 'promo_9', coupon: { id: 'co_1' } };
    else inv.discounts = [{ id: 'di_1', object: 'discount', promotion_code: { id: 'promo_9', object: 'promotion_code', code: 'SPRING' } }];
    const [c] = decide(ev(raw), ctx(), facts({ promoCodes: { promo_9: 'SPRING' } })).conversions;
    expect(c!.attribution.promoCode).toBe('SPRING');
  });

  it('reads impact\'s seed spelling impact_Click_Id on subscription metadata (keys compared lower-cased)', () => {
    const raw = invoicePaidEvent({ clickId: null });
    (raw.data.object as { subscription_details: { metadata: Record<string, string> } }).subscription_details.metadata = { impact_Click_Id: 'IR-seed' };
    expect(decide(ev(raw), ctx()).conversions[0]!.attribution.clickId).toBe('IR-seed');
  });

  it('invoice.payment_succeeded is the sale only where chosen; the other event still records hints and links', () => {
    const e = ev(invoicePaymentSucceededEvent({ id: 'in_ps', customer: 'cus_ps' }));
    expect(decide(e, ctx({ saleTrigger: 'invoice.payment_succeeded' })).conversions).toHaveLength(1);
    const d = decide(e, ctx({ saleTrigger: 'invoice.paid' }));
    expect(d.conversions).toEqual([]);
    expect(d.effects).toContainEqual(expect.objectContaining({ type: 'orderLink', ref: 'in_ps', orderId: 'in_ps', kind: 'invoice' }));
  });

  it('with every charge tracked, an invoice is not a sale too (never counted twice)', () => {
    expect(decide(ev(invoicePaidEvent()), ctx({ chargeTracking: 'all' })).conversions).toEqual([]);
  });
});

describe('decide: charges → transactions', () => {
  const succeeded = (o: Parameters<typeof chargeEvent>[1] = {}) => ev(chargeEvent('charge.succeeded', { id: 'ch_1', customer: 'cus_C', ...o }));
  it.each([
    { name: 'tracking off: nothing', e: succeeded(), tracking: 'off' as const, f: facts(), count: 0 },
    { name: 'tracking all: one transaction', e: succeeded(), tracking: 'all' as const, f: facts(), count: 1 },
    { name: 'charge.captured of the same charge once recorded: nothing more', e: ev(chargeEvent('charge.captured', { id: 'ch_1' })), tracking: 'all' as const,
      f: facts({ transaction: { status: 'recorded', conversionId: 'cnv_x', orderId: 'ch_1', amountMinor: 2_000, currency: 'USD', sourceEventId: 'evt_0' } }), count: 0 },
    { name: 'charge.updated of an unrecorded captured charge: one transaction', e: ev(chargeEvent('charge.updated', { id: 'ch_1' })), tracking: 'all' as const, f: facts(), count: 1 },
    { name: 'an uncaptured authorisation is not money yet', e: succeeded({ captured: false }), tracking: 'all' as const, f: facts(), count: 0 },
    { name: 'a charge already failed (events out of order): nothing', e: succeeded(), tracking: 'all' as const,
      f: facts({ transaction: { status: 'failed', conversionId: null, orderId: null, amountMinor: null, currency: null, sourceEventId: 'evt_f' } }), count: 0 },
    { name: 'non_invoice, legacy charge paying an invoice: left to the invoice', e: succeeded({ invoice: 'in_1' }), tracking: 'non_invoice' as const, f: facts(), count: 0 },
    { name: 'non_invoice, legacy charge with invoice null: counted', e: succeeded({ invoice: null }), tracking: 'non_invoice' as const, f: facts(), count: 1 },
    { name: 'non_invoice, basil charge whose invoice payments name an invoice: left to the invoice', e: succeeded({ shape: 'basil' }), tracking: 'non_invoice' as const,
      f: facts({ chargeOrder: { orderId: 'in_b', kind: 'invoice', subscriptionId: 'sub_b', customerId: 'cus_C' } }), count: 0 },
    { name: 'non_invoice, basil charge of a checkout: counted', e: succeeded({ shape: 'basil' }), tracking: 'non_invoice' as const,
      f: facts({ chargeOrder: { orderId: 'cs_b', kind: 'checkout', subscriptionId: null, customerId: null } }), count: 1 },
  ])('$name', ({ e, tracking, f, count }) => {
    const d = decide(e, ctx({ chargeTracking: tracking }), f);
    expect(d.conversions).toHaveLength(count);
    if (count === 1) {
      expect(d.conversions[0]).toMatchObject({ kind: 'TRANSACTION', orderId: 'ch_1', chargeId: 'ch_1', amountMinor: 2_000, currency: 'USD' });
      expect(d.effects).toContainEqual(expect.objectContaining({ type: 'transaction', chargeId: 'ch_1', status: 'recorded', conversionId: d.conversions[0]!.conversionId }));
    }
  });

  it('PartnerStack keys from charge metadata, customer key from the store, same id from every charge event', () => {
    const f = facts({ stored: { cus_C: stored({ customerKey: 'ck_store', partnerKey: 'pk_store' }) } });
    const a = decide(succeeded({ metadata: { product_key: 'productXYZ-101', partner_key: 'pk_meta' } }), ctx({ chargeTracking: 'all' }), f).conversions[0]!;
    expect(a.attribution).toMatchObject({ productKey: 'productXYZ-101', partnerKey: 'pk_meta', customerKey: 'ck_store' });
    const b = decide(ev(chargeEvent('charge.captured', { id: 'ch_1' })), ctx({ chargeTracking: 'all', eventId: 'evt_9' }), f).conversions[0]!;
    expect(b.conversionId).toBe(a.conversionId);
  });

  it.each([
    { name: 'missing customer, nothing stored: an unattributed transaction', stored: {} as Record<string, StoredAttribution>, email: null, then: { customerId: null, attributed: false } },
    { name: 'missing customer, the guest checkout\'s hints stored under its payment intent', stored: { pi_guest: stored({ clickId: 'tn_click_guest' }) }, email: null,
      then: { customerId: null, attributed: true, attribution: expect.objectContaining({ clickId: 'tn_click_guest' }) } },
  ])('$name', ({ stored: s, email, then }) => {
    const e = ev(chargeEvent('charge.succeeded', { customer: null, paymentIntent: 'pi_guest', email }));
    const [c] = decide(e, ctx({ chargeTracking: 'all' }), facts({ stored: s })).conversions;
    expect(c).toMatchObject(then);
  });

  it('a partially captured charge counts what was captured', () => {
    const [c] = decide(succeeded({ amount: 5_000, amountCaptured: 3_000 }), ctx({ chargeTracking: 'all' })).conversions;
    expect(c!.amountMinor).toBe(3_000);
  });
});

describe('decide: charge.failed → reversal', () => {
  const recorded = facts({ transaction: { status: 'recorded', conversionId: 'cnv_t', orderId: 'ch_F', amountMinor: 2_000, currency: 'USD', sourceEventId: 'evt_0' } });
  it('reverses a recorded transaction once', () => {
    const d = decide(ev(chargeEvent('charge.failed', { id: 'ch_F' })), ctx({ chargeTracking: 'all' }), recorded);
    expect(d.conversions).toEqual([expect.objectContaining({ kind: 'REVERSAL', orderId: 'ch_F', chargeId: 'ch_F', amountMinor: 2_000, orderAmountMinor: 2_000 })]);
    expect(d.effects).toContainEqual(expect.objectContaining({ type: 'transaction', status: 'reversed' }));
    const again = decide(ev(chargeEvent('charge.failed', { id: 'ch_F' })), ctx({ chargeTracking: 'all' }), facts({ transaction: { ...recorded.transaction!, status: 'reversed' } }));
    expect(again.conversions).toEqual([]);
  });
  it('nothing recorded: no reversal, the failure is remembered', () => {
    const d = decide(ev(chargeEvent('charge.failed', { id: 'ch_F' })), ctx({ chargeTracking: 'all' }));
    expect(d.conversions).toEqual([]);
    expect(d.effects).toContainEqual(expect.objectContaining({ type: 'transaction', chargeId: 'ch_F', status: 'failed' }));
  });
});

describe('decide: charge.refunded', () => {
  const refunds = [
    { id: 're_1', amountMinor: 500, createdSec: 1_700_000_100, status: 'succeeded' },
    { id: 're_2', amountMinor: 1_500, createdSec: 1_700_000_200, status: 'succeeded' },
  ];
  const hold = RECEIVED + 3600 * 1000;

  it('partial then full: one conversion per new refund, exact amounts and running total, held', () => {
    const first = decide(ev(chargeEvent('charge.refunded', { id: 'ch_R', invoice: 'in_R', amount: 2_000, amountRefunded: 500 })), ctx(), facts({ refunds: refunds.slice(0, 1) }));
    expect(first.conversions).toEqual([expect.objectContaining({
      kind: 'REFUND_PARTIAL', refundId: 're_1', amountMinor: 500, refundedTotalMinor: 500, orderAmountMinor: 2_000, orderId: 'in_R', chargeId: 'ch_R', notBefore: hold,
    })]);
    const second = decide(ev(chargeEvent('charge.refunded', { id: 'ch_R', invoice: 'in_R', amount: 2_000, amountRefunded: 2_000 })), ctx({ eventId: 'evt_2' }),
      facts({ refunds, knownRefundKeys: new Set(['re_1']) }));
    expect(second.conversions).toEqual([expect.objectContaining({ kind: 'REFUND_FULL', refundId: 're_2', amountMinor: 1_500, refundedTotalMinor: 2_000 })]);
  });

  it('the full event processed first (out of order) emits both refunds; the late partial one adds nothing', () => {
    const late = decide(ev(chargeEvent('charge.refunded', { id: 'ch_R', amount: 2_000 })), ctx(), facts({ refunds }));
    expect(late.conversions.map((c) => [c.refundId, c.kind, c.amountMinor])).toEqual([['re_1', 'REFUND_PARTIAL', 500], ['re_2', 'REFUND_FULL', 1_500]]);
    const partial = decide(ev(chargeEvent('charge.refunded', { id: 'ch_R', amount: 2_000 })), ctx(), facts({ refunds, knownRefundKeys: new Set(['re_1', 're_2']) }));
    expect(partial.conversions).toEqual([]);
  });

  it('duplicate delivery gives the same ids', () => {
    const e = ev(chargeEvent('charge.refunded', { id: 'ch_D', refunds: [{ id: 're_D', amount: 700 }] }));
    const a = decide(e, ctx(), facts()).conversions.map((c) => c.conversionId);
    const b = decide(e, ctx({ receivedAt: RECEIVED + 5 }), facts()).conversions.map((c) => c.conversionId);
    expect(a).toHaveLength(1);
    expect(b).toEqual(a);
  });

  it('refunds in the payload (older API versions) need no API; failed refunds do not count', () => {
    const e = ev(chargeEvent('charge.refunded', { id: 'ch_P', amount: 1_000, refunds: [{ id: 're_x', amount: 1_000, status: 'failed' }, { id: 're_y', amount: 400 }] }));
    expect(decide(e, ctx()).conversions.map((c) => [c.refundId, c.kind, c.amountMinor])).toEqual([['re_y', 'REFUND_PARTIAL', 400]]);
  });

  it.each([
    { name: 'partial, from previous_attributes', amountRefunded: 300, previous: { amount_refunded: 0, refunded: false }, then: [['REFUND_PARTIAL', 300, 300]] },
    { name: 'rest, from previous_attributes', amountRefunded: 1_000, previous: { amount_refunded: 300, refunded: false }, then: [['REFUND_FULL', 700, 1_000]] },
    { name: 'no previous_attributes: everything refunded so far', amountRefunded: 1_000, previous: undefined, then: [['REFUND_FULL', 1_000, 1_000]] },
  ])('without a refund list: $name', ({ amountRefunded, previous, then }) => {
    const e = ev(chargeEvent('charge.refunded', { id: 'ch_N', amount: 1_000, amountRefunded, previousAttributes: previous }));
    const { conversions } = decide(e, ctx());
    expect(conversions.map((c) => [c.kind, c.amountMinor, c.refundedTotalMinor])).toEqual(then);
    expect(conversions[0]!.refundId).toBeNull();
  });

  it.each([
    { name: 'legacy charge.invoice names the invoice', e: chargeEvent('charge.refunded', { id: 'ch_O', invoice: 'in_O', refunds: [{ amount: 100 }] }), f: facts(), orderId: 'in_O' },
    { name: 'basil: the order found through invoice payments', e: chargeEvent('charge.refunded', { shape: 'basil', id: 'ch_O', refunds: [{ amount: 100 }] }),
      f: facts({ chargeOrder: { orderId: 'in_B', kind: 'invoice', subscriptionId: 'sub_B', customerId: 'cus_B' } }), orderId: 'in_B' },
    { name: 'the checkout behind the payment intent', e: chargeEvent('charge.refunded', { shape: 'basil', id: 'ch_O', refunds: [{ amount: 100 }] }),
      f: facts({ chargeOrder: { orderId: 'cs_O', kind: 'checkout', subscriptionId: null, customerId: null } }), orderId: 'cs_O' },
    { name: 'no order found (refund before its sale, no API key): the charge', e: chargeEvent('charge.refunded', { shape: 'basil', id: 'ch_O', refunds: [{ amount: 100 }] }), f: facts(), orderId: 'ch_O' },
  ])('original order: $name', ({ e, f, orderId }) => {
    expect(decide(ev(e), ctx(), f).conversions[0]).toMatchObject({ orderId, notBefore: hold });
  });

  // impact credits a renewal on another tracker than a first sale (seed 001): the refund must say which sale it undoes.
  const invoiceOrder = (billingReason?: string | null) => ({ orderId: 'in_S', kind: 'invoice' as const, subscriptionId: 'sub_S', customerId: 'cus_S', billingReason });
  it.each([
    { name: 'a renewal', f: facts({ chargeOrder: invoiceOrder('subscription_cycle') }), saleReason: 'subscription_cycle' },
    { name: 'a first invoice', f: facts({ chargeOrder: invoiceOrder('subscription_create') }), saleReason: 'subscription_create' },
    { name: 'an upgrade (proration invoice)', f: facts({ chargeOrder: invoiceOrder('subscription_update') }), saleReason: 'subscription_update' },
    { name: 'an invoice linked before billing reasons were stored', f: facts({ chargeOrder: invoiceOrder(undefined) }), saleReason: null },
    { name: 'a checkout (no billing reason)', f: facts({ chargeOrder: { orderId: 'cs_S', kind: 'checkout', subscriptionId: null, customerId: null, billingReason: 'ignored' } }), saleReason: null },
    { name: 'no order found', f: facts(), saleReason: null },
  ])('the refund of $name carries the sale\'s billing reason: $saleReason', ({ f, saleReason }) => {
    const e = ev(chargeEvent('charge.refunded', { shape: 'basil', id: 'ch_S', amount: 2_000, refunds: [{ id: 're_S1', amount: 500 }, { id: 're_S2', amount: 1_500 }] }));
    const d = decide(e, ctx(), f);
    expect(d.conversions.map((c) => [c.kind, c.saleReason])).toEqual([['REFUND_PARTIAL', saleReason], ['REFUND_FULL', saleReason]]);
  });

  it('links keep the billing reason: the invoice\'s own link, and a legacy charge\'s link to it', () => {
    const inv = decide(ev(invoicePaidEvent({ id: 'in_L', customer: 'cus_L', billingReason: 'subscription_cycle' })), ctx());
    expect(inv.effects).toContainEqual(expect.objectContaining({ type: 'orderLink', ref: 'in_L', kind: 'invoice', billingReason: 'subscription_cycle' }));
    const ch = decide(ev(chargeEvent('charge.succeeded', { id: 'ch_L', invoice: 'in_L' })), ctx(),
      facts({ chargeOrder: { orderId: 'in_L', kind: 'invoice', subscriptionId: 'sub_L', customerId: 'cus_L', billingReason: 'subscription_cycle' } }));
    expect(ch.effects).toContainEqual(expect.objectContaining({ type: 'orderLink', ref: 'ch_L', orderId: 'in_L', billingReason: 'subscription_cycle' }));
  });

  // Issue 14 item 5: with charge tracking, the sale was a TRANSACTION credited under the charge
  // id; its refund must name that id, or PartnerStack's DELETE 404s and Everflow reverses another order.
  const invoiceLink = { orderId: 'in_T', kind: 'invoice' as const, subscriptionId: 'sub_T', customerId: 'cus_T', billingReason: 'subscription_create', saleNetMinor: 10_000 };
  const checkoutLink = { orderId: 'cs_T', kind: 'checkout' as const, subscriptionId: null, customerId: 'cus_T', saleNetMinor: 10_000 };
  const recordedT = { status: 'recorded' as const, conversionId: 'cnv_t', orderId: 'ch_T', amountMinor: 12_000, currency: 'USD', sourceEventId: 'evt_0' };
  it.each([
    { name: 'off, an invoice\'s charge: the invoice, on its net of tax', tracking: 'off' as const, f: facts({ chargeOrder: invoiceLink }), then: { orderId: 'in_T', saleNetMinor: 10_000 } },
    { name: 'off, a Checkout\'s charge: the session, on its net of tax', tracking: 'off' as const, f: facts({ chargeOrder: checkoutLink }), then: { orderId: 'cs_T', saleNetMinor: 10_000 } },
    { name: 'off, a link stored before migration 0036: the invoice, basis unknown', tracking: 'off' as const,
      f: facts({ chargeOrder: { ...invoiceLink, saleNetMinor: undefined } }), then: { orderId: 'in_T', saleNetMinor: null } },
    { name: 'all, an invoice\'s charge with its transaction recorded: the charge, on the charge amount', tracking: 'all' as const,
      f: facts({ chargeOrder: invoiceLink, transaction: recordedT }), then: { orderId: 'ch_T', saleNetMinor: 12_000 } },
    { name: 'all, the transaction\'s bookkeeping not there: still the charge, on what it captured', tracking: 'all' as const,
      f: facts({ chargeOrder: invoiceLink }), then: { orderId: 'ch_T', saleNetMinor: 12_000 } },
    { name: 'non_invoice, an invoice\'s charge: the invoice (the charge was left to it)', tracking: 'non_invoice' as const,
      f: facts({ chargeOrder: invoiceLink }), then: { orderId: 'in_T', saleNetMinor: 10_000 } },
    { name: 'non_invoice, a Checkout\'s charge: the charge (the session is not counted)', tracking: 'non_invoice' as const,
      f: facts({ chargeOrder: checkoutLink }), then: { orderId: 'ch_T', saleNetMinor: 12_000 } },
  ])('a refund names the order its sale was credited under (issue 14 item 5): $name', ({ tracking, f, then }) => {
    const e = ev(chargeEvent('charge.refunded', { shape: 'basil', id: 'ch_T', amount: 12_000, refunds: [{ id: 're_T1', amount: 1_000 }, { id: 're_T2', amount: 11_000 }] }));
    const d = decide(e, ctx({ chargeTracking: tracking }), f);
    expect(d.conversions.map((c) => ({ kind: c.kind, orderId: c.orderId, saleNetMinor: c.saleNetMinor, orderAmountMinor: c.orderAmountMinor })))
      .toEqual([{ kind: 'REFUND_PARTIAL', ...then, orderAmountMinor: 12_000 }, { kind: 'REFUND_FULL', ...then, orderAmountMinor: 12_000 }]);
  });

  it('under charge tracking all, the refund and the transaction it undoes share the order id', () => {
    const sale = decide(ev(chargeEvent('charge.succeeded', { id: 'ch_A', invoice: 'in_A', amount: 12_000 })), ctx({ chargeTracking: 'all' }), facts()).conversions[0]!;
    const refund = decide(ev(chargeEvent('charge.refunded', { id: 'ch_A', invoice: 'in_A', amount: 12_000, refunds: [{ id: 're_A', amount: 12_000 }] })),
      ctx({ chargeTracking: 'all', eventId: 'evt_r' }), facts({ transaction: { ...recordedT, orderId: sale.orderId } })).conversions[0]!;
    expect({ sale: sale.orderId, refund: refund.orderId, basis: refund.saleNetMinor }).toEqual({ sale: 'ch_A', refund: 'ch_A', basis: 12_000 });
  });

  it.each([
    { name: 'an invoice: amount_paid net of tax (exclusive tax)', e: invoicePaidEvent({ id: 'in_N', customer: 'cus_N', unitAmount: 10_000, tax: 2_000 }), ref: 'in_N', net: 10_000 },
    { name: 'a Checkout session: amount_total net of amount_tax, after its discount', e: checkoutSessionCompletedEvent({ id: 'cs_N', paymentIntent: 'pi_N', amountSubtotal: 7_900, discount: 1_580, tax: 1_201 }),
      ref: 'pi_N', net: 6_320 },
  ])('the sale\'s order link keeps what it was credited on: $name', ({ e, ref, net }) => {
    const d = decide(ev(e), ctx());
    expect(d.effects).toContainEqual(expect.objectContaining({ type: 'orderLink', ref, saleNetMinor: net }));
    expect(d.conversions[0]!.amountMinor - d.conversions[0]!.taxMinor).toBe(net);
  });

  it('JPY refunds stay in yen', () => {
    const [c] = decide(ev(chargeEvent('charge.refunded', { currency: 'jpy', amount: 4_900, refunds: [{ amount: 4_900 }] })), ctx()).conversions;
    expect(c).toMatchObject({ currency: 'JPY', amountMinor: 4_900, kind: 'REFUND_FULL' });
  });

  it('the hold is the integration\'s', () => {
    const [c] = decide(ev(chargeEvent('charge.refunded', { refunds: [{ amount: 1 }] })), ctx({ refundHoldSeconds: 0 })).conversions;
    expect(c!.notBefore).toBe(RECEIVED);
  });
});

describe('decide: customers', () => {
  it('customer.created → identity with PartnerStack keys and click id; authoritative store write', () => {
    const e = ev(customerEvent('customer.created', { id: 'cus_N', created: 1_700_000_500, metadata: { customer_key: 'ck_1', partner_key: 'pk_1', click_id: 'clk_1' } }));
    const d = decide(e, ctx({ eventId: e.id }));
    expect(d.conversions).toEqual([expect.objectContaining({
      kind: 'CUSTOMER_IDENTITY', orderId: 'cus_N', customerId: 'cus_N', amountMinor: 0, currency: 'XXX', attributed: true,
      attribution: expect.objectContaining({ customerKey: 'ck_1', partnerKey: 'pk_1', clickId: 'clk_1', emailSha256: sha('jenny.rosen@example.com') }),
    })]);
    expect(d.effects).toEqual([expect.objectContaining({ type: 'attribution', key: 'cus_N', row: expect.objectContaining({ email: 'jenny.rosen@example.com', identityAt: 1_700_000_500 }) })]);
  });

  it.each([
    { name: 'email changed', previous: { email: 'old@example.com' }, count: 1 },
    { name: 'metadata changed', previous: { metadata: {} }, count: 1 },
    { name: 'only the default payment method changed', previous: { invoice_settings: { default_payment_method: null } }, count: 0 },
  ])('customer.updated of a customer already sent: $name → $count identity record(s)', ({ previous, count }) => {
    const sent = facts({ stored: { cus_U: stored({ identityAt: 1_600_000_000 }) } });
    expect(decide(ev(customerEvent('customer.updated', { id: 'cus_U', created: 1_700_000_900, previousAttributes: previous })), ctx(), sent).conversions).toHaveLength(count);
  });

  it('a customer with a null email is still an identity, unattributed', () => {
    const [c] = decide(ev(customerEvent('customer.created', { email: null })), ctx()).conversions;
    expect(c).toMatchObject({ attributed: false, attribution: { emailSha256: null } });
  });
});

describe('attribution store precedence (mergeStored)', () => {
  const h = (o: Partial<typeof NO_HINTS>) => ({ ...NO_HINTS, ...o });
  it.each([
    { name: 'a sale fills gaps only (first touch)', old: stored({ clickId: 'first' }), hints: h({ clickId: 'second', email: 'e@x' }), at: null, then: { clickId: 'first', email: 'e@x' } },
    { name: 'a customer event overwrites what it carries', old: stored({ clickId: 'first', email: 'old@x', identityAt: 10 }), hints: h({ email: 'new@x' }), at: 20, then: { clickId: 'first', email: 'new@x', identityAt: 20 } },
    { name: 'an older customer event delivered late only fills gaps', old: stored({ email: 'new@x', identityAt: 20 }), hints: h({ email: 'old@x', customerKey: 'ck' }), at: 10, then: { email: 'new@x', customerKey: 'ck', identityAt: 20 } },
    { name: 'nothing new: no write', old: stored({ clickId: 'a' }), hints: h({ clickId: 'a' }), at: null, then: null },
    { name: 'no hints and no identity: no write', old: null, hints: h({}), at: null, then: null },
  ])('$name', ({ old, hints, at, then }) => {
    const row = mergeStored(old, hints, at);
    if (then === null) expect(row).toBeNull();
    else expect(row).toMatchObject(then);
  });
});

describe('decide: poison and unhandled', () => {
  it.each([
    { name: 'a currency that is no ISO 4217 code', e: checkoutSessionCompletedEvent({ currency: 'dollars' }), code: 'CNV_ERR_CURRENCY' },
    { name: 'a fractional amount', e: { ...chargeEvent('charge.succeeded'), data: { object: { ...chargeEvent('charge.succeeded').data.object, amount: 19.99 } } }, code: 'CNV_ERR_CHARGE', tracking: 'all' as const },
    { name: 'an invoice without amount_paid', e: { ...invoicePaidEvent(), data: { object: { ...invoicePaidEvent().data.object, amount_paid: null } } }, code: 'CNV_ERR_INVOICE' },
  ])('$name is a MappingError ($code)', ({ e, code, tracking }) => {
    let err: unknown;
    try {
      decide(ev(e), ctx({ chargeTracking: tracking ?? 'off' }));
    } catch (x) {
      err = x;
    }
    expect(err).toBeInstanceOf(MappingError);
    expect((err as MappingError).code).toBe(code);
  });

  it.each(['customer.subscription.updated', 'payment_intent.succeeded', 'customer.deleted'])('%s maps to nothing', (type) => {
    expect(decide({ ...ev(customerEvent('customer.created')), type }, ctx())).toEqual({ conversions: [], effects: [] });
  });
});

// Issue 15, class 2: only captured money is ever refunded to a partner.
// Stripe, the Charge object (https://docs.stripe.com/api/charges/object): `captured`, `amount_captured`
// ("can be less than the amount attribute on the charge if a partial capture was made") and
// `amount_refunded`. Refunding an uncaptured charge releases the authorisation, and uncaptured
// charges that expire "are marked as refunded" (https://docs.stripe.com/api/charges/capture;
// refund reason `expired_uncaptured_charge`, https://docs.stripe.com/api/refunds/object). Capturing
// less than the authorised amount releases the rest (https://docs.stripe.com/payments/place-a-hold-on-a-payment-method),
// which Stripe records as a refund of the uncaptured remainder, counted in `amount_refunded`.
describe('decide: charge.refunded, captured money only (issue 15 class 2)', () => {
  it.each([
    {
      name: 'an uncaptured charge refunded (authorisation released), refund list in the payload (charges/object: captured false)',
      e: chargeEvent('charge.refunded', { id: 'ch_U', captured: false, refunds: [{ id: 're_rel', amount: 2_000 }] }), f: facts(),
    },
    {
      name: 'an uncaptured charge refunded, refund list from the API (refunds/object)',
      e: chargeEvent('charge.refunded', { shape: 'basil', id: 'ch_U', captured: false, amountRefunded: 2_000 }),
      f: facts({ refunds: [{ id: 're_rel', amountMinor: 2_000, createdSec: 1_700_000_100, status: 'succeeded' }] }),
    },
    {
      name: 'an uncaptured charge expired, no refund list: the delta is not captured money (charges/capture: expired ones are marked refunded)',
      e: chargeEvent('charge.refunded', { shape: 'basil', id: 'ch_U', captured: false, amountRefunded: 2_000, previousAttributes: { amount_refunded: 0, refunded: false } }), f: facts(),
    },
  ])('$name → no refund conversion, and why', ({ e, f }) => {
    const d = decide(ev(e), ctx(), f);
    expect(d.conversions).toEqual([]);
    expect(d.skipped).toMatch(/uncaptured/);
  });

  // amount 1000 authorised, 750 captured: Stripe refunds the 250 remainder at capture.
  const partial = (o: Parameters<typeof chargeEvent>[1]) =>
    ev(chargeEvent('charge.refunded', { id: 'ch_P', invoice: 'in_P', amount: 1_000, amountCaptured: 750, ...o }));
  const remainder = { id: 're_rest', amountMinor: 250, createdSec: 1_700_000_100, status: 'succeeded' };
  it.each([
    {
      name: 'the remainder released by a partial capture alone (place-a-hold-on-a-payment-method) → nothing',
      e: partial({ refunds: [{ id: 're_rest', amount: 250, created: 1_700_000_100 }] }), f: facts(), then: [],
    },
    {
      name: 'the remainder from the API (refunds list) → nothing',
      e: partial({ shape: 'basil', amountRefunded: 250 }), f: facts({ refunds: [remainder] }), then: [],
    },
    {
      name: 'a refund of captured money after the remainder → only it, against the 750 captured',
      e: partial({ shape: 'basil', amountRefunded: 550 }),
      f: facts({ refunds: [remainder, { id: 're_1', amountMinor: 300, createdSec: 1_700_000_200, status: 'succeeded' }] }),
      then: [['REFUND_PARTIAL', 're_1', 300, 300, 750]],
    },
    {
      name: 'all the captured money refunded after the remainder → one full refund of 750',
      e: partial({ refunds: [{ id: 're_rest', amount: 250, created: 1_700_000_100 }, { id: 're_all', amount: 750, created: 1_700_000_200 }] }), f: facts(),
      then: [['REFUND_FULL', 're_all', 750, 750, 750]],
    },
    {
      name: 'no refund list, the capture event: amount_refunded 0 → 250 is the remainder → nothing',
      e: partial({ shape: 'basil', amountRefunded: 250, previousAttributes: { amount_refunded: 0 } }), f: facts(), then: [],
    },
    {
      name: 'no refund list, the rest refunded later: 250 → 1000 is 750 of captured money, refunded in full',
      e: partial({ shape: 'basil', amountRefunded: 1_000, previousAttributes: { amount_refunded: 250 } }), f: facts(),
      then: [['REFUND_FULL', null, 750, 750, 750]],
    },
  ])('partial capture: $name', ({ e, f, then }) => {
    const d = decide(e, ctx(), f);
    expect(d.conversions.map((c) => [c.kind, c.refundId, c.amountMinor, c.refundedTotalMinor, c.orderAmountMinor])).toEqual(then);
  });
});

// Issue 15, class 3: PartnerStack creates or updates its customer on every customer.created /
// customer.updated (https://docs.partnerstack.com/docs/stripe-payment-tracking), so a customer the
// mapper has never sent (created before the integration was connected) must be sent on its first
// update, whatever changed. Stripe's customer.updated names what changed in
// data.previous_attributes (https://docs.stripe.com/api/events/object#event_object-data-previous_attributes).
// "Already sent" is the store's identityAt: the event time of the customer event last applied.
describe('decide: customer.updated of a customer never sent (issue 15 class 3)', () => {
  const onlyPaymentMethod = { invoice_settings: { default_payment_method: null } };
  it.each([
    { name: 'nothing stored for the customer', store: {} as Record<string, StoredAttribution> },
    { name: 'hints stored by a sale, but no customer event applied (identityAt null)', store: { cus_F: stored({ clickId: 'clk_sale', identityAt: null }) } },
    { name: 'identityAt is this event\'s own time (this event replayed, or applied in the same second)', store: { cus_F: stored({ identityAt: 1_700_000_900 }) } },
  ])('$name → one identity record, though only the payment method changed', ({ store }) => {
    const e = ev(customerEvent('customer.updated', { id: 'cus_F', created: 1_700_000_900, metadata: { customer_key: 'ck_F' }, previousAttributes: onlyPaymentMethod }));
    const d = decide(e, ctx({ eventId: e.id }), facts({ stored: store }));
    expect(d.conversions).toEqual([expect.objectContaining({ kind: 'CUSTOMER_IDENTITY', customerId: 'cus_F', attribution: expect.objectContaining({ customerKey: 'ck_F' }) })]);
  });
});

// Issue 15, class 4: before `amount_paid` existed (it reached the Invoice object in 2018), a paid
// invoice said `paid: true` and "the charge that gets generated for the invoice will be for the
// amount specified in amount_due" (Invoice object of those versions, https://stripe.com/docs/api#invoice_object,
// 2015–2017). Lines carried a `plan` (https://docs.stripe.com/changelog/2020-08-27 moved it to `price`).
const invoice2016 = (o: { amountDue?: number; total?: number; startingBalance?: number; currency?: string } = {}) => ({
  id: 'evt_old_inv', object: 'event', api_version: '2016-07-06', created: 1_470_000_000, livemode: false, pending_webhooks: 1, request: null,
  type: 'invoice.payment_succeeded',
  data: {
    object: {
      id: 'in_old', object: 'invoice', amount_due: o.amountDue ?? 2_000, application_fee: null, attempt_count: 1, attempted: true,
      charge: 'ch_old', closed: true, currency: o.currency ?? 'usd', customer: 'cus_old', date: 1_469_999_000, description: null, discount: null,
      ending_balance: 0, forgiven: false, livemode: false, metadata: {}, next_payment_attempt: null, paid: true,
      period_end: 1_469_999_000, period_start: 1_467_320_600, receipt_number: null, starting_balance: o.startingBalance ?? 0,
      statement_descriptor: null, subscription: 'sub_old', subtotal: o.total ?? 2_000, tax: null, tax_percent: null, total: o.total ?? 2_000,
      webhooks_delivered_at: 1_469_999_100,
      lines: {
        object: 'list', total_count: 1, has_more: false, url: '/v1/invoices/in_old/lines',
        data: [{
          id: 'sub_old', object: 'line_item', amount: o.total ?? 2_000, currency: o.currency ?? 'usd', description: null, discountable: true, livemode: false,
          metadata: {}, period: { start: 1_469_999_000, end: 1_472_677_400 }, proration: false, quantity: 1, subscription: null, type: 'subscription',
          plan: { id: 'gold', object: 'plan', amount: o.total ?? 2_000, created: 1_460_000_000, currency: o.currency ?? 'usd', interval: 'month', interval_count: 1, livemode: false, metadata: {}, name: 'Gold', statement_descriptor: null, trial_period_days: null },
        }],
      },
    },
  },
});
describe('decide: paid invoices of API versions before amount_paid (issue 15 class 4)', () => {
  it.each([
    { name: '2016-07-06 shape, paid: amount_due is what was charged', given: invoice2016(), amount: 2_000 },
    { name: 'customer credit applied (starting_balance −500): amount_due 1500 was charged, not total 2000', given: invoice2016({ startingBalance: -500, amountDue: 1_500 }), amount: 1_500 },
    { name: 'zero-decimal JPY: ¥4,900 stays 4900', given: invoice2016({ amountDue: 4_900, total: 4_900, currency: 'jpy' }), amount: 4_900 },
  ])('$name', ({ given, amount }) => {
    const [c] = decide(ev(given), ctx({ saleTrigger: 'invoice.payment_succeeded', eventId: given.id })).conversions;
    expect(c).toMatchObject({ orderId: 'in_old', customerId: 'cus_old', subscriptionId: 'sub_old', amountMinor: amount, chargeId: 'ch_old' });
    expect(c!.lineItems).toEqual([expect.objectContaining({ sku: 'gold', priceId: 'gold', quantity: 1 })]);
  });
});

// Issue 15, class 5: the oldest charge shape. Before 2015-02-18 a successful charge had status
// `paid` (https://docs.stripe.com/changelog/2015-02-18/charges-succeed-have-succeeded-status), and
// the oldest payloads carry no `status` at all, only `paid: true` ("true if the charge succeeded,
// or was successfully authorized for later capture", https://docs.stripe.com/api/charges/object)
// with `captured`; `amount_captured` did not exist yet.
const oldestCharge = (o: { status?: string; invoice?: string | null } = {}) => ({
  id: 'evt_old_ch', object: 'event', created: 1_400_000_000, livemode: false, pending_webhooks: 1, request: null, type: 'charge.succeeded',
  data: {
    object: {
      id: 'ch_old', object: 'charge', created: 1_400_000_000, livemode: false, paid: true, amount: 2_000, currency: 'usd', refunded: false,
      card: { id: 'card_old', object: 'card', last4: '4242', brand: 'Visa', exp_month: 8, exp_year: 2016 }, captured: true, refunds: [],
      balance_transaction: 'txn_old', failure_message: null, failure_code: null, amount_refunded: 0, customer: 'cus_old',
      invoice: o.invoice === undefined ? null : o.invoice, description: null, dispute: null, metadata: {}, statement_description: null, receipt_email: null,
      ...(o.status ? { status: o.status } : {}),
    },
  },
});
describe('decide: charges in the oldest shapes (issue 15 class 5)', () => {
  it.each([
    { name: 'no status, paid: true, captured: true (charges/object)', given: oldestCharge(), tracking: 'all' as const },
    { name: 'status "paid" (before 2015-02-18)', given: oldestCharge({ status: 'paid' }), tracking: 'all' as const },
    { name: 'no status, paying no invoice, non_invoice tracking', given: oldestCharge({ invoice: null }), tracking: 'non_invoice' as const },
  ])('$name → one transaction of the charge amount', ({ given, tracking }) => {
    const d = decide(ev(given), ctx({ chargeTracking: tracking, eventId: given.id }));
    expect(d.conversions).toEqual([expect.objectContaining({ kind: 'TRANSACTION', orderId: 'ch_old', chargeId: 'ch_old', customerId: 'cus_old', amountMinor: 2_000, currency: 'USD' })]);
  });
});

describe('decide: every attribution identifier by its source (issue 15, class 1)', () => {
  const none = { clickId: null, impactClickId: null, tracknowClickId: null, everflowTransactionId: null, clientReferenceId: null };
  it.each([
    {
      name: 'metadata impact click + client_reference_id: both kept, each by its source; clickId is never the client reference',
      given: checkoutSessionCompletedEvent({ metadata: { impact_click_id: 'IR_1' }, clientReferenceId: 'tn_9' }),
      then: { ...none, clickId: 'IR_1', impactClickId: 'IR_1', clientReferenceId: 'tn_9' },
    },
    {
      name: 'a client_reference_id alone (a merchant user id) is not a click',
      given: checkoutSessionCompletedEvent({ clientReferenceId: 'user_42' }),
      then: { ...none, clientReferenceId: 'user_42' },
    },
    {
      name: 'impact, Tracknow and Everflow clicks in one metadata: all three',
      given: checkoutSessionCompletedEvent({ metadata: { irclickid: 'IR_2', tn_click_id: 'tn_2', ef_transaction_id: 'ef_2' } }),
      then: { ...none, clickId: 'IR_2', impactClickId: 'IR_2', tracknowClickId: 'tn_2', everflowTransactionId: 'ef_2' },
    },
    {
      name: "Tracknow's own parameter name click_id is Tracknow's click",
      given: checkoutSessionCompletedEvent({ metadata: { click_id: 'tn_3' } }),
      then: { ...none, clickId: 'tn_3', tracknowClickId: 'tn_3' },
    },
    {
      name: 'a bare transaction_id (a payment id in many shops) is not an Everflow transaction id',
      given: checkoutSessionCompletedEvent({ metadata: { transaction_id: 'txn_shop_1' } }),
      then: { ...none },
    },
  ])('$name', ({ given, then }) => {
    const [c] = decide(ev(given), ctx()).conversions;
    expect(c!.attribution).toMatchObject(then);
  });

  it('an invoice with an impact click keeps the Tracknow click its subscription checkout stored', () => {
    const store = { cus_I: stored({ clientReferenceId: 'tn_sub', tracknowClickId: 'tn_meta' }) };
    const [c] = decide(ev(invoicePaidEvent({ customer: 'cus_I', clickId: 'IR_inv' })), ctx(), facts({ stored: store })).conversions;
    expect(c!.attribution).toMatchObject({ clickId: 'IR_inv', impactClickId: 'IR_inv', tracknowClickId: 'tn_meta', clientReferenceId: 'tn_sub', everflowTransactionId: null });
  });

  it('a subscription checkout stores each identifier by its source for the invoice that follows', () => {
    const d = decide(ev(checkoutSessionCompletedEvent({ mode: 'subscription', customer: 'cus_S', clientReferenceId: 'user_42', metadata: { impact_click_id: 'IR_s' } })), ctx());
    expect(d.effects).toContainEqual(expect.objectContaining({
      type: 'attribution', key: 'cus_S', row: expect.objectContaining({ clickId: null, impactClickId: 'IR_s', clientReferenceId: 'user_42' }),
    }));
  });
});

