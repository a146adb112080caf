import type { Consumer } from 'kafkajs';
import { partitionOf } from './core/partitionOf.js';
import { requiresHold, type Conversion } from '@sas/contracts';
import type { ConversionCodec, Logger } from '@sas/runtime';
import type { HeldRecord, HoldStore } from './adapters/holdStore.js';
import type { Crash } from './crashPoint.js';
import type { SchedulerMetrics } from './metrics.js';

/** Confluent wire format: magic byte 0 and a 4-byte schema id before the Avro body. */
const isWireFormat = (b: Buffer): boolean => b.length > 5 && b[0] === 0;

/** Registry answers (they carry an HTTP status) and network failures are retried; a record that fails Avro decoding is not. */
const isPoison = (err: unknown): boolean => {
  if (!(err instanceof Error)) return false;
  if ('status' in err) return false;
  if (/ECONN|ETIMEDOUT|EAI_AGAIN|socket|network|fetch failed|timeout/i.test(err.message)) return false;
  return true;
};

/**
 * Read conversions.v1 and hold every conversion whose notBefore lies after its receipt, one
 * INSERT per fetched batch; offsets are committed only after it. A crash in between redelivers
 * the batch, and the insert (keyed by namespace and conversion id) turns the repeat into nothing,
 * as it does for a replay by a new consumer group.
 */
export const runHoldConsumer = async (p: {
  consumer: Consumer;
  topic: string;
  /** Partitions of conversions.due.v1. */
  duePartitions: number;
  codec: ConversionCodec;
  store: HoldStore;
  metrics: SchedulerMetrics;
  crash: Crash;
  log: Logger;
}): Promise<{ joined: () => boolean }> => {
  let joined = false;
  p.consumer.on(p.consumer.events.GROUP_JOIN, () => {
    joined = true;
    // Partitions moved to another instance must not keep reporting their last lag here.
    p.metrics.consumerLag.reset();
  });
  p.consumer.on(p.consumer.events.CRASH, ({ payload }) => {
    joined = false;
    p.log.error({ err: payload.error?.message, restart: payload.restart }, 'hold consumer crashed');
  });
  await p.consumer.subscribe({ topic: p.topic, fromBeginning: true });
  // Not awaited: joining waits for a rebalance (up to a dead member's session timeout), and
  // releasing, health and the operator API need not wait for it.
  void p.consumer.run({
    partitionsConsumedConcurrently: 3,
    eachBatchAutoResolve: true,
    eachBatch: async ({ batch, heartbeat }) => {
      const rows: HeldRecord[] = [];
      for (const m of batch.messages) {
        if (!m.value || !isWireFormat(m.value)) {
          p.metrics.skipped.inc();
          p.log.error({ partition: batch.partition, offset: m.offset }, 'not a conversion record; skipped');
          continue;
        }
        let c: Conversion;
        try {
          c = await p.codec.decode(m.value);
        } catch (err) {
          // A registry that cannot be reached is retried (throw → redelivery); a record that
          // does not decode with its own schema never will and is skipped.
          if (!isPoison(err)) throw err;
          p.metrics.skipped.inc();
          p.log.error({ partition: batch.partition, offset: m.offset, err: (err as Error).message }, 'undecodable conversion; skipped');
          continue;
        }
        if (!requiresHold(c)) continue;
        const key = m.key?.toString() ?? c.orderId;
        rows.push({
          conversionId: c.conversionId, integrationId: c.integrationId, customerId: c.customerId,
          notBefore: c.notBefore, key, value: m.value, lane: partitionOf(key, p.duePartitions),
        });
      }
      // Two records of one conversion in one batch (a redelivered duplicate) insert once.
      const unique = [...new Map(rows.map((r) => [r.conversionId, r])).values()];
      const added = await p.store.holdMany(unique);
      p.crash('after-hold');
      p.metrics.holds.inc({ result: 'new' }, added);
      p.metrics.holds.inc({ result: 'known' }, rows.length - added);
      if (added > 0) p.log.debug({ held: added, partition: batch.partition }, 'conversions held');
      p.metrics.consumerLag.set({ topic: batch.topic, partition: String(batch.partition) }, Number(batch.offsetLag()));
      await heartbeat();
    },
  }).catch((err) => p.log.error({ err }, 'hold consumer failed to start'));
  return { joined: () => joined };
};
