import { requiresHold, topicName, outcomeKey } from '@sas/contracts';
import {
  createConversionCodec, createDurableProducer, createHealthServer, createKafka, createPool, createSecretBox,
  createTtlCache, ensureTopics, loadDestinations, migrate, parseKey, type Logger,
} from '@sas/runtime';
import type { DispatcherConfig } from './config.js';
import { createHttpSender } from './adapters/httpSender.js';
import { createLedger } from './adapters/ledger.js';
import { handleConversion } from './handleConversion.js';

export interface RunningDispatcher {
  stop(): Promise<void>;
}

export const startDispatcher = async (config: DispatcherConfig, log: Logger): Promise<RunningDispatcher> => {
  const pool = createPool(config.DATABASE_URL);
  await migrate(config.DATABASE_URL, log);
  const box = createSecretBox(
    parseKey(config.SECRETS_KEY),
    config.SECRETS_KEY_PREVIOUS ? [parseKey(config.SECRETS_KEY_PREVIOUS, 'SECRETS_KEY_PREVIOUS')] : [],
  );
  const kafka = createKafka({ brokers: config.KAFKA_BROKERS, clientId: config.KAFKA_CLIENT_ID ?? 'dispatcher', log });
  await ensureTopics(kafka, config.KAFKA_TOPIC_PREFIX);
  const codec = createConversionCodec(config.SCHEMA_REGISTRY_URL);
  const producer = createDurableProducer(kafka);
  const consumer = kafka.consumer({ groupId: config.DISPATCHER_GROUP_ID });
  const t = (id: Parameters<typeof topicName>[0]) => topicName(id, config.KAFKA_TOPIC_PREFIX);
  await producer.connect();
  await consumer.connect();
  await consumer.subscribe({ topics: [t('conversions'), t('conversionsDue')], fromBeginning: true });

  const destinations = createTtlCache((id) => loadDestinations(pool, box, id), config.SETTINGS_CACHE_MS);
  const handle = handleConversion({
    destinationsOf: (id) => destinations.get(id),
    ledger: createLedger(pool),
    send: createHttpSender(config.PARTNER_TIMEOUT_MS),
    emitOutcome: async (o) => {
      await producer.send({ topic: t('dispatchOutcomes'), acks: -1, messages: [{ key: outcomeKey(o), value: JSON.stringify(o) }] });
    },
    deadLetter: async (d) => {
      await producer.send({ topic: t('dispatchDeadLetters'), acks: -1, messages: [{ key: d.conversionId, value: JSON.stringify(d) }] });
    },
    retrySchedule: config.RETRY_SCHEDULE_MS,
    now: Date.now,
    random: Math.random,
    sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
    log,
  });

  await consumer.run({
    eachMessage: async ({ topic, message }) => {
      if (!message.value) return;
      const conversion = await codec.decode(message.value);
      // Held conversions reach us again on conversions.due.v1 when the scheduler releases them.
      if (topic === t('conversions') && requiresHold(conversion)) return;
      await handle(conversion, message.value);
    },
  });

  const health = createHealthServer({ postgres: () => pool.query('SELECT 1') });
  await health.listen({ host: '127.0.0.1', port: config.DISPATCHER_HEALTH_PORT });

  return {
    stop: async () => {
      await health.close();
      await consumer.disconnect();
      await producer.disconnect();
      await pool.end();
    },
  };
};
