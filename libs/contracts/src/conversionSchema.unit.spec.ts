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

  it('reads a refund written before refundId/orderAmountMinor/refundedTotalMinor existed, with their defaults (BACKWARD)', () => {
    const fields = conversionAvroSchema.fields.filter((f) => !['refundId', 'orderAmountMinor', 'refundedTotalMinor'].includes(f.name));
    const oldType = avro.Type.forSchema({ ...conversionAvroSchema, fields } as unknown as avro.Schema);
    const { refundId: _r, orderAmountMinor: _o, refundedTotalMinor: _t, ...old } = { ...sample, kind: 'REFUND_PARTIAL' as const };
    const resolver = type.createResolver(oldType);
    expect(type.fromBuffer(oldType.toBuffer(old), resolver)).toEqual({ ...old, refundId: null, orderAmountMinor: null, refundedTotalMinor: null });
  });

  it('round-trips a partial refund with its refund id, order amount and running total', () => {
    const refund: Conversion = { ...sample, kind: 'REFUND_PARTIAL', refundId: 're_1', orderAmountMinor: 2_000, refundedTotalMinor: 500, amountMinor: 500 };
    expect(type.fromBuffer(type.toBuffer(refund))).toEqual(refund);
  });
});
