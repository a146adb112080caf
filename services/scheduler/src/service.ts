import { requiresHold, topicName } from '@sas/contracts';
import {
  createConversionCodec, createDurableProducer, createHealthServer, createKafka, createPool, ensureTopics, migrate,
  type Logger,
} from '@sas/runtime';
import type { SchedulerConfig } from './config.js';
import { createHoldStore } from './adapters/holdStore.js';

export interface RunningScheduler {
  stop(): Promise<void>;
}

/** Hold conversions whose notBefore is ahead of their receipt; release them to conversions.due.v1 when due. */
export const startScheduler = async (config: SchedulerConfig, log: Logger): Promise<RunningScheduler> => {
  const pool = createPool(config.DATABASE_URL);
  await migrate(config.DATABASE_URL, log);
  const kafka = createKafka({ brokers: config.KAFKA_BROKERS, clientId: config.KAFKA_CLIENT_ID ?? 'scheduler', log });
  await ensureTopics(kafka, config.KAFKA_TOPIC_PREFIX);
  const codec = createConversionCodec(config.SCHEMA_REGISTRY_URL);
  const store = createHoldStore(pool);
  const producer = createDurableProducer(kafka);
  const consumer = kafka.consumer({ groupId: config.SCHEDULER_GROUP_ID });
  await producer.connect();
  await consumer.connect();
  await consumer.subscribe({ topic: topicName('conversions', config.KAFKA_TOPIC_PREFIX), fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ message }) => {
      if (!message.value) return;
      const c = await codec.decode(message.value);
      if (!requiresHold(c)) return;
      const held = await store.hold({
        conversionId: c.conversionId, integrationId: c.integrationId, customerId: c.customerId,
        notBefore: c.notBefore, key: message.key?.toString() ?? c.orderId, value: message.value,
      });
      log.info({ conversionId: c.conversionId, notBefore: new Date(c.notBefore).toISOString(), held }, 'conversion held');
    },
  });

  const dueTopic = topicName('conversionsDue', config.KAFKA_TOPIC_PREFIX);
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      try {
        const n = await store.releaseDue(config.RELEASE_BATCH, async (rows) => {
          await producer.send({ topic: dueTopic, acks: -1, messages: rows });
        });
        if (n > 0) log.info({ released: n }, 'conversions released');
        if (n === config.RELEASE_BATCH) continue; // backlog: release the next batch at once
      } catch (err) {
        log.warn({ err: (err as Error).message }, 'release failed; retrying');
      }
      await new Promise((r) => setTimeout(r, config.RELEASE_INTERVAL_MS));
    }
  })();

  const health = createHealthServer({ postgres: () => pool.query('SELECT 1') });
  await health.listen({ host: '127.0.0.1', port: config.SCHEDULER_HEALTH_PORT });
  return {
    stop: async () => {
      stopped = true;
      await loop;
      await health.close();
      await consumer.disconnect();
      await producer.disconnect();
      await pool.end();
    },
  };
};
