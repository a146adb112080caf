import { consumerGroupId, conversionKey, mapperDeadLetterKey, topicName } from '@sas/contracts';
import {
  chunkTopicMessages, createConversionCodec, createDurableProducer, createFrameRewriter, createHealthServer, createKafka, createPool, createSecretBox, createTtlCache,
  ensureTopics, migrate, Murmur2Partitioner, parseKey, type Logger,
} from '@sas/runtime';
import { createMapperStore } from './adapters/mapperStore.js';
import { createEnricher } from './adapters/stripeApi.js';
import type { MapperConfig } from './config.js';
import { handleBatch } from './handleBatch.js';
import { createMapperErasure } from './erasure.js';
import { createMapperMetrics } from './metrics.js';

export interface RunningMapper {
  /** Base URL of /healthz, /readyz and /metrics. */
  readonly url: string;
  stop(): Promise<void>;
}

/**
 * stripe.events.v1 → conversions.v1 (+ mapper.dlq.v1), at least once with idempotent output:
 * per batch of one partition, map in order, produce every record of the batch in one send
 * (acks from all in-sync replicas), then commit the state effects and the handled event ids
 * in one PostgreSQL transaction, then commit the offsets. A crash anywhere replays the batch:
 * handled events are skipped by id, the rest map to the same deterministic conversion ids.
 */
