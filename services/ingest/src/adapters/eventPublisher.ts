import type { Producer } from 'kafkajs';
import type { RawEventRecord } from '../core/rawEventRecord.js';

export class PublishError extends Error {
  override readonly name = 'PublishError';
  readonly retriable = true;
}

export type Publish = (record: RawEventRecord) => Promise<void>;

/**
 * Write one record with acks from all in-sync replicas, bounded in time: past the bound the
 * caller answers 503 so that Stripe retries. (A late ack after the bound only yields a
 * duplicate, which the mapper drops.)
 */
export const createPublisher = (producer: Producer, topic: string, timeoutMs: number): Publish =>
  async (record) => {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new PublishError(`Kafka did not acknowledge within ${timeoutMs} ms`)), timeoutMs);
    });
    try {
      await Promise.race([producer.send({ topic, acks: -1, timeout: timeoutMs, messages: [record] }), timeout]);
    } catch (cause) {
      if (cause instanceof PublishError) throw cause;
      throw new PublishError('Kafka refused the write', { cause });
    } finally {
      clearTimeout(timer);
    }
  };
