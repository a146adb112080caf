import { Kafka, logLevel, type Producer } from 'kafkajs';
import { conversionKey, RawEventHeaders, stripeEventKey, topicName, type Conversion, type DispatchOutcome } from '@sas/contracts';
import { createConversionCodec, createIntegration, createLogger, createPool, createSecretBox, loadConfig, migrate, parseKey, type Pool } from '@sas/runtime';
import { TEST_SECRETS_KEY, serviceEnv, stackEndpoints, startWebhookStub, uniqueId, type WebhookStub } from '@sas/testkit';
import { mapperEnv, startMapper, type RunningMapper } from '@sas/mapper';
import { dispatcherEnv, startDispatcher, type RunningDispatcher } from '@sas/dispatcher';

const SIGNING_SECRET = `whsec_${Buffer.from('r'.repeat(24)).toString('base64')}`;

/**
 * The mapper and the dispatcher in-process on a private topic prefix, a webhook stub as the
 * partner, and raw events written to stripe.events.v1 as ingest writes them: what the
 * replay and dead-letter commands act on. `cliEnv` is what `sas` needs to reach it.
 */
export const startPipeline = async (name: string) => {
  const prefix = `${uniqueId(name)}.`;
  const env = serviceEnv(prefix, {
    MAPPER_HEALTH_PORT: '0', DISPATCHER_HEALTH_PORT: '0', MAPPER_GROUP_ID: uniqueId('map'), DISPATCHER_GROUP_ID: uniqueId('dsp'),
    // Dead-lettered after two attempts; duplicates dropped, so only the replay header re-emits.
    RETRY_SCHEDULE_MS: '100', DISPATCH_POLL_MS: '50', SETTINGS_CACHE_MS: '0', BREAKER_OPEN_MS: '100', MAPPER_DUPLICATE_EVENTS: 'drop',
  });
  const log = createLogger(name, env.LOG_LEVEL);
  await migrate(stackEndpoints().databaseUrl, log);
  const pool: Pool = createPool(stackEndpoints().databaseUrl);
  const box = createSecretBox(parseKey(TEST_SECRETS_KEY));
  const stub: WebhookStub = await startWebhookStub({ secret: SIGNING_SECRET });
  const services: (RunningMapper | RunningDispatcher)[] = await Promise.all([
    startMapper(loadConfig(mapperEnv, env), log.child({ service: 'mapper' })),
    startDispatcher(loadConfig(dispatcherEnv, env), log.child({ service: 'dispatcher' })),
  ]);
  const kafka = new Kafka({ brokers: [stackEndpoints().kafkaBrokers], logLevel: logLevel.NOTHING, clientId: name });
  const producer: Producer = kafka.producer({ allowAutoTopicCreation: false });
  await producer.connect();
  // Every dispatch outcome, as it arrives: a 'duplicate' one is the ledger answering a replay.
  const codec = createConversionCodec(stackEndpoints().schemaRegistryUrl);
  const outcomes: DispatchOutcome[] = [];
  const watcher = kafka.consumer({ groupId: uniqueId('watch'), sessionTimeout: 10_000 });
  await watcher.connect();
  await watcher.subscribe({ topic: topicName('dispatchOutcomes', prefix), fromBeginning: true });
  await watcher.run({ eachMessage: async ({ message }) => { outcomes.push(JSON.parse(message.value!.toString()) as DispatchOutcome); } });
  const webhook = (id: string) => ({
    id, type: 'webhook' as const, settings: { url: `${stub.baseUrl}/hooks`, rateLimitPerSecond: 1000 }, credentials: { signingSecret: SIGNING_SECRET },
  });
  return {
    prefix, pool, stub, kafka, outcomes,
    cliEnv: { ...env, USER: 'test-operator' },
    /** An integration with no refund hold (sales go straight to the dispatcher) and these webhook destinations. */
    createIntegration: (id: string, destinationIds: string[]) =>
      createIntegration(pool, box, { id, name: id, refundHoldSeconds: 0, webhookSecrets: ['whsec_x'], destinations: destinationIds.map(webhook) }),
    addDestination: (integrationId: string, id: string) =>
      pool.query(`INSERT INTO destinations (id, integration_id, type, settings, credentials_ciphertext) VALUES ($1, $2, 'webhook', $3, $4)`,
        [id, integrationId, JSON.stringify(webhook(id).settings), box.seal(JSON.stringify(webhook(id).credentials))]),
    /** Write raw Stripe events as ingest does (Stripe's bytes, the contract's headers and key). */
    sendRaw: async (integrationId: string, events: { id: string; type: string; data: { object: Record<string, unknown> } }[]) => {
      await producer.send({
        topic: topicName('stripeEvents', prefix), acks: -1,
        messages: events.map((e) => ({
          key: stripeEventKey({ integrationId, account: null, customerId: (e.data.object.customer as string) ?? null, objectId: (e.data.object.id as string) ?? null }),
          value: JSON.stringify(e),
          headers: { [RawEventHeaders.integrationId]: integrationId, [RawEventHeaders.eventId]: e.id, [RawEventHeaders.eventType]: e.type, [RawEventHeaders.receivedAt]: String(Date.now()) },
        })),
      });
    },
    /** Write conversions to conversions.v1 as the mapper does (Avro through the registry, keyed per the contract); returns their frames. */
    sendConversions: async (cs: readonly Conversion[]) => {
      const topic = topicName('conversions', prefix);
      const frames = await Promise.all(cs.map((c) => codec.encode(topic, c)));
      await producer.send({
        topic, acks: -1,
        messages: cs.map((c, i) => ({ key: conversionKey({ account: c.stripeAccount, customerId: c.customerId, subscriptionId: c.subscriptionId, orderId: c.orderId }), value: frames[i]! })),
      });
      return frames;
    },
    decode: (frame: Buffer) => codec.decode(frame),
    /** The webhook deliveries the stub received for an order (every request, whether it was new to the stub or not). */
    deliveriesOf: (orderId: string) => stub.received.filter((r) => (r.payload.data as { orderId?: string }).orderId === orderId).length,
    ledgerStatus: async (integrationId: string, destinationId: string, orderId: string) =>
      (await pool.query<{ status: string }>(`SELECT status FROM dispatch_ledger WHERE integration_id = $1 AND destination_id = $2 AND order_id = $3`,
        [integrationId, destinationId, orderId])).rows[0]?.status,
    endOffsets: async (topic: Parameters<typeof topicName>[0]) => {
      const admin = kafka.admin();
      await admin.connect();
      try {
        return (await admin.fetchTopicOffsets(topicName(topic, prefix))).map((p) => `${p.partition}:${p.high}`).join(',');
      } finally {
        await admin.disconnect();
      }
    },
    stop: async () => {
      await producer.disconnect();
      await watcher.disconnect();
      await Promise.all(services.map((s) => s.stop()));
      await stub.close();
      await pool.end();
    },
  };
};
export type Pipeline = Awaited<ReturnType<typeof startPipeline>>;
