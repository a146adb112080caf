import type { Kafka, KafkaMessage } from 'kafkajs';

/** Offsets [from, to) of one partition. */
export interface PartitionRange {
  readonly topic: string;
  readonly partition: number;
  readonly from: string;
  readonly to: string;
}

/** Where a read starts and ends: by time (epoch ms), or one partition by offsets. */
export type RangeSpec =
  | { readonly by: 'time'; readonly fromMs: number | null; readonly toMs: number | null }
  | { readonly by: 'offset'; readonly partition: number; readonly fromOffset: string; readonly toOffset: string | null };

export class TopicMissingError extends Error {
  override readonly name = 'TopicMissingError';
}

const min = (a: string, b: string): string => (BigInt(a) < BigInt(b) ? a : b);
const max = (a: string, b: string): string => (BigInt(a) > BigInt(b) ? a : b);

/**
 * The offsets to read on each partition of `topic`. The end is captured now (high watermarks),
 * so records written while a replay runs (its own output included) are never read by it.
 * By time: from the first record at or after `fromMs` to the first at or after `toMs`.
 */
export const resolveRanges = async (kafka: Kafka, topic: string, spec: RangeSpec): Promise<PartitionRange[]> => {
  const admin = kafka.admin();
  await admin.connect();
  try {
    // Asked first: offsets of a missing topic are retried for a minute before KafkaJS gives up.
    if (!(await admin.listTopics()).includes(topic)) {
      throw new TopicMissingError(`topic ${topic} does not exist: check KAFKA_TOPIC_PREFIX (the services create their topics when they start)`);
    }
    const bounds = await admin.fetchTopicOffsets(topic);
    const byTime = async (ms: number | null, fallback: 'low' | 'high') => {
      if (ms === null) return new Map(bounds.map((b) => [b.partition, fallback === 'low' ? b.low : b.high]));
      const found = await admin.fetchTopicOffsetsByTimestamp(topic, ms);
      return new Map(found.map((f) => [f.partition, f.offset]));
    };
    if (spec.by === 'offset') {
      const b = bounds.find((x) => x.partition === spec.partition);
      if (!b) throw new Error(`${topic} has no partition ${spec.partition} (it has ${bounds.length})`);
      const to = spec.toOffset === null ? b.high : min(String(BigInt(spec.toOffset) + 1n), b.high);
      return [{ topic, partition: spec.partition, from: max(spec.fromOffset, b.low), to }];
    }
    const [from, to] = await Promise.all([byTime(spec.fromMs, 'low'), byTime(spec.toMs, 'high')]);
    return bounds
      .map((b) => ({ topic, partition: b.partition, from: max(from.get(b.partition) ?? b.low, b.low), to: min(to.get(b.partition) ?? b.high, b.high) }))
      .sort((a, b) => a.partition - b.partition);
  } finally {
    await admin.disconnect();
  }
};

const JOIN_TIMEOUT_MS = 60_000;

export interface RangeRecord {
  readonly topic: string;
  readonly partition: number;
  readonly message: KafkaMessage;
}

/**
 * Read the given ranges with a consumer in group `groupId` (fresh, never committed: it leaves
 * no offsets behind and touches no service's group), calling `onRecords` per fetched batch in
 * offset order, until every range's end. Offsets a partition has no records for (transaction
 * markers, a compacted or expired head) end the read once the consumer fetches nothing more.
 */
export const readRanges = async (
  kafka: Kafka, groupId: string, ranges: readonly PartitionRange[], onRecords: (records: RangeRecord[]) => Promise<void> | void,
): Promise<{ read: number }> => {
  const todo = ranges.filter((r) => BigInt(r.from) < BigInt(r.to));
  if (todo.length === 0) return { read: 0 };
  const topics = [...new Set(todo.map((r) => r.topic))];
  const rangeOf = new Map(todo.map((r) => [`${r.topic}:${r.partition}`, r]));
  const left = new Set(rangeOf.keys());
  const consumer = kafka.consumer({ groupId, maxWaitTimeInMs: 250, sessionTimeout: 10_000, heartbeatInterval: 1_000, allowAutoTopicCreation: false });
  let read = 0;
  let emptyFetches = 0;
  let failure: unknown = null;
  let finish: () => void = () => undefined;
  const done = new Promise<void>((r) => { finish = r; });
  try {
    await consumer.connect();
    await consumer.subscribe({ topics, fromBeginning: true });
    let joined = false;
    consumer.on(consumer.events.FETCH, () => {
      // Three fetches in a row that brought nothing: what is left of the ranges has no records.
      if (++emptyFetches >= 3 && joined) finish();
    });
    consumer.on(consumer.events.GROUP_JOIN, () => {
      joined = true;
      emptyFetches = 0;
    });
    // A group that cannot be joined (the coordinator is away) would leave the command hanging.
    consumer.on(consumer.events.CRASH, ({ payload }) => {
      if (payload.restart) return; // KafkaJS starts it again itself
      failure = payload.error;
      finish();
    });
    const joinTimer = setTimeout(() => {
      if (joined) return;
      failure = new Error(`could not join consumer group ${groupId} within ${JOIN_TIMEOUT_MS / 1000} s`);
      finish();
    }, JOIN_TIMEOUT_MS);
    void done.finally(() => clearTimeout(joinTimer));
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      eachBatch: async ({ batch }) => {
        emptyFetches = 0;
        const key = `${batch.topic}:${batch.partition}`;
        const r = rangeOf.get(key);
        if (!r || !left.has(key)) return;
        const end = BigInt(r.to);
        const inRange = batch.messages.filter((m) => BigInt(m.offset) >= BigInt(r.from) && BigInt(m.offset) < end);
        if (inRange.length > 0) {
          try {
            await onRecords(inRange.map((message) => ({ topic: batch.topic, partition: batch.partition, message })));
          } catch (err) {
            failure = err;
            finish();
            return;
          }
          read += inRange.length;
        }
        const last = batch.messages[batch.messages.length - 1];
        if (last && BigInt(last.offset) >= end - 1n) {
          left.delete(key);
          consumer.pause([{ topic: batch.topic, partitions: [batch.partition] }]);
          if (left.size === 0) finish();
        }
      },
    });
    // Every partition of the topics is assigned to this one member: start each where its range does.
    for (const t of topics) {
      const admin = kafka.admin();
      await admin.connect();
      const bounds = await admin.fetchTopicOffsets(t).finally(() => admin.disconnect());
      for (const b of bounds) {
        const r = rangeOf.get(`${t}:${b.partition}`);
        consumer.seek({ topic: t, partition: b.partition, offset: r ? r.from : b.high });
      }
    }
    await done;
  } finally {
    await consumer.disconnect().catch(() => undefined);
  }
  if (failure) throw failure;
  return { read };
};
