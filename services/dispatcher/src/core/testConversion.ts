import { NO_SOURCED_CLICKS, type Conversion } from '@sas/contracts';
import type { Destination } from '@sas/runtime';

/** Builders for the table tests: defaults that each case overrides. */
export const aConversion = (o: Partial<Conversion> = {}): Conversion => ({
  conversionId: 'cnv_1', kind: 'SALE_FIRST', saleReason: 'subscription_create', sourceEventIds: ['evt_1'],
  integrationId: 'int_1', stripeAccount: null, livemode: false,
  occurredAt: Date.UTC(2025, 10, 24, 16, 0, 0), receivedAt: Date.UTC(2025, 10, 24, 16, 0, 1),
  orderId: 'in_123', customerId: 'cus_9', subscriptionId: 'sub_1', chargeId: null,
  attribution: { ...NO_SOURCED_CLICKS, clickId: 'clk_1', partnerKey: 'pk_1', customerKey: null, promoCode: null, emailSha256: 'a'.repeat(64), productKey: null },
  attributed: true, currency: 'USD', amountMinor: 4_900, taxMinor: 0, discountMinor: 0,
  lineItems: [{ sku: 'price_1', description: 'Pro plan', productId: 'prod_1', priceId: 'price_1', quantity: 1, unitAmountMinor: 4_900, amountMinor: 4_900 }],
  notBefore: Date.UTC(2025, 10, 24, 16, 0, 1), refundId: null, orderAmountMinor: null, refundedTotalMinor: null, saleNetMinor: null,
  ...o,
});

export const aDestination = (type: Destination['type'], settings: Record<string, unknown> = {}, credentials: Record<string, string> = {}): Destination => ({
  id: `dst_${type}`, integrationId: 'int_1', type, settings, credentials,
});
