import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SchemaRegistry, SchemaType } from '@kafkajs/confluent-schema-registry';
import { topicName, valueSubject } from '@sas/contracts';
import { createIntegration, createKafka, createLogger, createPool, createSecretBox, ensureTopics, loadConfig, parseKey } from '@sas/runtime';
import { mapperEnv, startMapper, type RunningMapper } from '@sas/mapper';
import {
  TEST_SECRETS_KEY, chargeEvent, checkoutSessionCompletedEvent, customerEvent, randomWebhookSecret, serviceEnv, stackEndpoints, uniqueId, waitFor,
} from '@sas/testkit';
import { rawRecord } from '../../services/mapper/test/rawRecords.js';
import { startRevenueConsumer, type RunningRevenueConsumer } from './consumer.js';
import { sortedRows } from './revenueTable.js';

/**
 * The example reads what the real mapper writes: Stripe events go through the mapper on a
 * private prefix, then the example's consumer decodes conversions.v1 with the schema
 * registry (not the project's codec) and its table holds the expected amounts.
 */
describe('revenue-by-partner example', () => {
  const prefix = `${uniqueId('rev')}.`;
  const integrationId = uniqueId('int_rev_');
  let mapper: RunningMapper;
  let consumer: RunningRevenueConsumer;

  beforeAll(async () => {
    const log = createLogger('revenue-example', 'silent');
    const env = serviceEnv(prefix, { MAPPER_HEALTH_PORT: '0', MAPPER_GROUP_ID: uniqueId('mapper-rev-'), LOG_LEVEL: 'silent' });
    // No Stripe key: the mapper maps from the webhook payloads alone.
    mapper = await startMapper(loadConfig(mapperEnv, env), log);
    const pool = createPool(stackEndpoints().databaseUrl);
    await createIntegration(pool, createSecretBox(parseKey(TEST_SECRETS_KEY)), { id: integrationId, name: 'Revenue', webhookSecrets: [randomWebhookSecret()] });
    await pool.end();
    const kafka = createKafka({ brokers: [stackEndpoints().kafkaBrokers], clientId: 'revenue-example-test', log });
    await ensureTopics(kafka, prefix);

    const tokyo = 'cus_' + uniqueId('tokyo');
    // 5,000 JPY (no minor unit) for pk_tokyo, then 2,000 JPY of it refunded.
    const tokyoSale = checkoutSessionCompletedEvent({ customer: tokyo, currency: 'jpy', amountSubtotal: 5_000, paymentIntent: 'pi_' + uniqueId('t'), metadata: { partner_key: 'pk_tokyo' } });
    const events: Parameters<typeof rawRecord>[1][] = [
      customerEvent('customer.created', { id: tokyo, metadata: { partner_key: 'pk_tokyo' } }),
      tokyoSale,
      // 12.345 KWD (three decimals) for pk_kuwait.
      checkoutSessionCompletedEvent({ currency: 'kwd', amountSubtotal: 12_345, metadata: { partner_key: 'pk_kuwait' } }),
      // 49.00 USD nobody referred.
      checkoutSessionCompletedEvent({ currency: 'usd', amountSubtotal: 4_900 }),
      chargeEvent('charge.refunded', { customer: tokyo, currency: 'jpy', amount: 5_000, paymentIntent: tokyoSale.data.object.payment_intent, refunds: [{ amount: 2_000 }] }),
    ];
    const producer = kafka.producer();
    await producer.connect();
    // A record written before the by-source attribution fields (issue 15), with that schema: the
    // topic holds both generations, and the example reads each by the schema id on its record.
    const registry = new SchemaRegistry({ host: stackEndpoints().schemaRegistryUrl });
    const before = readFileSync(new URL('../../libs/contracts/src/fixtures/conversionSchema.beforeBySource.json', import.meta.url), 'utf8');
    const conversionsTopic = topicName('conversions', prefix);
    const { id: oldId } = await registry.register({ type: SchemaType.AVRO, schema: before }, { subject: valueSubject(conversionsTopic) });
    const oldRecord = {
      conversionId: uniqueId('cnv_old_'), kind: 'SALE_FIRST', saleReason: 'subscription_create', sourceEventIds: ['evt_old'], integrationId,
      stripeAccount: null, livemode: false, occurredAt: 1, receivedAt: 2, orderId: 'in_old', customerId: 'cus_old', subscriptionId: 'sub_old',
      chargeId: null, attribution: { clickId: 'clk_old', partnerKey: 'pk_legacy', customerKey: null, promoCode: null, emailSha256: null, productKey: null },
      attributed: true, currency: 'EUR', amountMinor: 1_000, taxMinor: 0, discountMinor: 0, lineItems: [], notBefore: 2,
      refundId: null, orderAmountMinor: null, refundedTotalMinor: null, saleNetMinor: null,
    };
    await producer.send({ topic: conversionsTopic, messages: [{ key: 'cus_old', value: await registry.encode(oldId, oldRecord) }] });
    await producer.send({ topic: topicName('stripeEvents', prefix), messages: events.map((e) => rawRecord(integrationId, e)) });
    await producer.disconnect();

    consumer = await startRevenueConsumer({
      brokers: [stackEndpoints().kafkaBrokers], registryUrl: stackEndpoints().schemaRegistryUrl, topicPrefix: prefix, groupId: uniqueId('revenue-'),
    });
  });
  afterAll(async () => {
    await consumer?.stop();
    await mapper?.stop();
  });

  it('keeps sales, refunds and net per partner and currency from the mapper\'s records and a record of the schema before', async () => {
    const expected = [
      { partner: 'pk_kuwait', currency: 'KWD', sales: 1, grossMinor: 12_345, refundCount: 0, refundsMinor: 0, netMinor: 12_345 },
      { partner: 'pk_legacy', currency: 'EUR', sales: 1, grossMinor: 1_000, refundCount: 0, refundsMinor: 0, netMinor: 1_000 },
      { partner: 'pk_tokyo', currency: 'JPY', sales: 1, grossMinor: 5_000, refundCount: 1, refundsMinor: -2_000, netMinor: 3_000 },
      { partner: '(unattributed)', currency: 'USD', sales: 1, grossMinor: 4_900, refundCount: 0, refundsMinor: 0, netMinor: 4_900 },
    ];
    await waitFor(() => (JSON.stringify(sortedRows(consumer.table())) === JSON.stringify(expected) ? true : undefined),
      { timeoutMs: 45_000, intervalMs: 200, what: `the revenue table (now ${JSON.stringify(sortedRows(consumer.table()))})` });
    expect(sortedRows(consumer.table())).toEqual(expected);
    // Customer identity records were read too, and left the table alone.
    expect(consumer.read()).toBeGreaterThan(5);
  });
});
