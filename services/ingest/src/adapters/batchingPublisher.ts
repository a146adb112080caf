import type { RawEventRecord } from '@sas/runtime';
import { PublishError, type Publish } from './eventPublisher.js';
import type { RecordSender } from './renewingProducer.js';

export interface BatchingOptions {
  /** Most records in one produce request. */
  readonly maxBatch: number;
  /** Records waiting or in flight beyond which new ones are refused (503), so memory stays bounded. */
  readonly maxPending: number;
  /** Bound on one record's wait for its acknowledgement; past it the caller answers 503. */
  readonly timeoutMs: number;
  readonly onBatch?: (size: number, ms: number, ok: boolean) => void;
}

interface Waiter {
  readonly record: RawEventRecord;
  readonly resolve: () => void;
  readonly reject: (e: Error) => void;
  settled: boolean;
}

/**
 * KafkaJS does no batching of its own, and one awaited send per webhook caps a gateway near
 * 2 k/s. This publisher coalesces concurrent requests: while one produce request is in
 * flight, new records queue; when it completes the queue goes out as the next batch. Each
 * caller still resolves only when its own record is acknowledged by all in-sync replicas.
 */
export const createBatchingPublisher = (producer: Pick<RecordSender, 'send'>, topic: string, o: BatchingOptions) => {
  const queue: Waiter[] = [];
  let inFlight = 0; // records in the produce request now on the wire
  let flushing = false;
  let closed = false;

  const flush = async (): Promise<void> => {
    if (flushing) return;
    flushing = true;
    try {
      while (queue.length > 0) {
        const batch = queue.splice(0, o.maxBatch).filter((w) => !w.settled);
        if (batch.length === 0) continue;
        inFlight = batch.length;
        const started = performance.now();
        try {
          await producer.send({ topic, acks: -1, timeout: o.timeoutMs, messages: batch.map((w) => w.record) });
          o.onBatch?.(batch.length, performance.now() - started, true);
          for (const w of batch) w.resolve();
        } catch (cause) {
          o.onBatch?.(batch.length, performance.now() - started, false);
          const err = new PublishError('Kafka refused the write', { cause });
          for (const w of batch) w.reject(err);
        } finally {
          inFlight = 0;
        }
      }
    } finally {
      flushing = false;
    }
  };

  const publish: Publish = (record) =>
    new Promise<void>((resolve, reject) => {
      if (closed) return reject(new PublishError('ingest is shutting down'));
      if (queue.length + inFlight >= o.maxPending) return reject(new PublishError('too many events waiting for Kafka'));
      let timer: NodeJS.Timeout;
      const w: Waiter = {
        record,
        settled: false,
        resolve: () => { if (!w.settled) { w.settled = true; clearTimeout(timer); resolve(); } },
        reject: (e) => { if (!w.settled) { w.settled = true; clearTimeout(timer); reject(e); } },
      };
      // A record that times out while still queued is dropped from the queue (settled) and never
      // written; one already on the wire may still be written: a duplicate the mapper drops.
      timer = setTimeout(() => w.reject(new PublishError(`Kafka did not acknowledge within ${o.timeoutMs} ms`)), o.timeoutMs);
      queue.push(w);
      // setImmediate lets the requests that arrived in the same tick join the batch.
      if (!flushing) setImmediate(() => void flush());
    });

  return {
    publish,
    pending: () => queue.length + inFlight,
    /** Refuse new records and wait until every accepted one has been answered. */
    drain: async (): Promise<void> => {
      closed = true;
      while (flushing || queue.some((w) => !w.settled)) {
        if (!flushing) await flush();
        else await new Promise((r) => setTimeout(r, 5));
      }
    },
  };
};
