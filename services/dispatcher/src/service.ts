import { randomUUID } from 'node:crypto';
import { consumerGroupId, requiresHold, topicName } from '@sas/contracts';
import {
  createConversionCodec, createDurableProducer, createHealthServer, createKafka, createPool, createSecretBox,
  createTtlCache, ensureTopics, loadDestinations, migrate, Murmur2Partitioner, parseKey, type Logger,
} from '@sas/runtime';
import type { DispatcherConfig } from './config.js';
import { createHttpSender } from './adapters/httpSender.js';
import { createLedger } from './adapters/ledger.js';
import { createEngine, type Incoming } from './engine.js';
import { createDispatcherMetrics } from './metrics.js';

export interface RunningDispatcher {
  /** Base URL of /healthz, /readyz, /metrics (Prometheus) and /metrics/lanes (JSON). */
  readonly url: string;
  stop(): Promise<void>;
}

export const startDispatcher = async (config: DispatcherConfig, log: Logger): Promise<RunningDispatcher> => {
  const pool = createPool(config.DATABASE_URL, 12);
  await migrate(config.DATABASE_URL, log);
  const box = createSecretBox(
    parseKey(config.SECRETS_KEY),
    config.SECRETS_KEY_PREVIOUS ? [parseKey(config.SECRETS_KEY_PREVIOUS, 'SECRETS_KEY_PREVIOUS')] : [],
  );
  const kafka = createKafka({ brokers: config.KAFKA_BROKERS, clientId: config.KAFKA_CLIENT_ID ?? 'dispatcher', log });
  await ensureTopics(kafka, config.KAFKA_TOPIC_PREFIX);
  const codec = createConversionCodec(config.SCHEMA_REGISTRY_URL);
  // Same partitions as KafkaJS's default partitioner, without its Long arithmetic per key (about 1 % of the bench profile).
  const producer = createDurableProducer(kafka, { createPartitioner: Murmur2Partitioner });
  // Default isolation (read committed): a transactional conversions.due.v1 is read only once committed.
  const consumer = kafka.consumer({ groupId: consumerGroupId(config.DISPATCHER_GROUP_ID, config.KAFKA_TOPIC_PREFIX), sessionTimeout: config.CONSUMER_SESSION_TIMEOUT_MS });
  const t = (id: Parameters<typeof topicName>[0]) => topicName(id, config.KAFKA_TOPIC_PREFIX);
  await producer.connect();
  await consumer.connect();
  await consumer.subscribe({ topics: [t('conversions'), t('conversionsDue')], fromBeginning: true });

  const destinations = createTtlCache((id) => loadDestinations(pool, box, id), config.SETTINGS_CACHE_MS);
  const concurrencyOf = new Map<string, number>();
  const sender = createHttpSender({ timeoutMs: config.PARTNER_TIMEOUT_MS, maxSocketsOf: (id) => concurrencyOf.get(id) ?? config.DEFAULT_CONCURRENCY });
  const instance = `${config.KAFKA_CLIENT_ID ?? 'dispatcher'}:${randomUUID()}`;
  // The lanes are read at scrape time, once the engine exists.
  let laneStats: () => ReturnType<typeof engine.stats> = () => ({});
  const metrics = createDispatcherMetrics(() => laneStats());
  const engine = createEngine({
    ledger: createLedger(pool, { scope: config.KAFKA_TOPIC_PREFIX, owner: instance, leaseMs: config.DISPATCH_LEASE_MS }),
    send: sender.send,
    decode: (frame) => codec.decode(frame),
    destinationsOf: async (id) => {
      const ds = await destinations.get(id);
      for (const d of ds) if (typeof d.settings.concurrency === 'number') concurrencyOf.set(d.id, d.settings.concurrency);
      return ds;
    },
    publish: async (messages) => {
      const byTopic = new Map<string, { key: string; value: string }[]>();
      for (const m of messages) {
        const topic = m.topic === 'outcomes' ? t('dispatchOutcomes') : t('dispatchDeadLetters');
        const list = byTopic.get(topic) ?? [];
        list.push({ key: m.key, value: m.value });
        byTopic.set(topic, list);
      }
      await producer.sendBatch({ acks: -1, topicMessages: [...byTopic].map(([topic, msgs]) => ({ topic, messages: msgs })) });
    },
    retrySchedule: config.RETRY_SCHEDULE_MS,
    timeoutMs: config.PARTNER_TIMEOUT_MS,
    leaseMs: config.DISPATCH_LEASE_MS,
    pollMs: config.DISPATCH_POLL_MS,
    lanes: {
      concurrency: config.DEFAULT_CONCURRENCY,
      ratePerSec: config.DEFAULT_RATE_PER_SEC,
      leaseMs: config.DISPATCH_LEASE_MS,
      breaker: { threshold: config.BREAKER_THRESHOLD, openMs: config.BREAKER_OPEN_MS },
    },
    now: Date.now,
    random: Math.random,
    log: log.child({ component: 'dispatch' }),
    onOutcome: metrics.outcome,
    onDeadLetter: metrics.deadLetter,
  });
  laneStats = () => engine.stats();

  const conversionsTopic = t('conversions');
  consumer.on(consumer.events.GROUP_JOIN, () => metrics.resetLag());
  await consumer.run({
    partitionsConsumedConcurrently: config.PARTITIONS_CONSUMED_CONCURRENTLY,
    eachBatch: async ({ batch, heartbeat }) => {
      const items: Incoming[] = [];
      for (const m of batch.messages) {
        if (!m.value) continue;
        const conversion = await codec.decode(m.value);
        // Held conversions reach us again on conversions.due.v1 when the scheduler releases them.
        if (batch.topic === conversionsTopic && requiresHold(conversion)) continue;
        items.push({ conversion, frame: m.value });
      }
      // Ledger rows are written before the batch's offsets are committed (eachBatchAutoResolve).
      await engine.accept(items);
      metrics.lag(batch.topic, batch.partition, batch.offsetLag());
      await heartbeat();
    },
  });
  engine.startPolling();

  const health = createHealthServer({ postgres: () => pool.query('SELECT 1') });
  health.get('/metrics', async (_req, reply) => reply.type(metrics.registry.contentType).send(await metrics.registry.metrics()));
  health.get('/metrics/lanes', async () => ({ lanes: engine.stats() }));
  const url = await health.listen({ host: '127.0.0.1', port: config.DISPATCHER_HEALTH_PORT });

  return {
    url,
    stop: async () => {
      await health.close();
      await consumer.disconnect();
      await engine.stop();
      sender.close();
      await producer.disconnect();
      await pool.end();
    },
  };
};
