import Fastify, { LogController } from 'fastify';
import { topicName } from '@sas/contracts';
import {
  createDurableProducer, createKafka, createPool, createSecretBox, createTtlCache, ensureTopics,
  loadWebhookAuth, migrate, parseKey, type Logger,
} from '@sas/runtime';
import type { IngestConfig } from './config.js';
import { createPublisher } from './adapters/eventPublisher.js';
import { webhookRoute } from './webhookRoute.js';

export interface RunningIngest {
  readonly url: string;
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

  const auth = createTtlCache((id) => loadWebhookAuth(pool, box, id), config.SECRETS_CACHE_MS);
  const app = Fastify({
    loggerInstance: log,
    bodyLimit: config.MAX_BODY_BYTES,
    // Per-request logs would dominate at webhook rates; rejections and failures are logged by the route.
    logController: new LogController({ disableRequestLogging: true }),
  });
  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_req, reply) => {
    try {
      await pool.query('SELECT 1');
      return { status: 'ready' };
    } catch (err) {
      return reply.code(503).send({ status: 'unready', error: (err as Error).message });
    }
  });
  await app.register(webhookRoute, {
    webhookAuth: (id) => auth.get(id),
    publish: createPublisher(producer, topicName('stripeEvents', config.KAFKA_TOPIC_PREFIX), config.PUBLISH_TIMEOUT_MS),
    toleranceSeconds: config.WEBHOOK_TOLERANCE_SECONDS,
    now: Date.now,
  });
  const address = await app.listen({ host: config.INGEST_HOST, port: config.INGEST_PORT });
  log.info({ url: `${config.PUBLIC_BASE_URL ?? address}/webhooks/stripe/<integrationId>` }, 'ingest listening');

  return {
    url: address,
    stop: async () => {
      await app.close(); // stops accepting, lets in-flight requests finish their writes
      await producer.disconnect();
      await pool.end();
    },
  };
};
