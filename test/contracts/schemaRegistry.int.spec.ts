import { readFileSync } from 'node:fs';
import avro from 'avsc';
import { describe, expect, it } from 'vitest';
import { COMPATIBILITY, SchemaRegistry, SchemaType } from '@kafkajs/confluent-schema-registry';
import { conversionAvroSchema, NO_SOURCED_CLICKS, valueSubject, type Conversion } from '@sas/contracts';
import { createConversionCodec } from '@sas/runtime';
import { stackEndpoints, uniqueId } from '@sas/testkit';

/** The registry, not goodwill, keeps the conversion schema backward compatible. */
describe('conversion schema in the registry', () => {
  const registry = () => new SchemaRegistry({ host: stackEndpoints().schemaRegistryUrl });
  const withField = (field: Record<string, unknown>) =>
    JSON.stringify({ ...conversionAvroSchema, fields: [...conversionAvroSchema.fields, field] });

  it('registers under <topic>-value with BACKWARD compatibility and refuses a breaking change', async () => {
    const subject = valueSubject(`${uniqueId('schema')}.conversions.v1`);
    const r = registry();
    const { id } = await r.register({ type: SchemaType.AVRO, schema: JSON.stringify(conversionAvroSchema) }, { subject, compatibility: COMPATIBILITY.BACKWARD });
    expect(id).toBeGreaterThan(0);
    const config = await (await fetch(`${stackEndpoints().schemaRegistryUrl}/config/${encodeURIComponent(subject)}`)).json();
    expect(config).toEqual({ compatibilityLevel: 'BACKWARD' });

    // A new required field cannot read old records: the registry must refuse it.
    await expect(r.register({ type: SchemaType.AVRO, schema: withField({ name: 'partnerPayout', type: 'long' }) }, { subject })).rejects.toThrow(/compatib/i);
    // The same field with a default is a compatible evolution.
    const evolved = await r.register({ type: SchemaType.AVRO, schema: withField({ name: 'partnerPayout', type: ['null', 'long'], default: null }) }, { subject });
    expect(evolved.id).not.toBe(id);
  });

  it('encodes in the Confluent wire format and decodes by the id on the wire', async () => {
    const topic = `${uniqueId('codec')}.conversions.v1`;
    const codec = createConversionCodec(stackEndpoints().schemaRegistryUrl);
    const c: Conversion = {
      conversionId: 'cnv_x', kind: 'REFUND_PARTIAL', saleReason: null, sourceEventIds: ['evt_a', 'evt_b'], integrationId: 'int',
      stripeAccount: 'acct_1', livemode: true, occurredAt: 1, receivedAt: 2, orderId: 'in_1', customerId: null, subscriptionId: null,
      chargeId: 'ch_1', attribution: { ...NO_SOURCED_CLICKS, clickId: null, partnerKey: 'pk', customerKey: 'ck', promoCode: null, emailSha256: null, productKey: 'prod' },
      attributed: true, currency: 'JPY', amountMinor: 500, taxMinor: 0, discountMinor: 0, lineItems: [], notBefore: 3_600_002,
      refundId: 're_1', orderAmountMinor: 4_900, refundedTotalMinor: 500, saleNetMinor: 4_000,
    };
    const frame = await codec.encode(topic, c);
    expect(frame[0]).toBe(0);
    const schemaId = frame.readInt32BE(1);
    const latest = await registry().getLatestSchemaId(valueSubject(topic));
    expect(schemaId).toBe(latest);
    expect(await codec.decode(frame)).toEqual(c);
  });

  it('evolves from the schema before the by-source attribution (issue 15): the registry accepts it, and an old record reads with the new reader', async () => {
    const before = readFileSync(new URL('../../libs/contracts/src/fixtures/conversionSchema.beforeBySource.json', import.meta.url), 'utf8');
    const topic = `${uniqueId('bysource')}.conversions.v1`;
    const subject = valueSubject(topic);
    const r = registry();
    const { id: oldId } = await r.register({ type: SchemaType.AVRO, schema: before }, { subject, compatibility: COMPATIBILITY.BACKWARD });
    const old = {
      conversionId: 'cnv_old', kind: 'SALE_ONE_TIME', saleReason: null, sourceEventIds: ['evt_old'], integrationId: 'int', stripeAccount: null,
      livemode: false, occurredAt: 1, receivedAt: 2, orderId: 'cs_old', customerId: 'cus_1', subscriptionId: null, chargeId: null,
      attribution: { clickId: 'tn_in_client_reference_id', partnerKey: null, customerKey: null, promoCode: null, emailSha256: null, productKey: null },
      attributed: true, currency: 'USD', amountMinor: 4_900, taxMinor: 0, discountMinor: 0, lineItems: [], notBefore: 2,
      refundId: null, orderAmountMinor: null, refundedTotalMinor: null,
    };
    const oldFrame = await r.encode(oldId, old);

    // The producer's codec registers the current schema under the same subject: BACKWARD-checked by the registry.
    const codec = createConversionCodec(stackEndpoints().schemaRegistryUrl);
    const c: Conversion = { ...(old as unknown as Conversion), saleNetMinor: null, conversionId: 'cnv_new', attribution: { ...old.attribution, clickId: 'IR_1', impactClickId: 'IR_1', tracknowClickId: null, everflowTransactionId: null, clientReferenceId: 'tn_9' } };
    const newFrame = await codec.encode(topic, c);
    expect(newFrame.readInt32BE(1)).not.toBe(oldId);
    expect(await r.getLatestSchemaId(subject)).toBe(newFrame.readInt32BE(1));

    // The old record, its writer schema fetched by the id on the wire, resolved into the new reader schema.
    const writer = avro.Type.forSchema(JSON.parse(before) as avro.Schema);
    const reader = avro.Type.forSchema(conversionAvroSchema as unknown as avro.Schema);
    const wire = await (await fetch(`${stackEndpoints().schemaRegistryUrl}/schemas/ids/${oldFrame.readInt32BE(1)}`)).json() as { schema: string };
    expect(JSON.parse(wire.schema)).toMatchObject({ name: 'Conversion' });
    const resolved = reader.fromBuffer(oldFrame.subarray(5), reader.createResolver(avro.Type.forSchema(JSON.parse(wire.schema) as avro.Schema)));
    // Fields added after that schema read as their defaults (saleNetMinor: issue 14).
    expect(resolved).toEqual({ ...old, saleNetMinor: null, attribution: { ...old.attribution, ...NO_SOURCED_CLICKS } });
    expect(writer.fromBuffer(oldFrame.subarray(5))).toEqual(old);
    // Both records decode by their ids, each in its own writer's shape.
    expect(await codec.decode(newFrame)).toEqual(c);
    expect(await codec.decode(oldFrame)).toEqual(old);
  });
});
