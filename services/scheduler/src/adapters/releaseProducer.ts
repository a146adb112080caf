import { Partitioners, type Admin, type Kafka, type Producer } from 'kafkajs';
import type { Crash } from '../crashPoint.js';

/**
 * One lane's Kafka side. The transactional id is the lane's (the same in every instance), so
 * the producer of whoever took the lane last fences all earlier ones: their open transaction
 * is aborted and they can commit nothing more. Each release transaction writes the due records
 * and, as the lane's release marker, the batch sequence number as the committed offset of
 * partition <lane> for the marker group: both become visible together or not at all.
 */
export const createReleaseProducer = (p: {
  kafka: Kafka;
  admin: Admin;
  transactionalId: string;
  markerGroup: string;
  dueTopic: string;
  lane: number;
  crash: Crash;
}) => {
  let producer: Producer | null = null;

  const markerOffsets = (seq: number) => ({
    consumerGroupId: p.markerGroup,
    topics: [{ topic: p.dueTopic, partitions: [{ partition: p.lane, offset: String(seq) }] }],
  });

  const close = async () => {
    const old = producer;
    producer = null;
    await old?.disconnect().catch(() => undefined);
  };

  return {
    /**
     * A fresh producer with the lane's transactional id. InitProducerId returns only once the
     * previous holder's transaction is complete (committed or aborted, markers written and,
     * since Kafka 3.9.1 / KAFKA-17507, its offsets materialised), so the marker read after it is
     * the truth.
     */
    async fence(): Promise<void> {
      await close();
      const next = p.kafka.producer({
        transactionalId: p.transactionalId,
        idempotent: true,
        maxInFlightRequests: 1,
        allowAutoTopicCreation: false,
        transactionTimeout: 60_000,
        createPartitioner: Partitioners.DefaultPartitioner,
      });
      await next.connect();
      producer = next;
      const t = await next.transaction(); // runs InitProducerId (the fence)
      await t.abort(); // nothing was added: no request, just back to ready
    },

    /** The lane's committed release marker: the last batch sequence committed, or null. */
    async readMarker(): Promise<number | null> {
      const res = await p.admin.fetchOffsets({ groupId: p.markerGroup, topics: [p.dueTopic] });
      const part = res.find((t) => t.topic === p.dueTopic)?.partitions.find((x) => x.partition === p.lane);
      const offset = part ? Number(part.offset) : -1;
      return offset >= 0 ? offset : null;
    },

    /** Commit the marker alone, so it never ages out of the offsets topic while a lane is idle. */
    async refreshMarker(seq: number): Promise<void> {
      if (!producer) throw new Error('release producer not fenced in');
      const t = await producer.transaction();
      try {
        await t.sendOffsets(markerOffsets(seq));
        await t.commit();
      } catch (err) {
        await t.abort().catch(() => undefined);
        throw err;
      }
    },

    /** One release: the batch's records and its marker, in one transaction. */
    async publish(seq: number, messages: { key: string; value: Buffer }[]): Promise<void> {
      if (!producer) throw new Error('release producer not fenced in');
      const t = await producer.transaction();
      try {
        // Explicitly the lane's partition (the key's default partition): one writer per partition.
        await t.send({ topic: p.dueTopic, acks: -1, messages: messages.map((m) => ({ ...m, partition: p.lane })) });
        p.crash('after-send');
        await t.sendOffsets(markerOffsets(seq));
        await t.commit();
      } catch (err) {
        await t.abort().catch(() => undefined);
        throw err;
      }
    },

    close,
  };
};
export type ReleaseProducer = ReturnType<typeof createReleaseProducer>;
