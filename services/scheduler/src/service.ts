import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { logLevel } from 'kafkajs';
import { consumerGroupId, topicName } from '@sas/contracts';
import { createConversionCodec, createHealthServer, createKafka, createPool, ensureTopics, migrate, type Logger } from '@sas/runtime';
import type { SchedulerConfig } from './config.js';
import { createHoldStore } from './adapters/holdStore.js';
import { adminRoutes } from './adminRoutes.js';
import { createCrashPoint } from './crashPoint.js';
import { runHoldConsumer } from './holdConsumer.js';
import { createSchedulerMetrics } from './metrics.js';
import { startReleaseLanes } from './releaseLanes.js';

export interface RunningScheduler {
  /** Base URL of /healthz, /readyz, /metrics and /admin. */
  readonly url: string;
  /** The fastify instance, for `inject` in tests. */
  readonly app: Pick<FastifyInstance, 'inject'>;
  readonly instanceId: string;
  /** Lanes this instance releases right now. */
  lanes(): number[];
  stop(): Promise<void>;
}

/**
 * Hold conversions whose notBefore lies after their receipt (PostgreSQL), release each exactly
 * once to conversions.due.v1 when due (Kafka transactions per release lane; see README).
 */
export const startScheduler = async (config: SchedulerConfig, log: Logger): Promise<RunningScheduler> => {
  const prefix = config.KAFKA_TOPIC_PREFIX;
  const instanceId = `${process.pid}-${randomUUID().slice(0, 8)}`;
  const crash = createCrashPoint(config.SCHEDULER_CRASH_AT, config.SCHEDULER_CRASH_AFTER, log);
  await migrate(config.DATABASE_URL, log);
  const kafkaLog = log.child({ component: 'kafkajs' });
  const kafka = createKafka({
    brokers: config.KAFKA_BROKERS, clientId: config.KAFKA_CLIENT_ID ?? 'scheduler', log,
    logCreator: () => ({ namespace, level, log: entry }) => {
      const { message, ...extra } = entry;
      // Retried by KafkaJS, and expected: a lane's next transaction starts while the broker is
      // still completing the previous one (CONCURRENT_TRANSACTIONS).
      const expected = /concurrent operation on the same transaction|Limiting retries for the idempotent producer/.test(`${message} ${String(extra.error ?? '')}`);
      const pinoLevel = level <= logLevel.ERROR ? 'error' : level === logLevel.WARN ? 'warn' : level === logLevel.INFO ? 'info' : 'debug';
      kafkaLog[expected ? 'debug' : pinoLevel]({ namespace, ...extra }, message);
    },
  });
  await ensureTopics(kafka, prefix);
  const admin = kafka.admin();
  await admin.connect();
  const dueTopic = topicName('conversionsDue', prefix);
  const meta = await admin.fetchTopicMetadata({ topics: [dueTopic] });
  const duePartitions = meta.topics[0]!.partitions.length;
  // One connection per lane plus the hold consumer's and the operator API's; leases get their own.
  const pool = createPool(config.DATABASE_URL, duePartitions + 4);
  const control = createPool(config.DATABASE_URL, 2);
  const store = createHoldStore(pool, prefix, control);
  const metrics = createSchedulerMetrics(() => store.stats());

  const lanes = await startReleaseLanes({
    store, kafka, admin, instanceId, dueTopic, lanes: duePartitions, releaseId: `${prefix}scheduler`,
    batch: config.RELEASE_BATCH, intervalMs: config.RELEASE_INTERVAL_MS, leaseMs: config.SCHEDULER_LEASE_MS,
    crash, metrics, log: log.child({ component: 'release' }), now: Date.now,
  });

  const consumer = kafka.consumer({ groupId: consumerGroupId(config.SCHEDULER_GROUP_ID, prefix), sessionTimeout: config.SCHEDULER_SESSION_TIMEOUT_MS,
    // Smaller fetches than KafkaJS's 10 MB: the hold path is bounded by PostgreSQL anyway, and
    // memory stays flat under a backlog of millions.
    maxBytes: 4 * 1024 * 1024, maxBytesPerPartition: 512 * 1024,
  });
  await consumer.connect();
  const hold = await runHoldConsumer({
    consumer, topic: topicName('conversions', prefix), duePartitions, codec: createConversionCodec(config.SCHEMA_REGISTRY_URL),
    store, metrics, crash, log: log.child({ component: 'hold' }),
  });

  // Any instance may purge: the delete is idempotent. First pass soon after start, then hourly.
  const purge = async () => {
    try {
      const n = await store.purgeSettled(config.SCHEDULER_RETAIN_SETTLED_DAYS * 86_400_000);
      metrics.purged.inc(n);
      if (n > 0) log.info({ purged: n, retainDays: config.SCHEDULER_RETAIN_SETTLED_DAYS }, 'purged settled holds');
    } catch (err) {
      log.warn({ err }, 'purge of settled holds failed; next interval retries');
    }
  };
  const firstPurge = setTimeout(() => void purge(), Math.min(60_000, config.SCHEDULER_PURGE_INTERVAL_MS));
  const purgeTimer = setInterval(() => void purge(), config.SCHEDULER_PURGE_INTERVAL_MS);
  firstPurge.unref();
  purgeTimer.unref();

  const app = createHealthServer({
    postgres: () => pool.query('SELECT 1'),
    kafka: () => admin.describeCluster(),
    holdConsumer: async () => { if (!hold.joined()) throw new Error('not joined to its consumer group yet'); },
  });
  app.get('/metrics', async (_req, reply) => reply.type(metrics.registry.contentType).send(await metrics.registry.metrics()));
  await app.register(adminRoutes, { prefix: '/admin', store, token: config.SCHEDULER_ADMIN_TOKEN, metrics });
  const url = await app.listen({ host: config.SCHEDULER_HOST, port: config.SCHEDULER_HEALTH_PORT });
  log.info({ url, instanceId }, 'scheduler running');

  return {
    url,
    app,
    instanceId,
    lanes: lanes.owned,
    stop: async () => {
      clearTimeout(firstPurge);
      clearInterval(purgeTimer);
      await consumer.disconnect();
      await lanes.stop();
      await app.close();
      await admin.disconnect();
      await pool.end();
      await control.end();
    },
  };
};
