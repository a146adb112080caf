import Fastify, { LogController, type FastifyInstance } from 'fastify';
import { topicName } from '@sas/contracts';
import {
  createDurableProducer, createKafka, createPool, createSecretBox, createTtlCache, ensureTopics,
  loadWebhookAuth, migrate, parseKey, type Logger,
} from '@sas/runtime';
import type { IngestConfig } from './config.js';
import { createBatchingPublisher } from './adapters/batchingPublisher.js';
import { createIngestMetrics } from './metrics.js';
import { webhookRoute } from './webhookRoute.js';

export interface RunningIngest {
  readonly url: string;
  /** The fastify instance, for `inject` in tests. */
  readonly app: Pick<FastifyInstance, "inject">;
  /** Stop accepting, answer every request in flight, flush the producer. */
  stop(): Promise<void>;
}

/** Wire ingest: PostgreSQL for secrets, Kafka for events, fastify for Stripe. */
export const startIngest = async (config: IngestConfig, log: Logger): Promise<RunningIngest> => {
  const pool = createPool(config.DATABASE_URL);
  await migrate(config.DATABASE_URL, log);
  const box = createSecretBox(
    parseKey(config.SECRETS_KEY),
    config.SECRETS_KEY_PREVIOUS ? [parseKey(config.SECRETS_KEY_PREVIOUS, 'SECRETS_KEY_PREVIOUS')] : [],
  );
  const kafka = createKafka({ brokers: config.KAFKA_BROKERS, clientId: config.KAFKA_CLIENT_ID ?? 'ingest', log });
  await ensureTopics(kafka, config.KAFKA_TOPIC_PREFIX);
  const producer = createDurableProducer(kafka);
  await producer.connect();
  const admin = kafka.admin();
  await admin.connect();

  const auth = createTtlCache((id) => loadWebhookAuth(pool, box, id), config.SECRETS_CACHE_MS);
  let pendingOf = () => 0;
  const metrics = createIngestMetrics(() => pendingOf());
  const publisher = createBatchingPublisher(producer, topicName('stripeEvents', config.KAFKA_TOPIC_PREFIX), {
    maxBatch: config.PRODUCE_MAX_BATCH,
    maxPending: config.MAX_PENDING_EVENTS,
    timeoutMs: config.PUBLISH_TIMEOUT_MS,
    onBatch: (size, ms, ok) => {
      metrics.produceLatency.observe({ outcome: ok ? 'ok' : 'error' }, ms / 1000);
      metrics.batchSize.observe(size);
    },
  });
  pendingOf = publisher.pending;

  const app = Fastify({
    loggerInstance: log,
    bodyLimit: config.MAX_BODY_BYTES,
    // Per-request logs would dominate at webhook rates; rejections and failures are logged by the route.
    logController: new LogController({ disableRequestLogging: true }),
    return503OnClosing: true,
  });
  app.addHook('onResponse', async (req, reply) => {
    if (req.routeOptions.url?.startsWith('/webhooks/')) metrics.requests.inc({ status: String(reply.statusCode) });
  });
  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_req, reply) => {
    const checks = await Promise.allSettled([pool.query('SELECT 1'), admin.describeCluster()]);
    const [pg, kf] = checks.map((c) => (c.status === 'fulfilled' ? 'ok' : String((c.reason as Error)?.message ?? c.reason)));
    const ready = pg === 'ok' && kf === 'ok';
    return reply.code(ready ? 200 : 503).send({ status: ready ? 'ready' : 'unready', checks: { postgres: pg, kafka: kf } });
  });
  app.get('/metrics', async (_req, reply) => reply.type(metrics.registry.contentType).send(await metrics.registry.metrics()));
  await app.register(webhookRoute, {
    webhookAuth: (id) => auth.get(id),
    publish: publisher.publish,
    toleranceSeconds: config.WEBHOOK_TOLERANCE_SECONDS,
    now: Date.now,
    onRejected: (reason) => metrics.verifyFailures.inc({ reason }),
  });
  const address = await app.listen({ host: config.INGEST_HOST, port: config.INGEST_PORT });
  log.info({ url: `${config.PUBLIC_BASE_URL ?? address}/webhooks/stripe/<integrationId>` }, 'ingest listening');

  return {
    url: address,
    app,
    stop: async () => {
      await app.close(); // stops accepting; in-flight requests finish, each after its own write
      await publisher.drain();
      await producer.disconnect();
      await admin.disconnect();
      await pool.end();
    },
  };
};
