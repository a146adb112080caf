import { describe, expect, it } from 'vitest';
import type { Conversion } from '@sas/contracts';
import type { Destination } from '@sas/runtime';
import { impactRequest } from './impact.js';
import { DestinationConfigError, isSkip, type PartnerRequest } from '../partnerRequest.js';

const conversion = (o: Partial<Conversion> = {}): Conversion => ({
  conversionId: 'cnv_1', kind: 'SALE_FIRST', saleReason: 'subscription_create', sourceEventIds: ['evt_1'],
  integrationId: 'int_1', stripeAccount: null, livemode: false,
  occurredAt: Date.UTC(2025, 10, 24, 16, 0, 0), receivedAt: Date.UTC(2025, 10, 24, 16, 0, 1),
  orderId: 'in_123', customerId: 'cus_9', subscriptionId: 'sub_1', chargeId: null,
  attribution: { clickId: 'IRclk', partnerKey: null, customerKey: null, promoCode: null, emailSha256: 'a'.repeat(64), productKey: null },
  attributed: true, currency: 'USD', amountMinor: 4_900, taxMinor: 0, discountMinor: 0,
  lineItems: [{ sku: 'price_1', description: 'Pro plan', productId: 'prod_1', priceId: 'price_1', quantity: 1, unitAmountMinor: 4_900, amountMinor: 4_900 }],
  notBefore: Date.UTC(2025, 10, 24, 16, 0, 1),
  refundId: null, orderAmountMinor: null, refundedTotalMinor: null,
  ...o,
});

const destination = (settings: Record<string, unknown> = {}, credentials: Record<string, string> = { authToken: 'tok' }): Destination => ({
  id: 'dst_impact', integrationId: 'int_1', type: 'impact',
  settings: { accountSid: 'IRsid', campaignId: '111', eventTypeId: '222', recurringEventTypeId: '333', oneTimeEventTypeId: '444', baseUrl: 'https://impact.test', ...settings },
  credentials,
});

const formOf = (r: ReturnType<typeof impactRequest>) => {
  if (isSkip(r)) throw new Error(`skipped: ${r.skip}`);
  return Object.fromEntries(new URLSearchParams((r as PartnerRequest).body ?? ''));
};

