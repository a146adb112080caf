import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { Conversion } from '@sas/contracts';
import { aConversion, aDestination } from '../testConversion.js';
import { isSkip, isUnsendable, type BuildResult, type PartnerRequest } from '../partnerRequest.js';
import { partnerstackRequest } from './partnerstack.js';
import { everflowRequest } from './everflow.js';
import { tracknowRequest } from './tracknow.js';
import { signWebhook, webhookRequest } from './webhook.js';
import { everflowAdapter } from './everflow.js';
import { partnerstackAdapter } from './partnerstack.js';

const ctx = { nowMs: Date.UTC(2025, 10, 24, 16, 5, 0), email: 'jane@example.com' };
const req = (r: BuildResult): PartnerRequest => {
  if (isSkip(r)) throw new Error(`skipped: ${r.skip}`);
  if (isUnsendable(r)) throw new Error(`unsendable: ${r.invalid}`);
  return r;
};
const query = (r: BuildResult) => Object.fromEntries(new URL(req(r).url).searchParams);
const jsonOf = (r: BuildResult) => JSON.parse(req(r).body ?? 'null');
const outcome = (r: BuildResult) => (isSkip(r) ? `skip: ${r.skip}` : isUnsendable(r) ? `invalid: ${r.invalid}` : 'request');

