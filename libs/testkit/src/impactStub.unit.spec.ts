import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkActionForm, checkConversionForm, creditedAmount, startImpactStub, type ImpactStub } from './impactStub.js';

/**
 * The impact stub held to impact's pages (integrations.impact.com/impact-brand/...), each rule
 * written from its page, not from the adapter.
 */
const sale = (o: Record<string, string> = {}): Record<string, string> => ({
  CampaignId: '1', EventTypeId: '10', OrderId: 'in_1', EventDate: '2026-01-01T00:00:00.000Z', ClickId: 'IRclk', CurrencyCode: 'USD',
  ItemSku1: 'Subscription', ItemQuantity1: '1', ItemSubTotal1: '100.00', ...o,
});

describe('impact stub: conversions', () => {
  it('accepts a documented conversion', () => expect(checkConversionForm(sale())).toEqual([]));

  it.each([
    // docs/order-level-data: OrderId is STRING (64)
    { name: 'an OrderId of 65 characters', f: sale({ OrderId: 'x'.repeat(65) }), error: 'OrderId is longer than 64 characters (65)' },
    // docs/item-level-data: ItemPrice or ItemSubTotal, never both
    { name: 'ItemPrice and ItemSubTotal on one item', f: sale({ ItemPrice1: '100.00' }), error: 'item 1 has both ItemPrice and ItemSubTotal' },
    // docs/order-level-data: Amount is not sent with ItemPrice/ItemSubTotal
    { name: 'Amount beside items', f: sale({ Amount: '100.00' }), error: 'Amount must not be sent with item fields (ItemPrice/ItemSubTotal)' },
    // docs/impactcom-customer-email-hashing-explained: raw, SHA-1 or HMAC; SHA-256 is not documented
    { name: 'a SHA-256 CustomerEmail', f: sale({ CustomerEmail: 'a'.repeat(64) }), error: 'CustomerEmail must be an email or its SHA-1 (impact documents no SHA-256)' },
    { name: 'a field no impact page documents', f: sale({ OrderRefund: '1' }), error: 'OrderRefund is not a documented conversion field' },
  ])('refuses $name', ({ f, error }) => expect(checkConversionForm(f)).toContain(error));

  it.each([
    { name: 'a SHA-1', email: createHash('sha1').update('ada@example.com').digest('hex') },
    { name: 'a raw email', email: 'ada@example.com' },
  ])('accepts CustomerEmail as $name (docs/impactcom-customer-email-hashing-explained)', ({ email }) => {
    expect(checkConversionForm(sale({ CustomerEmail: email }))).toEqual([]);
  });

  // docs/order-level-data: OrderDiscount is subtracted from the total, proportionally from each item.
  it.each([
    { name: 'one item, no discount', f: sale(), then: 100 },
    { name: 'one item less OrderDiscount', f: sale({ OrderDiscount: '10.00' }), then: 90 },
    { name: 'two items less OrderDiscount, spread in proportion', f: sale({ ItemSku2: 'B', ItemQuantity2: '3', ItemPrice2: '100.00', OrderDiscount: '40.00' }), then: 360 },
    { name: 'ItemPrice × ItemQuantity', f: sale({ ItemSubTotal1: undefined as unknown as string, ItemPrice1: '49.00', ItemQuantity1: '3' }), then: 147 },
  ])('credits $name', ({ f, then }) => {
    const form = Object.fromEntries(Object.entries(f).filter(([, v]) => v !== undefined));
    expect(creditedAmount(form)).toBeCloseTo(then, 9);
  });
});

