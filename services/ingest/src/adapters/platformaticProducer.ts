import { ProduceAcks, Producer, stringSerializer } from '@platformatic/kafka';
import { murmur2 } from '@sas/runtime';
import type { RecordSender } from './renewingProducer.js';

/**
 * The idempotent acks=all producer on @platformatic/kafka (opt-in, see services/ingest/README.md):
 * the same writes as KafkaJS's at about half the client's CPU per record. Keys land on the
 * partitions the Java client and KafkaJS's DefaultPartitioner pick: the runtime's positive
 * murmur2 of the key (32-bit, not the library's BigInt one), modulo the partition count (the
 * library applies the modulo).
 */
export const createPlatformaticSender = (p: { brokers: string[]; clientId: string; timeoutMs: number }): RecordSender => {
  const producer = new Producer({
    clientId: p.clientId,
    bootstrapBrokers: p.brokers,
    idempotent: true,
    acks: ProduceAcks.ALL,
    autocreateTopics: false,
    timeout: p.timeoutMs,
    connectTimeout: p.timeoutMs,
    // 2.x times out each request (1.22 had no request timeout, so a send to a dead broker
    // could stay pending) and keeps a retries count above 1 for an idempotent producer (it
    // replaced any with "without limit"): a failed send now reaches the renewing wrapper.
    requestTimeout: p.timeoutMs,
    retries: 2,
    retryDelay: 200,
    serializers: { key: stringSerializer, value: (v?: Buffer) => v, headerKey: stringSerializer, headerValue: stringSerializer },
    partitioner: (m) => murmur2(m.key as string) & 0x7fffffff,
  });
  return {
    connect: async () => { await producer.metadata({ topics: [] }); },
    send: async ({ topic, messages }) => {
      await producer.send({
        messages: messages.map((m) => ({ topic, key: m.key, value: m.value, headers: new Map(Object.entries(m.headers)) })),
      });
    },
    disconnect: async () => { await producer.close(); },
  };
};