describe('PartnerStack (seed 002, partner-apis.md)', () => {
  const d = aDestination('partnerstack', { publicKey: 'pub', baseUrl: 'https://ps.test/api/v2' }, { secretKey: 'sec' });
  const noEmail = { ...ctx, email: null };
  const byCharge = aDestination('partnerstack', { publicKey: 'pub', baseUrl: 'https://ps.test/api/v2', trackBy: 'charge' }, { secretKey: 'sec' });

  it.each([
    { name: 'first invoice → transaction in integer cents, net of tax, key = invoice id', c: aConversion({ amountMinor: 5_880, taxMinor: 980 }),
      then: { method: 'POST', path: '/api/v2/transactions', body: { customer_external_key: 'cus_9', amount: 4_900, currency: 'USD', key: 'in_123', metadata: { conversion_id: 'cnv_1', stripe_event_id: 'evt_1', subscription_id: 'sub_1' } } } },
    { name: 'JPY: whole yen, no ×100 (minor unit of a zero-decimal currency)', c: aConversion({ currency: 'JPY', amountMinor: 4_900 }),
      then: { method: 'POST', path: '/api/v2/transactions', body: { customer_external_key: 'cus_9', amount: 4_900, currency: 'JPY', key: 'in_123', metadata: { conversion_id: 'cnv_1', stripe_event_id: 'evt_1', subscription_id: 'sub_1' } } } },
    { name: 'the merchant\'s customer_key and product_key win', c: aConversion({ attribution: { ...aConversion().attribution, customerKey: 'user-42', productKey: 'productXYZ-101' } }),
      then: { method: 'POST', path: '/api/v2/transactions', body: { customer_external_key: 'user-42', amount: 4_900, currency: 'USD', key: 'in_123', product_key: 'productXYZ-101', metadata: { conversion_id: 'cnv_1', stripe_event_id: 'evt_1', subscription_id: 'sub_1' } } } },
    { name: 'customer identity → customer with the plain email from the attribution store', c: aConversion({ kind: 'CUSTOMER_IDENTITY', orderId: 'cus_9' }),
      then: { method: 'POST', path: '/api/v2/customers', body: { customer_key: 'cus_9', email: 'jane@example.com', partner_key: 'pk_1', provider_key: 'cus_9', meta: { stripe_customer_id: 'cus_9' } } } },
    { name: 'partial refund → a negative transaction of its own, keyed by the refund', c: aConversion({ kind: 'REFUND_PARTIAL', refundId: 're_1', amountMinor: 1_000, orderAmountMinor: 4_900, refundedTotalMinor: 1_000 }),
      then: { method: 'POST', path: '/api/v2/transactions', body: { customer_external_key: 'cus_9', amount: -1_000, currency: 'USD', key: 'in_123:refund:re_1', metadata: { conversion_id: 'cnv_1', stripe_event_id: 'evt_1', subscription_id: 'sub_1' } } } },
    { name: 'full refund → the transaction is deleted, as PartnerStack\'s own Stripe integration does', c: aConversion({ kind: 'REFUND_FULL', refundId: 're_2' }),
      then: { method: 'DELETE', path: '/api/v2/transactions/in_123', body: null } },
    { name: 'failed charge (reversal) → deleted, on a destination tracking charges', c: aConversion({ kind: 'REVERSAL', orderId: 'ch_1234' }), dest: byCharge,
      then: { method: 'DELETE', path: '/api/v2/transactions/ch_1234', body: null } },
    { name: 'a refund of the whole order at once (REFUND_FULL) → deleted', c: aConversion({ kind: 'REFUND_FULL', refundId: 're_2', amountMinor: 4_900, orderAmountMinor: 4_900, refundedTotalMinor: 4_900 }),
      then: { method: 'DELETE', path: '/api/v2/transactions/in_123', body: null } },
    { name: 'a partial refund of the whole amount at once → deleted', c: aConversion({ kind: 'REFUND_PARTIAL', refundId: 're_2', amountMinor: 4_900, orderAmountMinor: 4_900, refundedTotalMinor: 4_900 }),
      then: { method: 'DELETE', path: '/api/v2/transactions/in_123', body: null } },
    // A DELETE would leave the earlier negative transactions standing (−Σ partials): the rest is one more negative transaction.
    { name: 'the refund completing earlier partial ones → a negative transaction of its own amount, keyed by the refund', c: aConversion({ kind: 'REFUND_FULL', refundId: 're_3', amountMinor: 3_000, orderAmountMinor: 4_900, refundedTotalMinor: 4_900 }),
      then: { method: 'POST', path: '/api/v2/transactions', body: { customer_external_key: 'cus_9', amount: -3_000, currency: 'USD', key: 'in_123:refund:re_3', metadata: { conversion_id: 'cnv_1', stripe_event_id: 'evt_1', subscription_id: 'sub_1' } } } },
    { name: 'the same, sent as a partial refund that reaches the order amount', c: aConversion({ kind: 'REFUND_PARTIAL', refundId: 're_3', amountMinor: 3_000, orderAmountMinor: 4_900, refundedTotalMinor: 4_900 }),
      then: { method: 'POST', path: '/api/v2/transactions', body: { customer_external_key: 'cus_9', amount: -3_000, currency: 'USD', key: 'in_123:refund:re_3', metadata: { conversion_id: 'cnv_1', stripe_event_id: 'evt_1', subscription_id: 'sub_1' } } } },
  ])('$name', ({ c, then, ...o }) => {
    const r = req(partnerstackRequest(c, ('dest' in o ? o.dest : undefined) ?? d, ctx));
    expect({ method: r.method, path: new URL(r.url).pathname, body: r.body === null ? null : JSON.parse(r.body) }).toEqual(then);
    expect(r.headers.authorization).toBe(`Basic ${Buffer.from('pub:sec').toString('base64')}`);
  });

  // Stripe does not order webhooks (docs.stripe.com/webhooks#event-ordering): a sale mapped before its
  // customer.created carries no customerKey, while the identity created the PartnerStack customer under
  // PartnerStackJS's key (post_v2-customers-1). The transaction must name that customer
  // (customer_external_key, post_v2-transactions), read from the store on each attempt.
  it('a transaction names the customer by the store\'s current customer key, even when its conversion was mapped without one', () => {
    const early = aConversion({ attribution: { ...aConversion().attribution, customerKey: null } });
    expect(partnerstackAdapter.needsEmail(early, d)).toBe(true);
    expect(jsonOf(partnerstackRequest(early, d, { ...ctx, customerKey: 'user-42' }))).toMatchObject({ customer_external_key: 'user-42' });
    expect(jsonOf(partnerstackRequest(early, d, { ...ctx, customerKey: null }))).toMatchObject({ customer_external_key: 'cus_9' });
    const refund = aConversion({ kind: 'REFUND_PARTIAL', refundId: 're_1', amountMinor: 1_000, orderAmountMinor: 4_900, refundedTotalMinor: 1_000, attribution: early.attribution });
    expect(partnerstackAdapter.needsEmail(refund, d)).toBe(true);
    expect(jsonOf(partnerstackRequest(refund, d, { ...ctx, customerKey: 'user-42' }))).toMatchObject({ customer_external_key: 'user-42', amount: -1_000 });
    // The identity and the transaction name one customer.
    const identity = aConversion({ kind: 'CUSTOMER_IDENTITY', attribution: { ...aConversion().attribution, customerKey: 'user-42' } });
    expect(jsonOf(partnerstackRequest(identity, d, { ...ctx, customerKey: 'user-42' }))).toMatchObject({ customer_key: 'user-42' });
  });

  it.each([
    { name: 'identity without a partner', c: aConversion({ kind: 'CUSTOMER_IDENTITY', attribution: { ...aConversion().attribution, partnerKey: null } }), e: ctx, then: /^skip: .*partner_key/ },
    { name: 'identity whose email the store lacks', c: aConversion({ kind: 'CUSTOMER_IDENTITY' }), e: noEmail, then: /^invalid: .*email/ },
    { name: 'charge-based TRANSACTION on an invoice-tracking destination', c: aConversion({ kind: 'TRANSACTION' }), e: ctx, then: /^skip: .*tracks by invoice/ },
    { name: 'a failed charge\'s reversal on an invoice-tracking destination (it never had the charge)', c: aConversion({ kind: 'REVERSAL', orderId: 'ch_1234' }), e: ctx, then: /^skip: .*tracks by invoice/ },
    { name: 'no customer at all: customer_email from the store', c: aConversion({ customerId: null }), e: ctx, then: /^request$/ },
  ])('$name', ({ c, e, then }) => expect(outcome(partnerstackRequest(c, d, e))).toMatch(then));

  it('partial refunds and the one completing them sum to the sale: PartnerStack ends at paid − refunded = 0', () => {
    const refunds = [
      aConversion({ kind: 'REFUND_PARTIAL', refundId: 're_1', amountMinor: 900, orderAmountMinor: 4_900, refundedTotalMinor: 900 }),
      aConversion({ kind: 'REFUND_PARTIAL', refundId: 're_2', amountMinor: 1_000, orderAmountMinor: 4_900, refundedTotalMinor: 1_900 }),
      aConversion({ kind: 'REFUND_FULL', refundId: 're_3', amountMinor: 3_000, orderAmountMinor: 4_900, refundedTotalMinor: 4_900 }),
    ];
    const bodies = [aConversion(), ...refunds].map((c) => req(partnerstackRequest(c, d, ctx))).map((r) => ({ method: r.method, ...(r.body ? JSON.parse(r.body) : {}) }));
    expect(bodies.every((b) => b.method === 'POST')).toBe(true);
    expect(new Set(bodies.map((b) => b.key)).size).toBe(4);
    expect(bodies.reduce((s, b) => s + b.amount, 0)).toBe(0);
  });

  // docs.partnerstack.com/reference/post_v2-customers-1 (customer_key = the external key we set) and
  // post_v2-transactions (customer_external_key = that key; customer_key = PartnerStack's own): one customer, one field.
  it.each([
    { name: 'merchant key', attribution: { ...aConversion().attribution, customerKey: 'user-42' } },
    { name: 'Stripe customer id', attribution: aConversion().attribution },
  ])('a sale names its customer by the key our identity created it with ($name), in exactly one field', ({ attribution }) => {
    const identity = jsonOf(partnerstackRequest(aConversion({ kind: 'CUSTOMER_IDENTITY', attribution }), d, ctx));
    const sale = jsonOf(partnerstackRequest(aConversion({ attribution }), d, ctx));
    expect(sale.customer_external_key).toBe(identity.customer_key);
    expect(['customer_key', 'customer_external_key', 'customer_email'].filter((k) => k in sale)).toEqual(['customer_external_key']);
  });

  it('no customer id or key: the customer is named by customer_email alone', () => {
    const sale = jsonOf(partnerstackRequest(aConversion({ customerId: null }), d, ctx));
    expect(['customer_key', 'customer_external_key', 'customer_email'].filter((k) => k in sale)).toEqual(['customer_email']);
    expect(sale.customer_email).toBe('jane@example.com');
  });

  it('short order ids are padded to the 4-character minimum key', () => {
    expect(jsonOf(partnerstackRequest(aConversion({ orderId: 'x1' }), d, ctx)).key).toBe('order_x1');
  });

  it.each([
    { status: 409, method: 'POST', reached: false, then: { ok: true, duplicate: true } },
    { status: 404, method: 'DELETE', reached: true, then: { ok: true, duplicate: true } },
    { status: 404, method: 'DELETE', reached: false, then: { ok: false, retriable: true } },
    { status: 404, method: 'POST', reached: true, then: { ok: false, retriable: true } },
    { status: 400, method: 'POST', reached: false, then: { ok: false, retriable: false } },
  ] as const)('classifies $status on $method (earlier attempt may have reached: $reached)', ({ status, method, reached, then }) => {
    const r = { action: 'credit', method, url: 'https://x', headers: {}, body: null } as const;
    expect(partnerstackAdapter.classify({ status, body: '{}', retryAfter: null }, r, { mayHaveReached: reached })).toMatchObject(then);
  });
});

