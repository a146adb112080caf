import { readFileSync } from 'node:fs';
import avro from 'avsc';
import { describe, expect, it } from 'vitest';
import { ConversionKinds, hasAttribution, unsourcedClickId, type Attribution, type Conversion } from './conversion.js';
import { conversionAvroSchema } from './conversionSchema.js';

/** The schema as it was before the by-source attribution fields (`git show <before>:libs/contracts/src/conversionSchema.ts`). */
const schemaBeforeBySource = JSON.parse(readFileSync(new URL('./fixtures/conversionSchema.beforeBySource.json', import.meta.url), 'utf8')) as avro.Schema;

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
  attribution: {
    clickId: 'click', partnerKey: null, customerKey: null, promoCode: null, emailSha256: null, productKey: null,
    impactClickId: 'click', tracknowClickId: null, everflowTransactionId: null, clientReferenceId: null,
  },
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
  saleNetMinor: null,
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
    const fields = conversionAvroSchema.fields.filter((f) => !['refundId', 'orderAmountMinor', 'refundedTotalMinor', 'saleNetMinor'].includes(f.name));
    const oldType = avro.Type.forSchema({ ...conversionAvroSchema, fields } as unknown as avro.Schema);
    const { refundId: _r, orderAmountMinor: _o, refundedTotalMinor: _t, saleNetMinor: _n, ...old } = { ...sample, kind: 'REFUND_PARTIAL' as const };
    const resolver = type.createResolver(oldType);
    expect(type.fromBuffer(oldType.toBuffer(old), resolver)).toEqual({ ...old, refundId: null, orderAmountMinor: null, refundedTotalMinor: null, saleNetMinor: null });
  });

  it('reads a refund written before saleNetMinor existed as "basis unknown" (null) (BACKWARD, issue 14)', () => {
    const fields = conversionAvroSchema.fields.filter((f) => f.name !== 'saleNetMinor');
    const oldType = avro.Type.forSchema({ ...conversionAvroSchema, fields } as unknown as avro.Schema);
    const { saleNetMinor: _n, ...old } = { ...sample, kind: 'REFUND_PARTIAL' as const, refundId: 're_1', orderAmountMinor: 2_400, refundedTotalMinor: 1_200 };
    expect(type.fromBuffer(oldType.toBuffer(old), type.createResolver(oldType))).toEqual({ ...old, saleNetMinor: null });
  });

  it('round-trips a partial refund with its refund id, order amount and running total', () => {
    const refund: Conversion = { ...sample, kind: 'REFUND_PARTIAL', refundId: 're_1', orderAmountMinor: 2_000, refundedTotalMinor: 500, amountMinor: 500, saleNetMinor: 1_600 };
    expect(type.fromBuffer(type.toBuffer(refund))).toEqual(refund);
  });

  it('reads a record written with the schema before the by-source fields: they are null, clickId is kept as an unsourced click (BACKWARD)', () => {
    const oldType = avro.Type.forSchema(schemaBeforeBySource);
    const { impactClickId: _i, tracknowClickId: _t, everflowTransactionId: _e, clientReferenceId: _c, ...oldAttribution } = sample.attribution;
    const old = { ...sample, attribution: { ...oldAttribution, clickId: 'tn_from_client_reference_id' } };
    const read = type.fromBuffer(oldType.toBuffer(old), type.createResolver(oldType)) as Conversion;
    expect(read).toEqual({
      ...old,
      attribution: { ...old.attribution, impactClickId: null, tracknowClickId: null, everflowTransactionId: null, clientReferenceId: null },
    });
    expect(unsourcedClickId(read.attribution)).toBe('tn_from_client_reference_id');
  });

  it('a new record is readable with the schema before: an old reader sees clickId and ignores the by-source fields (FORWARD)', () => {
    const oldType = avro.Type.forSchema(schemaBeforeBySource);
    const both: Conversion = { ...sample, attribution: { ...sample.attribution, clientReferenceId: 'user_42', tracknowClickId: 'tn_1' } };
    const read = oldType.fromBuffer(type.toBuffer(both), oldType.createResolver(type)) as { attribution: Record<string, unknown> };
    expect(read.attribution).toEqual({ clickId: 'click', partnerKey: null, customerKey: null, promoCode: null, emailSha256: null, productKey: null });
  });

  const a = (o: Partial<Attribution>): Attribution => ({
    clickId: null, partnerKey: null, customerKey: null, promoCode: null, emailSha256: null, productKey: null,
    impactClickId: null, tracknowClickId: null, everflowTransactionId: null, clientReferenceId: null, ...o,
  });
  it.each([
    { name: 'a record before by-source: its click', given: a({ clickId: 'c' }), then: 'c' },
    { name: 'a newer record: clickId mirrors a sourced click, never unsourced', given: a({ clickId: 'ir', impactClickId: 'ir' }), then: null },
    { name: 'a newer record with only client_reference_id: no unsourced click', given: a({ clientReferenceId: 'user_42' }), then: null },
    { name: 'nothing', given: a({}), then: null },
  ])('unsourcedClickId: $name', ({ given, then }) => expect(unsourcedClickId(given)).toBe(then));

  it.each([
    { name: 'only a client_reference_id (a destination may take it as its click)', given: a({ clientReferenceId: 'x' }), then: true },
    { name: 'only an Everflow transaction id', given: a({ everflowTransactionId: 'ef' }), then: true },
    { name: 'nothing', given: a({}), then: false },
  ])('hasAttribution: $name', ({ given, then }) => expect(hasAttribution(given)).toBe(then));
});