describe('impactRequest', () => {
  it('sends the seed 000 subscription mapping as a form POST with Basic SID:token', () => {
    const r = impactRequest(conversion(), destination()) as PartnerRequest;
    expect(r).toMatchObject({
      action: 'credit', method: 'POST', url: 'https://impact.test/Advertisers/IRsid/Conversions',
      headers: { authorization: `Basic ${Buffer.from('IRsid:tok').toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect(formOf(r)).toEqual({
      CampaignId: '111', EventTypeId: '222', ClickId: 'IRclk', OrderId: 'in_123', EventDate: '2025-11-24T16:00:00.000Z',
      CustomerId: 'cus_9', CurrencyCode: 'USD', CustomerEmail: 'a'.repeat(64),
      ItemSku1: 'Subscription', ItemCategory1: 'Pro plan', ItemQuantity1: '1', ItemPrice1: '49.00',
    });
  });

  it.each([
    { kind: 'SALE_FIRST', tracker: '222' },
    { kind: 'SALE_RECURRING', tracker: '333' }, // seed 001: renewals go to the recurring tracker
    { kind: 'SALE_OTHER', tracker: '333' },
    { kind: 'SALE_ONE_TIME', tracker: '444' },
  ] as const)('$kind → EventTypeId $tracker', ({ kind, tracker }) => {
    expect(formOf(impactRequest(conversion({ kind }), destination())).EventTypeId).toBe(tracker);
  });

  it('uses EventTypeId for one-time sales when no one-time tracker is set', () => {
    expect(formOf(impactRequest(conversion({ kind: 'SALE_ONE_TIME' }), destination({ oneTimeEventTypeId: undefined }))).EventTypeId).toBe('222');
  });

  // The seed writes ItemPrice1 = centsToDollars(amount): wrong for zero- and three-decimal currencies.
  it.each([
    { currency: 'JPY', amount: 4_900, then: '4900' },
    { currency: 'KWD', amount: 4_900, then: '4.900' },
    { currency: 'EUR', amount: 4_900, then: '49.00' },
  ])('prices $amount minor units of $currency as $then', ({ currency, amount, then }) => {
    const c = conversion({ currency, amountMinor: amount, lineItems: [{ sku: 's', description: null, productId: null, priceId: null, quantity: 1, unitAmountMinor: amount, amountMinor: amount }] });
    const f = formOf(impactRequest(c, destination()));
    expect([f.CurrencyCode, f.ItemPrice1]).toEqual([currency, then]);
  });

  // The seed sends ItemPrice1 = amount_paid with ItemQuantity1 = quantity: impact multiplies them,
  // so a 3-seat invoice would be credited three times its amount.
  it('sends quantity with the unit price, so impact credits quantity × unit = what was paid', () => {
    const c = conversion({ amountMinor: 14_700, lineItems: [{ sku: 's', description: '3 seats', productId: null, priceId: null, quantity: 3, unitAmountMinor: 4_900, amountMinor: 14_700 }] });
    const f = formOf(impactRequest(c, destination()));
    expect([f.ItemQuantity1, f.ItemPrice1, f.ItemSubTotal1]).toEqual(['3', '49.00', undefined]);
  });

  it('sends ItemSubTotal (never both) when the line is not quantity × unit (prorations, discounts)', () => {
    const c = conversion({ amountMinor: 1_633, lineItems: [{ sku: 's', description: 'Remaining time', productId: null, priceId: null, quantity: 1, unitAmountMinor: 4_900, amountMinor: 1_633 }] });
    const f = formOf(impactRequest(c, destination()));
    expect([f.ItemSubTotal1, f.ItemPrice1]).toEqual(['16.33', undefined]);
  });

  it('numbers several items from 1', () => {
    const item = { sku: 's', description: null, productId: 'prod_x', priceId: null, quantity: 1, unitAmountMinor: 100, amountMinor: 100 };
    const f = formOf(impactRequest(conversion({ kind: 'SALE_ONE_TIME', lineItems: [item, { ...item, productId: 'prod_y' }] }), destination()));
    expect([f.ItemSku1, f.ItemSku2, f.ItemPrice1, f.ItemPrice2, f.ItemSku3]).toEqual(['prod_x', 'prod_y', '1.00', '1.00', undefined]);
  });

  it('falls back to one item with the amount net of tax when the invoice had no lines', () => {
    const f = formOf(impactRequest(conversion({ amountMinor: 1_200, taxMinor: 200, lineItems: [] }), destination()));
    expect([f.ItemSku1, f.ItemQuantity1, f.ItemPrice1]).toEqual(['Subscription', '1', '10.00']);
  });

  it('adds promo code and discount when present, omits absent optional fields', () => {
    const c = conversion({ discountMinor: 500, attribution: { clickId: null, partnerKey: null, customerKey: null, promoCode: 'SPRING', emailSha256: null, productKey: null } });
    const f = formOf(impactRequest(c, destination()));
    expect(f).toMatchObject({ OrderPromoCode: 'SPRING', OrderDiscount: '5.00' });
    expect(f).not.toHaveProperty('ClickId');
    expect(f).not.toHaveProperty('CustomerEmail');
  });

  it.each([
    { name: 'refunds (Actions API, dispatcher issue)', c: conversion({ kind: 'REFUND_FULL' }), d: destination(), skip: /REFUND_FULL/ },
    { name: 'identity events', c: conversion({ kind: 'CUSTOMER_IDENTITY' }), d: destination(), skip: /CUSTOMER_IDENTITY/ },
    { name: 'no attribution key at all', c: conversion({ customerId: null, attribution: { clickId: null, partnerKey: null, customerKey: null, promoCode: null, emailSha256: null, productKey: null } }), d: destination(), skip: /attribution key/ },
    { name: 'missing auth token', c: conversion(), d: destination({}, {}), skip: /authToken/ },
  ])('skips with a reason: $name', ({ c, d, skip }) => {
    const r = impactRequest(c, d);
    expect(isSkip(r) && r.skip).toMatch(skip);
  });

  it('throws a config error naming a missing setting', () => {
    expect(() => impactRequest(conversion(), destination({ campaignId: undefined }))).toThrow(DestinationConfigError);
    expect(() => impactRequest(conversion(), destination({ campaignId: undefined }))).toThrow(/"campaignId" is required/);
  });
});
