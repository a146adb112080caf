import type { Admin } from 'kafkajs';
import type { ConsumerGroupSpec } from './groups.js';

export interface PartitionLag {
  readonly topic: string;
  readonly partition: number;
  /** The group's committed offset (the next record it reads); null when it has committed none. */
  readonly committed: string | null;
  readonly high: string;
  /** Records from the committed offset (or, with none committed, from the oldest retained) to the end. */
  readonly lag: number;
}

export interface GroupLag {
  readonly service: ConsumerGroupSpec['service'];
  readonly groupId: string;
  /** Kafka's group state (Stable, Empty, PreparingRebalance, Dead, ...). */
  readonly state: string;
  readonly members: number;
  readonly lag: number;
  readonly partitions: readonly PartitionLag[];
}

/** Lag of one partition from the group's committed offset ('-1': none) and the partition's low and high watermarks (pure). */
export const partitionLag = (topic: string, partition: number, committed: string, low: string, high: string): PartitionLag => {
  const none = BigInt(committed) < 0n;
  // A committed offset below the low watermark was deleted by retention: the group restarts from the oldest record.
  const from = none || BigInt(committed) < BigInt(low) ? BigInt(low) : BigInt(committed);
  const lag = BigInt(high) > from ? Number(BigInt(high) - from) : 0;
  return { topic, partition, committed: none ? null : committed, high, lag };
};

/** Committed offsets against high watermarks, per partition, for each group (Kafka admin API). */
export const fetchGroupLags = async (admin: Admin, groups: readonly ConsumerGroupSpec[]): Promise<GroupLag[]> => {
  const topics = [...new Set(groups.flatMap((g) => g.topics))];
  const existing = new Set(await admin.listTopics());
  const watermarks = new Map(await Promise.all(topics.filter((t) => existing.has(t)).map(async (t) => [t, await admin.fetchTopicOffsets(t)] as const)));
  const described = await admin.describeGroups(groups.map((g) => g.groupId));
  return Promise.all(groups.map(async (g) => {
    const ours = g.topics.filter((t) => watermarks.has(t));
    const committed = ours.length > 0 ? await admin.fetchOffsets({ groupId: g.groupId, topics: ours }) : [];
    const partitions: PartitionLag[] = [];
    for (const t of ours) {
      const offsets = new Map((committed.find((c) => c.topic === t)?.partitions ?? []).map((p) => [p.partition, p.offset]));
      for (const w of watermarks.get(t)!) partitions.push(partitionLag(t, w.partition, offsets.get(w.partition) ?? '-1', w.low, w.high));
    }
    const d = described.groups.find((x) => x.groupId === g.groupId);
    return {
      service: g.service, groupId: g.groupId, state: d?.state ?? 'Unknown', members: d?.members.length ?? 0,
      lag: partitions.reduce((s, p) => s + p.lag, 0), partitions,
    };
  }));
};
