import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPartnerstackStub, type PartnerstackStub } from './partnerstackStub.js';
import { everflowCredited, tracknowCredited } from './credited.js';
import { startEverflowStub, type EverflowConversion } from './everflowStub.js';
import { startTracknowStub, type TracknowStub } from './tracknowStub.js';

// Each stub rule against its documented behaviour (the URL is beside the rule in the stub).

describe('PartnerStack stub (docs.partnerstack.com/reference/post_v2-transactions, post_v2-customers-1)', () => {
  let ps: PartnerstackStub;
  const auth = `Basic ${Buffer.from('pub:sec').toString('base64')}`;
  const post = (path: string, body: unknown) =>
    fetch(`${ps.apiBase}${path}`, { method: 'POST', headers: { authorization: auth, 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const tx = (customer: Record<string, string>, key: string) => ({ ...customer, amount: 4_900, currency: 'USD', key });
  let ownKey = '';
  beforeAll(async () => {
    ps = await startPartnerstackStub({ publicKey: 'pub', secretKey: 'sec' });
    const r = await post('/customers', { customer_key: 'user-42', email: 'jane@example.com', partner_key: 'pk_1', provider_key: 'cus_9' });
    ownKey = ((await r.json()) as { data: { key: string } }).data.key;
  });
  afterAll(() => ps.close());

  it.each([
    { name: 'customer_external_key = the customer_key given to POST /customers', customer: () => ({ customer_external_key: 'user-42' }), status: 200 },
    { name: 'customer_email of a known customer', customer: () => ({ customer_email: 'jane@example.com' }), status: 200 },
    { name: 'customer_key = PartnerStack\'s own key from the customer\'s answer', customer: () => ({ customer_key: ownKey }), status: 200 },
    { name: 'the merchant\'s key sent as customer_key (not PartnerStack\'s key)', customer: () => ({ customer_key: 'user-42' }), status: 404 },
    { name: 'an unknown external key', customer: () => ({ customer_external_key: 'cus_unknown' }), status: 404 },
    { name: 'an unknown email', customer: () => ({ customer_email: 'nobody@example.com' }), status: 404 },
    { name: 'two customer fields at once (exactly one is required)', customer: () => ({ customer_external_key: 'user-42', customer_email: 'jane@example.com' }), status: 400 },
    { name: 'no customer field', customer: () => ({}), status: 400 },
  ])('transaction naming its customer by $name → $status', async ({ customer, status }) => {
    const r = await post('/transactions', tx(customer(), `key_${Math.random().toString(36).slice(2)}`));
    expect(r.status).toBe(status);
  });

  it('a transaction key used twice is refused (409) and credited once', async () => {
    expect((await post('/transactions', tx({ customer_external_key: 'user-42' }, 'in_dup1'))).status).toBe(200);
    expect((await post('/transactions', tx({ customer_external_key: 'user-42' }, 'in_dup1'))).status).toBe(409);
    expect(ps.book.counts.get('in_dup1')).toBe(1);
  });

  it('an amount outside ±50,000,000,000 cents is refused', async () => {
    expect((await post('/transactions', { ...tx({ customer_external_key: 'user-42' }, 'in_big1'), amount: 50_000_000_001 })).status).toBe(400);
  });
});

describe('Tracknow stub (docs.tracknow.io postback-integration, supported-parameters, payouts/lifetime-payout)', () => {
  let tn: TracknowStub;
  beforeAll(async () => { tn = await startTracknowStub(); });
  afterAll(() => tn.close());
  const base = { campaign_id: '5', click_id: 'clk_1', order_id: 'in_1', amount: '49.00', currency: 'USD' };
  const send = (q: Record<string, string>) => fetch(`${tn.baseUrl}/postback?${new URLSearchParams(q)}`);

  it.each([
    { name: 'a sale with campaign_id', q: base, status: 200 },
    { name: 'a new customer: new_customer=true with customer_id', q: { ...base, customer_id: 'cus_9', new_customer: 'true' }, status: 200 },
    { name: 'no campaign_id', q: { click_id: 'clk_1', order_id: 'in_1', amount: '49.00', currency: 'USD' }, status: 400 },
    { name: 'new_customer=1 (only true is documented)', q: { ...base, customer_id: 'cus_9', new_customer: '1' }, status: 400 },
    { name: 'new_customer=true without customer_id', q: { ...base, new_customer: 'true' }, status: 400 },
  ])('$name → $status', async ({ q, status }) => {
    expect((await send(q)).status).toBe(status);
  });
});

describe('Everflow stub (helpdesk.everflow.io: S2S postbacks, error-code guide; seed 004)', () => {
  const q = { nid: '7', transaction_id: 'tx_1', order_id: 'in_1', amount: '49.00', currency: 'USD', verification_token: 'vt' };
  const send = (baseUrl: string, query: Record<string, string>) => fetch(`${baseUrl}/?${new URLSearchParams(query)}`);

  it('Allow Duplicate Conversions (the default rebills need): a resend is credited again', async () => {
    const ef = await startEverflowStub({ verificationToken: 'vt' });
    try {
      expect([(await send(ef.baseUrl, q)).status, (await send(ef.baseUrl, q)).status]).toEqual([200, 200]);
      expect(ef.book.counts.get('base:in_1')).toBe(2);
    } finally { await ef.close(); }
  });

  it('an offer rejecting duplicates: the resend is refused (error 8) and credited once', async () => {
    const ef = await startEverflowStub({ verificationToken: 'vt', allowDuplicates: false });
    try {
      expect([(await send(ef.baseUrl, q)).status, (await send(ef.baseUrl, q)).status]).toEqual([200, 204]);
      expect(ef.book.counts.get('base:in_1')).toBe(1);
      expect(ef.rejected.map((r) => r.errorCode)).toEqual([8]);
    } finally { await ef.close(); }
  });

  it('blocked by the advertiser whitelist: answered 200 as documented, but not credited', async () => {
    const ef = await startEverflowStub({ verificationToken: 'vt', blockedByWhitelist: true });
    try {
      expect((await send(ef.baseUrl, q)).status).toBe(200);
      expect(ef.book.counts.size).toBe(0);
      expect(ef.rejected.map((r) => r.errorCode)).toEqual([3]);
    } finally { await ef.close(); }
  });

  it.each([
    { name: 'no nid (the minimum is nid + transaction_id)', query: { ...q, nid: '' }, code: 11 },
    { name: 'a wrong verification token', query: { ...q, verification_token: 'x' }, code: 21 },
  ])('$name: rejected, not credited', async ({ query, code }) => {
    const ef = await startEverflowStub({ verificationToken: 'vt' });
    try {
      expect((await send(ef.baseUrl, query)).status).toBe(204);
      expect(ef.book.counts.size).toBe(0);
      expect(ef.rejected.map((r) => r.errorCode)).toEqual([code]);
    } finally { await ef.close(); }
  });
});

describe('what the Everflow and Tracknow stubs credited, per order (credited.ts)', () => {
  const ef = (orderId: string, amount: number, currency: string, reversed = false): EverflowConversion =>
    ({ id: `conv_${orderId}_${amount}`, transactionId: 'tx', email: null, eventId: null, orderId, amount, currency, reversed });
  it('Everflow: reversed conversions hold 0, a duplicate conversion is a second credit, amounts back in minor units', () => {
    expect(everflowCredited([ef('in_1', 49, 'USD'), ef('in_1', 49, 'USD'), ef('in_2', 4.9, 'KWD'), ef('in_3', 4900, 'JPY', true)])).toEqual([
      { orderId: 'in_1', currency: 'USD', netMinor: 9_800, saleCredits: 2, doubleRefunds: 0 },
      { orderId: 'in_2', currency: 'KWD', netMinor: 4_900, saleCredits: 1, doubleRefunds: 0 },
      { orderId: 'in_3', currency: 'JPY', netMinor: 0, saleCredits: 1, doubleRefunds: 0 },
    ]);
  });
  it('Tracknow: every postback is a credit of its order', () => {
    expect(tracknowCredited([{ order_id: 'in_1', amount: '49.00', currency: 'usd' }, { order_id: 'in_1', amount: '49.00', currency: 'USD' }])).toEqual([
      { orderId: 'in_1', currency: 'USD', netMinor: 9_800, saleCredits: 2, doubleRefunds: 0 },
    ]);
  });
});