describe('Everflow (seed 004, partner-apis.md)', () => {
  const d = aDestination('everflow', { trackingDomain: 'track.example.com', nid: '12', recurringEventId: '5' }, { verificationToken: 'vt' });
  const withEmail = aDestination('everflow', { trackingDomain: 'track.example.com', nid: '12', emailAttribution: true, recurringEventId: '5' }, {});

  it.each([
    { name: 'first sale by transaction id', c: aConversion(), dest: d,
      then: { path: '/', q: { nid: '12', transaction_id: 'clk_1', amount: '49.00', currency: 'USD', order_id: 'in_123', adv1: 'cnv_1', verification_token: 'vt' } } },
    { name: 'rebill → the offer\'s re-bill event', c: aConversion({ kind: 'SALE_RECURRING', orderId: 'in_2' }), dest: d,
      then: { path: '/', q: { nid: '12', transaction_id: 'clk_1', adv_event_id: '5', amount: '49.00', currency: 'USD', order_id: 'in_2', adv1: 'cnv_1', verification_token: 'vt' } } },
    { name: 'rebill without a click: email attribution with the plain email', c: aConversion({ kind: 'SALE_RECURRING', attribution: { ...aConversion().attribution, clickId: null } }), dest: withEmail,
      then: { path: '/', q: { nid: '12', email: 'jane@example.com', adv_event_id: '5', amount: '49.00', currency: 'USD', order_id: 'in_123', adv1: 'cnv_1' } } },
    { name: 'KWD: three decimals', c: aConversion({ currency: 'KWD', amountMinor: 4_900 }), dest: d,
      then: { path: '/', q: { nid: '12', transaction_id: 'clk_1', amount: '4.900', currency: 'KWD', order_id: 'in_123', adv1: 'cnv_1', verification_token: 'vt' } } },
    { name: 'full refund → reversal postback by order id', c: aConversion({ kind: 'REFUND_FULL', refundId: 're_1' }), dest: d,
      then: { path: '/reversal', q: { order_id: 'in_123', verification_token: 'vt' } } },
  ])('$name', ({ c, dest, then }) => {
    const r = req(everflowRequest(c, dest, ctx));
    expect({ path: new URL(r.url).pathname, q: query(r) }).toEqual(then);
    expect(new URL(r.url).host).toBe('track.example.com');
  });

  it('without the network id (nid and transaction_id are the minimum of a postback) the sale is refused naming the setting', () => {
    expect(() => everflowRequest(aConversion(), aDestination('everflow', { trackingDomain: 'track.example.com' }), ctx)).toThrow('destination dst_everflow: setting "nid" is required');
  });

  it.each([
    { name: 'no click and no email attribution', c: aConversion({ attribution: { ...aConversion().attribution, clickId: null } }), then: /^skip: .*transaction id/ },
  ])('skips: $name', ({ c, then }) => expect(outcome(everflowRequest(c, d, ctx))).toMatch(then));

  // No partial reversal exists: a partial refund is dead-lettered with what to adjust by hand, not skipped unseen.
  it.each([
    { name: 'partial refund', c: aConversion({ kind: 'REFUND_PARTIAL', refundId: 're_1', amountMinor: 100, orderAmountMinor: 4_900, refundedTotalMinor: 100 }),
      then: 'invalid: everflow: partial refund not sent, Everflow has no partial reversal postback (the reversal voids the whole conversion); adjust order in_123 by hand (refunded 1.00 USD of 49.00 USD, this refund 1.00 USD; Everflow UI or Network API conversion update: sale amount and payout/revenue of the order\'s conversion)' },
    { name: 'partial refund in JPY', c: aConversion({ kind: 'REFUND_PARTIAL', refundId: 're_1', currency: 'jpy', amountMinor: 900, orderAmountMinor: 4_900, refundedTotalMinor: 1_900 }),
      then: expect.stringMatching(/^invalid: .*refunded 1900 JPY of 4900 JPY, this refund 900 JPY/) },
    { name: 'partial refund without the order amount', c: aConversion({ kind: 'REFUND_PARTIAL', refundId: 're_1', amountMinor: 100, orderAmountMinor: null, refundedTotalMinor: null }),
      then: expect.stringMatching(/^invalid: .*refunded unknown of unknown, this refund 1.00 USD/) },
  ])('dead-letters: $name', ({ c, then }) => {
    expect(everflowAdapter.skipReason(c, d)).toBeNull();
    expect(outcome(everflowRequest(c, d, ctx))).toEqual(then);
  });

  it('a partial refund that brings the refunded total to the order amount reverses the conversion', () => {
    const c = aConversion({ kind: 'REFUND_PARTIAL', refundId: 're_2', amountMinor: 4_800, orderAmountMinor: 4_900, refundedTotalMinor: 4_900 });
    const r = req(everflowRequest(c, d, ctx));
    expect({ path: new URL(r.url).pathname, q: query(r) }).toEqual({ path: '/reversal', q: { order_id: 'in_123', verification_token: 'vt' } });
  });

  // Allow Duplicate Conversions (the default, seed 004) → Everflow does not dedupe; off → it answers error 8 to a resend.
  it.each([
    { name: 'bodyless 204 on a first try: not recorded', status: 204, body: '', reached: false, dedupes: false, then: { ok: false, retriable: false } },
    { name: 'bodyless 204 to a resend, duplicates allowed: a rejection, not our duplicate', status: 204, body: '', reached: true, dedupes: false, then: { ok: false, retriable: false } },
    { name: 'bodyless 204 to a resend, duplicates rejected: our duplicate (error 8)', status: 204, body: '', reached: true, dedupes: true, then: { ok: true, duplicate: true } },
    { name: '200 with a conversion id', status: 200, body: '{"conversion_id":"c1"}', reached: false, dedupes: false, then: { ok: true, partnerRef: 'c1' } },
    { name: '200 saying failure', status: 200, body: '{"result":"failure","error":"x"}', reached: false, dedupes: false, then: { ok: false, retriable: false } },
    { name: '200 naming error 3 (advertiser whitelist, IP): a failure with the documented reason', status: 200, body: '{"error_code":3,"error_message":"blocked"}', reached: false, dedupes: false,
      then: { ok: false, retriable: false, error: 'everflow rejected the conversion, error 3 (advertiser whitelist (IP)): blocked' } },
    { name: '200 naming error 8 to a first try: a failure', status: 200, body: '{"error_code":"8"}', reached: false, dedupes: true,
      then: { ok: false, retriable: false, error: 'everflow rejected the conversion, error 8 (duplicate conversion)' } },
    { name: '200 naming error 8 to a resend where Everflow dedupes: our duplicate', status: 200, body: '{"error_code":8}', reached: true, dedupes: true, then: { ok: true, duplicate: true } },
    { name: '429', status: 429, body: '', reached: false, dedupes: false, then: { ok: false, retriable: true } },
  ])('classifies $name', ({ status, body, reached, dedupes, then }) => {
    const r = { action: 'credit', method: 'GET', url: 'https://x', headers: {}, body: null } as const;
    expect(everflowAdapter.classify({ status, body, retryAfter: null }, r, { mayHaveReached: reached, partnerDedupes: dedupes })).toMatchObject(then);
  });

  // A reversal voids the conversion once; its resend finds nothing left, whatever the duplicate setting.
  it.each([
    { reached: true, then: { ok: true, duplicate: true } },
    { reached: false, then: { ok: false, retriable: false } },
  ])('a bodyless answer to a reversal (earlier attempt may have reached: $reached), duplicates allowed', ({ reached, then }) => {
    const r = { action: 'refund', method: 'GET', url: 'https://x/reversal?order_id=in_1', headers: {}, body: null } as const;
    expect(everflowAdapter.classify({ status: 204, body: '', retryAfter: null }, r, { mayHaveReached: reached, partnerDedupes: false })).toMatchObject(then);
  });
});