describe('impact stub: the Actions API', () => {
  const target = { ActionTrackerId: '10', OrderId: 'in_1' };
  it.each([
    // reference/update-an-action-item: Sku, Quantity, Reason=ORDER_UPDATE; Amount the item's final value
    { name: 'an item update', method: 'PUT', f: { ...target, Sku: 'Subscription', Quantity: '1', Amount: '60.00', Reason: 'ORDER_UPDATE' }, errors: [] },
    // reference/update-an-action: DispositionCode, no Amount
    { name: 'an action update', method: 'PUT', f: { ...target, DispositionCode: 'ORDER_UPDATE' }, errors: [] },
    // reference/reverse-an-action: DispositionCode required
    { name: 'a reversal', method: 'DELETE', f: { ...target, DispositionCode: 'ITEM_RETURNED' }, errors: [] },
    { name: 'an action-level Amount (the old partial refund)', method: 'PUT', f: { ...target, Amount: '60.00', Reason: 'OTHER' },
      errors: ['DispositionCode is required to update an action (or send Sku, Quantity and Reason=ORDER_UPDATE to update an item)',
        'Amount is not a parameter of an action update; an item update (Sku, Quantity, Reason=ORDER_UPDATE) takes it'] },
    { name: 'an item update with another Reason', method: 'PUT', f: { ...target, Sku: 'Subscription', Quantity: '1', Amount: '60.00', Reason: 'OTHER' },
      errors: ['Reason must be ORDER_UPDATE for an item update, got OTHER'] },
    { name: 'an item update without Quantity', method: 'PUT', f: { ...target, Sku: 'Subscription', Amount: '60.00', Reason: 'ORDER_UPDATE' },
      errors: ['Quantity (a whole number, 0 for a returned item) is required, got none'] },
    { name: 'a reversal without DispositionCode', method: 'DELETE', f: target, errors: ['DispositionCode is required to reverse an action'] },
    { name: 'a reversal of a 65-character OrderId', method: 'DELETE', f: { ActionTrackerId: '10', OrderId: 'x'.repeat(65), DispositionCode: 'ITEM_RETURNED' },
      errors: ['OrderId is longer than 64 characters (65)'] },
  ] as const)('$name', ({ method, f, errors }) => expect(checkActionForm(method, f as Record<string, string>).errors).toEqual(errors));
});

describe('impact stub over HTTP', () => {
  let stub: ImpactStub;
  const auth = `Basic ${Buffer.from('IRsid:tok').toString('base64')}`;
  const call = (method: string, path: string, form: Record<string, string>) =>
    fetch(`${stub.baseUrl}/Advertisers/IRsid/${path}`, {
      method, headers: { authorization: auth, 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(form).toString(),
    });
  beforeAll(async () => { stub = await startImpactStub({ accountSid: 'IRsid', authToken: 'tok' }); });
  afterAll(() => stub.close());

  it('credits a sale less its OrderDiscount, sets an item\'s new value, answers 404 once reversed', async () => {
    expect((await call('POST', 'Conversions', sale({ OrderId: 'in_http', OrderDiscount: '10.00' }))).status).toBe(200);
    expect(stub.actions.get('10:in_http')!.amount).toBeCloseTo(90, 9);
    const update = { ActionTrackerId: '10', OrderId: 'in_http', Sku: 'Subscription', Quantity: '1', Amount: '60.00', Reason: 'ORDER_UPDATE' };
    expect((await call('PUT', 'Actions', update)).status).toBe(200);
    expect(stub.actions.get('10:in_http')!.amount).toBe(60);
    expect((await call('PUT', 'Actions', { ...update, Sku: 'Order' })).status).toBe(400);
    expect((await call('DELETE', 'Actions', { ActionTrackerId: '10', OrderId: 'in_http', DispositionCode: 'ITEM_RETURNED' })).status).toBe(200);
    expect((await call('DELETE', 'Actions', { ActionTrackerId: '10', OrderId: 'in_http', DispositionCode: 'ITEM_RETURNED' })).status).toBe(404);
  });

  it('refuses Actions parameters in the query string (the documented calls send a form body)', async () => {
    const r = await fetch(`${stub.baseUrl}/Advertisers/IRsid/Actions?ActionTrackerId=10&OrderId=in_1&DispositionCode=ITEM_RETURNED`, {
      method: 'DELETE', headers: { authorization: auth, 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect(r.status).toBe(400);
  });

  // reference/rate-limits: a 429 carries X-RateLimit-Limit, -Remaining and -Reset.
  it('answers an injected 429 with the documented X-RateLimit-* headers', async () => {
    stub.setFaults({ rateLimitRate: 1, retryAfterSec: 7 });
    try {
      const r = await call('POST', 'Conversions', sale({ OrderId: 'in_429' }));
      expect({ status: r.status, reset: r.headers.get('x-ratelimit-reset'), remaining: r.headers.get('x-ratelimit-remaining'), limit: r.headers.get('x-ratelimit-limit') })
        .toEqual({ status: 429, reset: '7', remaining: '0', limit: '1000' });
    } finally {
      stub.setFaults({});
    }
  });
});
