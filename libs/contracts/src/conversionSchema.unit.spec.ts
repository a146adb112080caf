import avro from 'avsc';
import { describe, expect, it } from 'vitest';
import { ConversionKinds, type Conversion } from './conversion.js';
import { conversionAvroSchema } from './conversionSchema.js';

const sample: Conversion = {
  conversionId: 'cnv_1',
  kind: 'SALE_FIRST',
  saleReason: 'subscription_create',
  sourceEventIds: ['evt_1'],
  integrationId: 'int_1',
  stripeAccount: null,
  livemode: false,
  occurredAt: 1_700_000_000_000,
  receivedAt: 1_700_000_001_000,
  orderId: 'in_1',
  customerId: 'cus_1',
  subscriptionId: 'sub_1',
  chargeId: null,
  attribution: { clickId: 'click', partnerKey: null, customerKey: null, promoCode: null, emailSha256: null, productKey: null },
  attributed: true,
  currency: 'USD',
  amountMinor: 2_000,
  taxMinor: 0,
  discountMinor: 0,
  lineItems: [
    { sku: 'Subscription', description: 'Pro', productId: 'prod_1', priceId: 'price_1', quantity: 1, unitAmountMinor: 2_000, amountMinor: 2_000 },
  ],
  notBefore: 1_700_000_001_000,
  refundId: null,
  orderAmountMinor: null,
  refundedTotalMinor: null,
};

describe('conversion Avro schema', () => {
  const type = avro.Type.forSchema(conversionAvroSchema as unknown as avro.Schema);

  it('lists the same kinds as the TypeScript union, in the same order', () => {
    const kind = conversionAvroSchema.fields.find((f) => f.name === 'kind')!;
    expect((kind.type as { symbols: readonly string[] }).symbols).toEqual([...ConversionKinds]);
  });

  it('round-trips a conversion without loss', () => {
    expect(type.fromBuffer(type.toBuffer(sample))).toEqual(sample);
  });

  it('refuses a fractional amount', () => {
    expect(type.isValid({ ...sample, amountMinor: 19.99 })).toBe(false);
  });
});
