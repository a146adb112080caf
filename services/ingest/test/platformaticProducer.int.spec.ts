import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Kafka, logLevel } from 'kafkajs';
import { murmur2, type RawEventRecord } from '@sas/runtime';
import { stackEndpoints, uniqueId } from '@sas/testkit';
import { createPlatformaticSender } from '../src/adapters/platformaticProducer.js';

/** The opt-in @platformatic/kafka sender (INGEST_KAFKA_CLIENT=platformatic) against the real broker. */
describe('platformatic sender', () => {
  const topic = `${uniqueId('plat')}.stripe.events.v1`;
  const partitions = 4;
  const kafka = new Kafka({ brokers: [stackEndpoints().kafkaBrokers], logLevel: logLevel.NOTHING });
  const sender = createPlatformaticSender({ brokers: [stackEndpoints().kafkaBrokers], clientId: uniqueId('plat'), timeoutMs: 2_000 });

  beforeAll(async () => {
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic, numPartitions: partitions }], waitForLeaders: true });
    await admin.disconnect();
    await sender.connect();
  });
  afterAll(async () => {
    await sender.disconnect();
  });

  it('writes every record once, unchanged, on the partition the Java client picks (positive murmur2 of the key)', async () => {
    const records: RawEventRecord[] = Array.from({ length: 60 }, (_, i) => ({
      key: `int_plat:acct_${i % 7}:cus_${i}`,
      value: Buffer.from(JSON.stringify({ id: `evt_${i}`, n: i })),
      headers: { 'event-id': `evt_${i}`, 'event-type': 'invoice.paid' },
    }));
    for (let i = 0; i < records.length; i += 20) {
      await sender.send({ topic, acks: -1, timeout: 2_000, messages: records.slice(i, i + 20) });
    }

    const seen = new Map<string, { partition: number; key: string; value: string; headers: Record<string, string> }>();
    const consumer = kafka.consumer({ groupId: uniqueId('g') });
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    await new Promise<void>((resolve) => {
      void consumer.run({
        eachMessage: async ({ partition, message }) => {
          const headers = Object.fromEntries(Object.entries(message.headers ?? {}).map(([k, v]) => [k, String(v)]));
          seen.set(`${headers['event-id']}#${seen.size}`, { partition, key: String(message.key), value: String(message.value), headers });
          if (seen.size === records.length) resolve();
        },
      });
    });
    await consumer.disconnect();

    const byEvent = new Map([...seen.values()].map((r) => [r.headers['event-id'], r]));
    expect(byEvent.size).toBe(records.length);
    for (const r of records) {
      const got = byEvent.get(r.headers['event-id']!)!;
      expect(got.key).toBe(r.key);
      expect(got.value).toBe(r.value.toString());
      expect(got.headers).toEqual(r.headers);
      expect(got.partition).toBe((murmur2(r.key) & 0x7fffffff) % partitions);
    }
  });

  it('rejects a send to a topic that does not exist (no auto-creation) instead of hanging', async () => {
    const started = Date.now();
    await expect(sender.send({
      topic: `${uniqueId('plat')}.missing`, acks: -1, timeout: 2_000,
      messages: [{ key: 'k', value: Buffer.from('{}'), headers: {} }],
    })).rejects.toThrow();
    expect(Date.now() - started).toBeLessThan(30_000);
  });
});
