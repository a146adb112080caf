import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { topicName } from '@sas/contracts';
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
  const pool = createPool(config.DATABASE_URL);
  await migrate(config.DATABASE_URL, log);
  const kafka = createKafka({ brokers: config.KAFKA_BROKERS, clientId: config.KAFKA_CLIENT_ID ?? 'scheduler', log });
  await ensureTopics(kafka, prefix);
  const admin = kafka.admin();
  await admin.connect();
  const dueTopic = topicName('conversionsDue', prefix);
  const meta = await admin.fetchTopicMetadata({ topics: [dueTopic] });
  const duePartitions = meta.topics[0]!.partitions.length;
  const store = createHoldStore(pool, prefix);
  const metrics = createSchedulerMetrics(() => store.stats());

  const lanes = await startReleaseLanes({
    store, kafka, admin, instanceId, dueTopic, lanes: duePartitions, releaseId: `${prefix}scheduler`,
    batch: config.RELEASE_BATCH, intervalMs: config.RELEASE_INTERVAL_MS, leaseMs: config.SCHEDULER_LEASE_MS,
    crash, metrics, log: log.child({ component: 'release' }), now: Date.now,
  });

  const consumer = kafka.consumer({ groupId: `${prefix}${config.SCHEDULER_GROUP_ID}`, sessionTimeout: config.SCHEDULER_SESSION_TIMEOUT_MS });
  await consumer.connect();
  const hold = await runHoldConsumer({
    consumer, topic: topicName('conversions', prefix), duePartitions, codec: createConversionCodec(config.SCHEMA_REGISTRY_URL),
    store, metrics, crash, log: log.child({ component: 'hold' }),
  });

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
      await consumer.disconnect();
      await lanes.stop();
      await app.close();
      await admin.disconnect();
      await pool.end();
    },
  };
};