describe('Tracknow (seed 003; docs.tracknow.io postback-integration, supported-parameters, payouts/lifetime-payout)', () => {
  const d = aDestination('tracknow', { namespace: 'acme', campaignId: '7', goal: 'sale', recurringGoal: 'rebill' });
  it.each([
    // docs.tracknow.io/payouts/lifetime-payout: a new customer is new_customer=true with its customer_id.
    { name: 'first sale: new_customer=true with customer_id (lifetime association)', c: aConversion({ amountMinor: 5_880, taxMinor: 980 }), then: { click_id: 'clk_1', campaign_id: '7', order_id: 'in_123', amount: '49.00', currency: 'USD', customer_id: 'cus_9', new_customer: 'true', goal: 'sale' } },
    // Only `true` is documented: a renewal leaves new_customer out rather than send an undocumented 0/false.
    { name: 'renewal with a coupon: no new_customer', c: aConversion({ kind: 'SALE_RECURRING', attribution: { ...aConversion().attribution, promoCode: 'SPRING' } }), then: { click_id: 'clk_1', campaign_id: '7', order_id: 'in_123', amount: '49.00', currency: 'USD', customer_id: 'cus_9', coupon: 'SPRING', goal: 'rebill' } },
    { name: 'JPY, no customer: no lifetime association to make, so no new_customer', c: aConversion({ currency: 'JPY', amountMinor: 4_900, customerId: null }), then: { click_id: 'clk_1', campaign_id: '7', order_id: 'in_123', amount: '4900', currency: 'JPY', goal: 'sale' } },
  ])('$name', ({ c, then }) => {
    const r = req(tracknowRequest(c, d));
    expect(r.url.startsWith('https://acme-tracking.tracknow.info/postback?')).toBe(true);
    expect(query(r)).toEqual(then);
  });
  it.each([
    { c: aConversion({ attribution: { ...aConversion().attribution, clickId: null } }), then: /click_id/ },
    { c: aConversion({ kind: 'REFUND_FULL' }), then: /no refund/ },
  ])('skips $c.kind without what Tracknow needs', ({ c, then }) => expect(outcome(tracknowRequest(c, d))).toMatch(then));
  it('without a campaign id (every documented postback carries campaign_id) the sale is refused naming the setting', () => {
    // buildRequest turns this DestinationConfigError into a dead letter with the same words.
    expect(() => tracknowRequest(aConversion(), aDestination('tracknow', { namespace: 'acme' }))).toThrow('destination dst_tracknow: setting "campaignId" is required');
  });
});

