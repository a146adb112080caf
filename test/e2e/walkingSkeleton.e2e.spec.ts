import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Kafka, logLevel } from 'kafkajs';
import { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import { RawEventHeaders, topicName, type DispatchOutcome } from '@sas/contracts';
import { createIntegration, createLogger, createPool, createSecretBox, migrate, parseKey } from '@sas/runtime';
import {
  TEST_SECRETS_KEY, invoicePaidEvent, randomWebhookSecret, stackEndpoints, startImpactStub,
  stripeSignature, uniqueId, waitFor, type ImpactStub,
} from '@sas/testkit';
import { startInProcessPipeline, type InProcessPipeline } from './inProcessPipeline.js';
import { createHash } from 'node:crypto';

/**
 * The walking skeleton, all real: a signed invoice.paid goes through ingest → Kafka → mapper
 * (Avro through the registry) → dispatcher → the impact.com stub, which checks the wire shape.
 */
describe('walking skeleton: invoice.paid → impact.com conversion', () => {
  const prefix = `${uniqueId('e2e')}.`;
  const integrationId = uniqueId('int_');
  const secret = randomWebhookSecret();
  const impact = { accountSid: 'IRtestSID123', authToken: 'tok_' + uniqueId('') };
  let stub: ImpactStub;
  let pipeline: InProcessPipeline | undefined;
  let kafka: Kafka;
  const outcomes: DispatchOutcome[] = [];
  const rawRecords: { value: Buffer; headers: Record<string, string>; key: string }[] = [];
  const conversionFrames: Buffer[] = [];
  const consumers: ReturnType<Kafka['consumer']>[] = [];

  beforeAll(async () => {
    stub = await startImpactStub(impact);
    const log = createLogger('e2e', process.env.TEST_LOG_LEVEL ?? 'warn');
    const databaseUrl = stackEndpoints().databaseUrl;
    await migrate(databaseUrl, log);
    const pool = createPool(databaseUrl);
    await createIntegration(pool, createSecretBox(parseKey(TEST_SECRETS_KEY)), {
      id: integrationId,
      name: 'Skeleton Inc.',
      webhookSecrets: [secret],
      destinations: [{
        id: `${integrationId}_impact`,
        type: 'impact',
        settings: { accountSid: impact.accountSid, campaignId: '12345', eventTypeId: '28113', recurringEventTypeId: '28114', baseUrl: stub.baseUrl },
        credentials: { authToken: impact.authToken },
      }],
    });
    await pool.end();

    pipeline = await startInProcessPipeline(prefix, 'e2e', { RETRY_SCHEDULE_MS: '200,500' });

    kafka = new Kafka({ brokers: [stackEndpoints().kafkaBrokers], logLevel: logLevel.NOTHING });
    const watch = async (topic: string, onMessage: (m: { value: Buffer; key: string; headers: Record<string, string> }) => void) => {
      const consumer = kafka.consumer({ groupId: uniqueId('watch') });
      consumers.push(consumer);
      await consumer.connect();
      await consumer.subscribe({ topic: topicName(topic as never, prefix), fromBeginning: true });
      await consumer.run({
        eachMessage: async ({ message }) => {
          const headers = Object.fromEntries(Object.entries(message.headers ?? {}).map(([k, v]) => [k, String(v)]));
          onMessage({ value: message.value!, key: message.key?.toString() ?? '', headers });
        },
      });
    };
    await watch('stripeEvents', (m) => rawRecords.push(m));
    await watch('conversions', (m) => conversionFrames.push(m.value));
    await watch('dispatchOutcomes', (m) => outcomes.push(JSON.parse(m.value.toString())));
  });

  afterAll(async () => {
    await Promise.all(consumers.map((c) => c.disconnect()));
    await pipeline?.stop();
    await stub?.close();
  });

  const post = (body: string, signature: string) =>
    fetch(`${pipeline!.ingest.url}/webhooks/stripe/${integrationId}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'stripe-signature': signature },
      body,
    });

  it('credits the first subscription invoice at impact.com with the seed mapping, once', async () => {
    const paidAt = 1_764_000_000; // 2025-11-24T16:00:00Z
    const event = invoicePaidEvent({
      billingReason: 'subscription_create', clickId: 'IRclick-abc-123', currency: 'usd', unitAmount: 4_900, quantity: 1,
      customerEmail: 'Jane.Doe@example.com', paidAt, description: 'Pro plan',
    });
    const invoice = event.data.object;
    // Stripe's own formatting (pretty-printed) must reach Kafka byte for byte.
    const body = JSON.stringify(event, null, 2);

    const res = await post(body, stripeSignature(body, secret));
    expect(res.status).toBe(200);

    // 1. ingest wrote Stripe's bytes unchanged, with the headers of the contract.
    const raw = await waitFor(() => rawRecords.find((r) => r.headers[RawEventHeaders.eventId] === event.id), { what: 'raw record' });
    expect(raw.value.toString('utf8')).toBe(body);
    expect(raw.headers[RawEventHeaders.integrationId]).toBe(integrationId);
    expect(raw.headers[RawEventHeaders.eventType]).toBe('invoice.paid');
    expect(raw.key).toBe(`${integrationId}:-:${invoice.customer}`);

    // 2. the mapper's record is Avro in the Confluent wire format, decodable through the registry.
    const frame = await waitFor(() => conversionFrames[0], { what: 'conversion record' });
    expect(frame[0]).toBe(0); // magic byte
    const registry = new SchemaRegistry({ host: stackEndpoints().schemaRegistryUrl });
    const conversion = await registry.decode(frame);
    expect(conversion).toMatchObject({
      kind: 'SALE_FIRST', orderId: invoice.id, customerId: invoice.customer, subscriptionId: (invoice as { subscription?: string }).subscription,
      currency: 'USD', amountMinor: 4_900, integrationId, sourceEventIds: [event.id],
      attribution: { clickId: 'IRclick-abc-123' },
    });

    // 3. impact.com received the seed's mapping, as impact documents it (issue 14): CustomerEmail as
    // SHA-1 (docs/impactcom-customer-email-hashing-explained), the order as one item whose
    // ItemSubTotal is what was paid net of tax, so a partial refund can update it by Sku.
    const sub = await waitFor(() => stub.submissions[0], { what: 'impact submission', timeoutMs: 30_000 });
    expect(sub.errors).toEqual([]);
    expect(sub.fields).toEqual({
      CampaignId: '12345',
      EventTypeId: '28113',
      ClickId: 'IRclick-abc-123',
      OrderId: invoice.id,
      EventDate: '2025-11-24T16:00:00.000Z',
      CustomerId: invoice.customer,
      CurrencyCode: 'USD',
      CustomerEmail: createHash('sha1').update('jane.doe@example.com').digest('hex'),
      ItemSku1: 'Subscription',
      ItemCategory1: 'Pro plan',
      ItemQuantity1: '1',
      ItemSubTotal1: '49.00',
    });
    const sent = await waitFor(() => outcomes.find((o) => o.conversionId === conversion.conversionId && o.status === 'sent'), { what: 'sent outcome' });
    expect(sent).toMatchObject({ destinationType: 'impact', orderId: invoice.id, httpStatus: 200, attempt: 1 });

    // 4. Stripe delivers the same event again: accepted (200), dropped by the mapper by its
    // event id, never credited twice. A renewal of the same customer, sent after it, goes
    // through the same raw partition, so once the renewal is credited the duplicate was seen.
    const again = await post(body, stripeSignature(body, secret));
    expect(again.status).toBe(200);
    const renewal = invoicePaidEvent({
      billingReason: 'subscription_cycle', customer: invoice.customer, clickId: 'IRclick-abc-123', unitAmount: 4_900, paidAt: paidAt + 30 * 86_400,
    });
    const renewalBody = JSON.stringify(renewal);
    expect((await post(renewalBody, stripeSignature(renewalBody, secret))).status).toBe(200);
    const second = await waitFor(() => stub.submissions.find((s) => s.fields.OrderId === renewal.data.object.id), { what: 'renewal credited' });
    expect(second.fields).toMatchObject({ EventTypeId: '28114', ItemSubTotal1: '49.00' }); // seed 001: renewals → the recurring tracker
    await new Promise((r) => setTimeout(r, 500));
    expect(conversionFrames).toHaveLength(2);
    expect(stub.submissions.map((s) => s.fields.OrderId)).toEqual([invoice.id, renewal.data.object.id]);
    expect(outcomes.filter((o) => o.conversionId === conversion.conversionId && o.status === 'sent')).toHaveLength(1);
    expect([...stub.credits.values()]).toEqual([49, 49]);
  });

  it('refuses a webhook signed with another secret and writes nothing', async () => {
    const event = invoicePaidEvent();
    const body = JSON.stringify(event);
    const res = await post(body, stripeSignature(body, randomWebhookSecret()));
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ reason: 'signature_mismatch' });
    // A later valid event arrives; the forged one never does.
    const marker = invoicePaidEvent({ clickId: null });
    const markerBody = JSON.stringify(marker);
    expect((await post(markerBody, stripeSignature(markerBody, secret))).status).toBe(200);
    await waitFor(() => rawRecords.find((r) => r.headers[RawEventHeaders.eventId] === marker.id), { what: 'marker' });
    expect(rawRecords.some((r) => r.headers[RawEventHeaders.eventId] === event.id)).toBe(false);
  });
});
