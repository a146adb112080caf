import { Kafka, logLevel } from 'kafkajs';
import { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import { applyConversion, emptyTable, type ConversionFields, type RevenueTable } from './revenueTable.js';

export interface RevenueConsumerOptions {
  readonly brokers: readonly string[];
  readonly registryUrl: string;
  /** The deployment's KAFKA_TOPIC_PREFIX ('' in production). */
  readonly topicPrefix: string;
  readonly groupId: string;
  /** Called after every batch that changed the table. */
  readonly onChange?: (table: RevenueTable) => void;
}

export interface RunningRevenueConsumer {
  table(): RevenueTable;
  /** Conversions read (all kinds, duplicates included). */
  read(): number;
  stop(): Promise<void>;
}

/**
 * Read `<prefix>conversions.v1` from the beginning as an analytics team would: a consumer
 * group of its own, values decoded by the schema registry (the schema id is on every record,
 * so no schema ships with the consumer), a running revenue table per partner and currency.
 *
 * The table lives in memory, so the group never commits offsets: every start reads the topic
 * from the beginning (30 days of retention). Delivery is at least once: a conversion id seen
 * before is skipped.
 */
export const startRevenueConsumer = async (o: RevenueConsumerOptions): Promise<RunningRevenueConsumer> => {
  const registry = new SchemaRegistry({ host: o.registryUrl });
  const kafka = new Kafka({ clientId: 'revenue-by-partner', brokers: [...o.brokers], logLevel: logLevel.WARN });
  const consumer = kafka.consumer({ groupId: o.groupId });
  let table = emptyTable();
  let read = 0;
  const seen = new Set<string>();
  await consumer.connect();
  await consumer.subscribe({ topic: `${o.topicPrefix}conversions.v1`, fromBeginning: true });
  await consumer.run({
    autoCommit: false,
    eachBatch: async ({ batch, heartbeat }) => {
      const before = table;
      for (const m of batch.messages) {
        if (!m.value) continue;
        const c = (await registry.decode(m.value)) as ConversionFields;
        read++;
        if (seen.has(c.conversionId)) continue;
        seen.add(c.conversionId);
        table = applyConversion(table, c);
      }
      if (table !== before) o.onChange?.(table);
      await heartbeat();
    },
  });
  return { table: () => table, read: () => read, stop: () => consumer.disconnect() };
};
