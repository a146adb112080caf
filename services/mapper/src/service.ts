import { conversionKey, topicName } from '@sas/contracts';
import {
  createConversionCodec, createDurableProducer, createHealthServer, createKafka, createPool, createTtlCache,
  ensureTopics, loadIntegrationSettings, migrate, type Logger,
} from '@sas/runtime';
import type { MapperConfig } from './config.js';
import { handleRawEvent } from './handleRawEvent.js';

export interface RunningMapper {
  stop(): Promise<void>;
}

export const startMapper = async (config: MapperConfig, log: Logger): Promise<RunningMapper> => {
  const pool = createPool(config.DATABASE_URL);
  await migrate(config.DATABASE_URL, log);
  const kafka = createKafka({ brokers: config.KAFKA_BROKERS, clientId: config.KAFKA_CLIENT_ID ?? 'mapper', log });
  await ensureTopics(kafka, config.KAFKA_TOPIC_PREFIX);
  const codec = createConversionCodec(config.SCHEMA_REGISTRY_URL);
  const settings = createTtlCache((id) => loadIntegrationSettings(pool, id), config.SETTINGS_CACHE_MS);
  const producer = createDurableProducer(kafka);
  const consumer = kafka.consumer({ groupId: config.MAPPER_GROUP_ID });
  const outTopic = topicName('conversions', config.KAFKA_TOPIC_PREFIX);
  await producer.connect();
  await consumer.connect();
  await consumer.subscribe({ topic: topicName('stripeEvents', config.KAFKA_TOPIC_PREFIX), fromBeginning: true });

  await consumer.run({
    // Offsets are committed only after the conversions are acknowledged: at-least-once,
    // and conversion ids are deterministic, so a redelivery produces the same records.
    eachMessage: async ({ message, partition }) => {
      const outcome = await handleRawEvent({ value: message.value, headers: message.headers ?? {} }, (id) => settings.get(id));
      if (outcome.status === 'skipped') {
        log.warn({ partition, offset: message.offset, reason: outcome.reason }, 'raw event skipped');
        return;
      }
      if (outcome.conversions.length === 0) return;
      const messages = await Promise.all(
        outcome.conversions.map(async (c) => ({
          key: conversionKey({ account: c.stripeAccount, customerId: c.customerId, subscriptionId: c.subscriptionId, orderId: c.orderId }),
          value: await codec.encode(outTopic, c),
        })),
      );
      await producer.send({ topic: outTopic, acks: -1, messages });
      for (const c of outcome.conversions) {
        log.info({ conversionId: c.conversionId, kind: c.kind, stripeEventId: c.sourceEventIds[0], integrationId: c.integrationId }, 'conversion recorded');
      }
    },
  });

  const health = createHealthServer({ postgres: () => pool.query('SELECT 1') });
  await health.listen({ host: '127.0.0.1', port: config.MAPPER_HEALTH_PORT });

  return {
    stop: async () => {
      await health.close();
      await consumer.disconnect();
      await producer.disconnect();
      await pool.end();
    },
  };
};
