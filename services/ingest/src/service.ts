import Fastify, { type FastifyInstance } from 'fastify';
import { topicName } from '@sas/contracts';
import {
  createIdempotentProducer, createKafka, createPool, createSecretBox, createTtlCache, ensureTopics,
  loadWebhookAuth, migrate, parseKey, type Logger,
} from '@sas/runtime';
import type { IngestConfig } from './config.js';
import { createBatchingPublisher } from './adapters/batchingPublisher.js';
import { createRenewingProducer } from './adapters/renewingProducer.js';
import { createPlatformaticSender } from './adapters/platformaticProducer.js';
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
  const admin = kafka.admin();
  await admin.connect();

  const auth = createTtlCache((id) => loadWebhookAuth(pool, box, id), config.SECRETS_CACHE_MS);
  let pendingOf = () => 0;
  const metrics = createIngestMetrics(() => pendingOf());
  const newSender = config.INGEST_KAFKA_CLIENT === 'platformatic'
    ? () => createPlatformaticSender({ brokers: config.KAFKA_BROKERS, clientId: config.KAFKA_CLIENT_ID ?? 'ingest', timeoutMs: config.PUBLISH_TIMEOUT_MS })
    : () => createIdempotentProducer(kafka);
  const producer = createRenewingProducer(newSender, (cause) => {
    metrics.producerRenewals.inc();
    // Kafka clients' errors name brokers and codes, never record contents.
    const e = cause as { message?: string; errors?: { message?: string }[] };
    const reason = [e?.message, ...(e?.errors ?? []).map((x) => x?.message)].filter(Boolean).join('; ');
    log.warn({ err: reason }, 'send failed: the next batch goes through a new idempotent producer');
  });
  await producer.connect();
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
    // No per-request logger: at webhook rates fastify's child logger per request (with
    // redaction) costs more than the request. The route logs rejections and failures itself.
    logger: false,
    bodyLimit: config.MAX_BODY_BYTES,
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
    log,
  });
  app.setErrorHandler((err, _req, reply) => {
    const status = (err as { statusCode?: number }).statusCode ?? 500;
    if (status >= 500) log.error({ err }, 'request failed');
    return reply.code(status).send({ error: status >= 500 ? 'internal error' : (err as Error).message });
  });
  const address = await app.listen({ host: config.INGEST_HOST, port: config.INGEST_PORT });
  log.info({ url: `${config.PUBLIC_BASE_URL ?? address}/webhooks/stripe/<integrationId>` }, 'ingest listening');

  return {
    url: address,
    app,
    stop: async () => {
      const t0 = performance.now();
      // Stop accepting; requests in flight finish, each answered after its own write (bounded by
      // PUBLISH_TIMEOUT_MS). Keep-alive sockets that go idle, or were opened and never sent a
      // request, would hold close() open until Node's header timeout: reap them as we go, and
      // cut whatever is left once every in-flight write has had its time.
      const closing = app.close();
      const reaper = setInterval(() => app.server.closeIdleConnections(), 100);
      const cutoff = setTimeout(() => app.server.closeAllConnections(), config.PUBLISH_TIMEOUT_MS + 1_000);
      await closing;
      clearInterval(reaper);
      clearTimeout(cutoff);
      const closedMs = performance.now() - t0;
      await publisher.drain();
      await producer.disconnect();
      await admin.disconnect();
      await pool.end();
      log.info({ closedMs: Math.round(closedMs), totalMs: Math.round(performance.now() - t0) }, 'ingest stopped');
    },
  };
};