export const startMapper = async (config: MapperConfig, log: Logger): Promise<RunningMapper> => {
  const pool = createPool(config.DATABASE_URL);
  await migrate(config.DATABASE_URL, log);
  const kafka = createKafka({ brokers: config.KAFKA_BROKERS, clientId: config.KAFKA_CLIENT_ID ?? 'mapper', log });
  await ensureTopics(kafka, config.KAFKA_TOPIC_PREFIX);
  const codec = createConversionCodec(config.SCHEMA_REGISTRY_URL);
  const store = createMapperStore(pool);
  const erasure = createMapperErasure(pool, createFrameRewriter(config.SCHEMA_REGISTRY_URL), log.child({ component: 'erasure' }));
  const settings = createTtlCache((id) => store.settingsOf(id), config.SETTINGS_CACHE_MS);
  const box = config.SECRETS_KEY
    ? createSecretBox(parseKey(config.SECRETS_KEY), config.SECRETS_KEY_PREVIOUS ? [parseKey(config.SECRETS_KEY_PREVIOUS, 'SECRETS_KEY_PREVIOUS')] : [])
    : null;
  if (!box) log.warn('SECRETS_KEY not set: Stripe API enrichment is off (checkout line items, invoices behind basil charges, promotion codes)');
  const metrics = createMapperMetrics();
  let stopping = false;
  // Any running batch's heartbeat keeps this member in the group while Stripe is retried.
  let heartbeatNow: () => Promise<void> = async () => undefined;
  const enricher = createEnricher({
    apiBase: config.STRIPE_API_BASE, timeoutMs: config.STRIPE_TIMEOUT_MS, cacheMs: config.ENRICHMENT_CACHE_MS,
    cacheMax: config.ENRICHMENT_CACHE_MAX, log: log.child({ component: 'stripe-api' }), isStopping: () => stopping,
    onWait: () => heartbeatNow().catch(() => undefined),
  });
  const producer = createDurableProducer(kafka, { createPartitioner: Murmur2Partitioner });
  const consumer = kafka.consumer({
    groupId: consumerGroupId(config.MAPPER_GROUP_ID, config.KAFKA_TOPIC_PREFIX),
    sessionTimeout: config.MAPPER_SESSION_TIMEOUT_MS,
    heartbeatInterval: Math.min(3_000, Math.floor(config.MAPPER_SESSION_TIMEOUT_MS / 3)),
    maxBytesPerPartition: config.MAPPER_FETCH_BYTES_PER_PARTITION,
    maxBytes: Math.max(config.MAPPER_FETCH_MAX_BYTES, config.MAPPER_FETCH_BYTES_PER_PARTITION),
  });
  const inTopic = topicName('stripeEvents', config.KAFKA_TOPIC_PREFIX);
  const outTopic = topicName('conversions', config.KAFKA_TOPIC_PREFIX);
  const dlqTopic = topicName('mapperDeadLetters', config.KAFKA_TOPIC_PREFIX);
  await producer.connect();
  await consumer.connect();
  consumer.on(consumer.events.GROUP_JOIN, () => metrics.resetLag());
  await consumer.subscribe({ topic: inTopic, fromBeginning: true });

  await consumer.run({
    eachBatchAutoResolve: false,
    autoCommit: true,
    partitionsConsumedConcurrently: config.MAPPER_PARTITIONS_CONCURRENCY,
    eachBatch: async ({ batch, resolveOffset, heartbeat, commitOffsetsIfNecessary, isRunning, isStale }) => {
      if (batch.messages.length === 0 || !isRunning() || isStale()) {
        if (batch.messages.length === 0) metrics.lag(batch.topic, batch.partition, batch.offsetLag());
        return;
      }
      heartbeatNow = heartbeat;
      const t0 = performance.now();
      const records = batch.messages.map((m) => ({ value: m.value, headers: m.headers ?? {}, offset: m.offset }));
      // Before the output: a customer.deleted in this batch is erased, and the batch's output
      // (a replay, a backfill) forgets every erased person (README, "Personal data").
      await erasure.onCustomerDeleted(records);
      const outcome = await erasure.forget(await handleBatch(
        { store, settingsOf: (id) => settings.get(id), enricher, box, now: Date.now, enrichConcurrency: config.ENRICHMENT_CONCURRENCY, duplicates: config.MAPPER_DUPLICATE_EVENTS },
        batch.topic, batch.partition, records,
      ));
      const conversions = await Promise.all(outcome.conversions.map(async (c) => ({
        key: conversionKey({ account: c.stripeAccount, customerId: c.customerId, subscriptionId: c.subscriptionId, orderId: c.orderId }),
        value: await codec.encode(outTopic, c),
      })));
      const t1 = performance.now();
      const topicMessages = [
        ...(conversions.length > 0 ? [{ topic: outTopic, messages: conversions }] : []),
        ...(outcome.deadLetters.length > 0
          ? [{ topic: dlqTopic, messages: outcome.deadLetters.map((d) => ({ key: mapperDeadLetterKey(d), value: JSON.stringify(d) })) }]
          : []),
      ];
      // In sends of at most 512 KiB, in order: a batch of large dead letters must never exceed the broker's message size.
      for (const chunk of chunkTopicMessages(topicMessages, 512 * 1024)) await producer.sendBatch({ topicMessages: chunk, acks: -1 });
      const t2 = performance.now();
      await store.commit(outcome.effects, outcome.handled);
      const t3 = performance.now();
      for (const d of outcome.deadLetters) {
        log.error({ stripeEventId: d.eventId, integrationId: d.integrationId, code: d.code, reason: d.reason, partition: d.partition, offset: d.offset }, 'raw event dead-lettered');
      }
      log.debug({
        partition: batch.partition, events: batch.messages.length, conversions: conversions.length, duplicates: outcome.duplicates,
        ms: { map: Math.round(t1 - t0), produce: Math.round(t2 - t1), commit: Math.round(t3 - t2) },
      }, 'batch mapped');
      resolveOffset(batch.messages[batch.messages.length - 1]!.offset);
      metrics.batch({
        events: batch.messages.length, seconds: (performance.now() - t0) / 1000, duplicatesMode: config.MAPPER_DUPLICATE_EVENTS,
        conversions: outcome.conversions, deadLetters: outcome.deadLetters, duplicates: outcome.duplicates,
      });
      metrics.lag(batch.topic, batch.partition, batch.offsetLag());
      await commitOffsetsIfNecessary();
      await heartbeat();
    },
  });

  const pruneTimer = setInterval(() => {
    store.prune(config.DEDUPE_RETENTION_DAYS).catch((err) => log.warn({ err: (err as Error).message }, 'dedupe prune failed'));
  }, 3_600_000);
  pruneTimer.unref();

  const health = createHealthServer({ postgres: () => pool.query('SELECT 1') });
  health.get('/metrics', async (_req, reply) => reply.type(metrics.registry.contentType).send(await metrics.registry.metrics()));
  const url = await health.listen({ host: '127.0.0.1', port: config.MAPPER_HEALTH_PORT });

  return {
    url,
    stop: async () => {
      stopping = true;
      clearInterval(pruneTimer);
      await health.close();
      await consumer.disconnect();
      await producer.disconnect();
      await pool.end();
    },
  };
};