describe('generic webhook', () => {
  const secret = 'whsec_' + Buffer.from('0123456789abcdef0123456789abcdef').toString('base64');
  const d = aDestination('webhook', { url: 'https://hooks.example.com/in' }, { signingSecret: secret });
  it('posts the conversion as JSON, signed over id.timestamp.body with the decoded whsec_ key', () => {
    const r = req(webhookRequest(aConversion(), d, ctx));
    const ts = String(Math.floor(ctx.nowMs / 1000));
    expect(r.headers['webhook-timestamp']).toBe(ts);
    expect(r.headers['webhook-id']).toMatch(/^msg_[0-9a-f]{32}$/);
    expect(r.headers['webhook-signature']).toBe(signWebhook([secret], r.headers['webhook-id']!, Number(ts), r.body!));
    // Independently: HMAC-SHA256 with the base64-decoded key.
    const expected = createHmac('sha256', Buffer.from('0123456789abcdef0123456789abcdef')).update(`${r.headers['webhook-id']}.${ts}.${r.body}`).digest('base64');
    expect(r.headers['webhook-signature']).toBe(`v1,${expected}`);
    expect(JSON.parse(r.body!)).toMatchObject({ type: 'conversion.sale_first', action: 'credit', data: { orderId: 'in_123', amount: { minor: 4_900, currency: 'USD', decimal: '49.00' } } });
  });
  it('keeps the webhook-id across retries (receivers dedupe on it) and tells two partial refunds apart', () => {
    const at = (c: Conversion, nowMs: number) => req(webhookRequest(c, d, { ...ctx, nowMs })).headers['webhook-id'];
    expect(at(aConversion(), 1)).toBe(at(aConversion(), 2));
    const refund = (refundId: string) => aConversion({ kind: 'REFUND_PARTIAL', refundId });
    expect(at(refund('re_1'), 1)).not.toBe(at(refund('re_2'), 1));
  });
  it('signs with both secrets while one is being rolled', () => {
    const rolled = aDestination('webhook', { url: 'https://h' }, { signingSecret: 'new', previousSigningSecret: 'old' });
    expect(req(webhookRequest(aConversion(), rolled, ctx)).headers['webhook-signature']!.split(' ')).toHaveLength(2);
  });
});
