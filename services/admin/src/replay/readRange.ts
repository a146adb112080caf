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
 * The offsets to read on each partition of `topic`. The end is captured now, so records written
 * while a replay runs (its own output included) are never read by it. It is the last stable
 * offset, not the high watermark: KafkaJS's admin lists offsets read-committed. So the range
 * holds what was committed when it was resolved; a transaction open then is after its end.
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
const STALL_MS = 120_000;

export interface RangeRecord {
  readonly topic: string;
  readonly partition: number;
  readonly message: KafkaMessage;
}

export interface ReadRangesOptions {
  /** How long no partition may move before the read fails with ReadStalledError (default 120 s). */
  readonly stallMs?: number;
}

/** Where a partition's read stands: the next offset the consumer fetches, and its range's end. */
export interface PartitionPosition {
  readonly topic: string;
  readonly partition: number;
  readonly position: string;
  readonly to: string;
}

export class ReadStalledError extends Error {
  override readonly name = 'ReadStalledError';
  constructor(readonly stalledMs: number, readonly partitions: readonly PartitionPosition[]) {
    super(`no progress for ${stalledMs / 1000} s reading ${partitions.map((p) => `${p.topic} partition ${p.partition} (at offset ${p.position}, range ends at ${p.to})`).join(', ')}: `
      + 'most likely an open transaction there that is not being decided (committed records cannot be read past it until its producer '
      + 'commits or aborts it, or the broker does at its transaction timeout), or a partition without a leader; run it again later');
  }
}

const keyOf = (topic: string, partition: number) => `${topic}:${partition}`;

/**
 * Read the given ranges with a consumer in group `groupId` (fresh, never committed: it leaves
 * no offsets behind and touches no service's group), calling `onRecords` per fetched batch in
 * offset order, until every partition's position reaches its range's end. Committed records
 * only; the position also passes transaction markers and aborted records. A range may end
 * past a transaction still open (not one resolveRanges gives): the read waits for it to be
 * decided, and fails with ReadStalledError if no partition moves for `stallMs`.
 */
export const readRanges = async (
  kafka: Kafka, groupId: string, ranges: readonly PartitionRange[], onRecords: (records: RangeRecord[]) => Promise<void> | void,
  options: ReadRangesOptions = {},
): Promise<{ read: number }> => {
  const stallMs = options.stallMs ?? STALL_MS;
  const todo = ranges.filter((r) => BigInt(r.from) < BigInt(r.to));
  if (todo.length === 0) return { read: 0 };
  const topics = [...new Set(todo.map((r) => r.topic))];
  const rangeOf = new Map(todo.map((r) => [keyOf(r.topic, r.partition), r]));
  // The next offset to fetch on each partition not done yet.
  const position = new Map(todo.map((r) => [keyOf(r.topic, r.partition), BigInt(r.from)]));
  const consumer = kafka.consumer({
    groupId, readUncommitted: false, maxWaitTimeInMs: 250, sessionTimeout: 10_000, heartbeatInterval: 1_000, allowAutoTopicCreation: false,
  });
  let read = 0;
  let failure: unknown = null;
  let joined = false;
  let inCallback = false;
  let movedAt = Date.now();
  let finish: () => void = () => undefined;
  const done = new Promise<void>((r) => { finish = r; });
  const fail = (err: unknown) => {
    failure ??= err;
    finish();
  };
  const joinTimer = setTimeout(() => {
    if (!joined) fail(new Error(`could not join consumer group ${groupId} within ${JOIN_TIMEOUT_MS / 1000} s`));
  }, JOIN_TIMEOUT_MS);
  // Not a count of empty fetches: a read-committed fetch is empty for as long as a transaction
  // in the range is open, which is expected for a while and must not end the read early.
  const stallTimer = setInterval(() => {
    if (!joined || inCallback || Date.now() - movedAt < stallMs) return;
    fail(new ReadStalledError(stallMs, [...position].map(([key, at]) => {
      const r = rangeOf.get(key)!;
      return { topic: r.topic, partition: r.partition, position: String(at), to: r.to };
    })));
  }, Math.min(1_000, stallMs / 4));
  try {
    await consumer.connect();
    await consumer.subscribe({ topics, fromBeginning: true });
    // Emitted before the first fetch of each (re)join: the group commits nothing, so without a
    // seek a rejoin would start over. Partitions with nothing (left) to read are paused.
    consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
      joined = true;
      movedAt = Date.now();
      for (const [topic, partitions] of Object.entries(payload.memberAssignment)) {
        for (const partition of partitions) {
          const at = position.get(keyOf(topic, partition));
          if (at === undefined) consumer.pause([{ topic, partitions: [partition] }]);
          else consumer.seek({ topic, partition, offset: String(at) });
        }
      }
    });
    // Emitted after every batch, also one of only transaction markers or aborted records (which
    // never reaches eachBatch); its lastOffset counts those, so it is the consumer's position.
    consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) => {
      const key = keyOf(payload.topic, payload.partition);
      const at = position.get(key);
      const next = BigInt(payload.lastOffset) + 1n;
      if (at === undefined || next <= at) return;
      movedAt = Date.now();
      if (next < BigInt(rangeOf.get(key)!.to)) {
        position.set(key, next);
        return;
      }
      position.delete(key);
      consumer.pause([{ topic: payload.topic, partitions: [payload.partition] }]);
      if (position.size === 0) finish();
    });
    // A group that cannot be joined (the coordinator is away) would leave the command hanging.
    consumer.on(consumer.events.CRASH, ({ payload }) => {
      if (!payload.restart) fail(payload.error); // else KafkaJS starts it again itself
    });
    await consumer.run({
      autoCommit: false,
      // Each batch is resolved once handled (eachBatchAutoResolve), so the next fetch starts after it.
      eachBatch: async ({ batch }) => {
        const r = rangeOf.get(keyOf(batch.topic, batch.partition));
        if (!r || !position.has(keyOf(r.topic, r.partition)) || failure) return;
        const inRange = batch.messages.filter((m) => BigInt(m.offset) >= BigInt(r.from) && BigInt(m.offset) < BigInt(r.to));
        if (inRange.length === 0) return;
        inCallback = true;
        try {
          await onRecords(inRange.map((message) => ({ topic: batch.topic, partition: batch.partition, message })));
          read += inRange.length;
        } catch (err) {
          fail(err);
        } finally {
          inCallback = false;
          movedAt = Date.now();
        }
      },
    });
    await done;
  } finally {
    clearTimeout(joinTimer);
    clearInterval(stallTimer);
    await consumer.disconnect().catch(() => undefined);
  }
  if (failure) throw failure;
  return { read };
};
