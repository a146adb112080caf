// A running revenue-by-partner table from conversions.v1, printed as it changes.
//   KAFKA_BROKERS=127.0.0.1:9092 SCHEMA_REGISTRY_URL=http://127.0.0.1:8081/apis/ccompat/v7 \
//   KAFKA_TOPIC_PREFIX= node --import tsx examples/revenue-by-partner/main.ts
import { startRevenueConsumer } from './consumer.js';
import { renderTable } from './revenueTable.js';

const need = (name: string): string => {
  const v = process.env[name];
  if (!v) {
    process.stderr.write(`revenue-by-partner: set ${name}\n`);
    process.exit(2);
  }
  return v;
};

const brokers = need('KAFKA_BROKERS').split(',').map((b) => b.trim()).filter(Boolean);
const registryUrl = need('SCHEMA_REGISTRY_URL');
const topicPrefix = process.env.KAFKA_TOPIC_PREFIX ?? '';
let timer: NodeJS.Timeout | null = null;
const consumer = await startRevenueConsumer({
  brokers, registryUrl, topicPrefix, groupId: process.env.REVENUE_GROUP_ID ?? `${topicPrefix}revenue-by-partner`,
  // At most one print a second while a backlog is read.
  onChange: () => {
    timer ??= setTimeout(() => {
      timer = null;
      process.stdout.write(`\n${new Date().toISOString()}  ${consumer.read()} conversions read\n${renderTable(consumer.table())}\n`);
    }, 1_000);
  },
});
process.stdout.write(`reading ${topicPrefix}conversions.v1 from the beginning; Ctrl-C to stop\n`);
const stop = async () => {
  if (timer) clearTimeout(timer);
  await consumer.stop();
  process.stdout.write(`\n${renderTable(consumer.table())}\n`);
  process.exit(0);
};
process.once('SIGINT', () => void stop());
process.once('SIGTERM', () => void stop());
