import { topicName } from '@sas/contracts';
import type { Pool } from '@sas/runtime';
import type { Kafka } from 'kafkajs';
import { readRanges, resolveRanges, type PartitionRange } from '../replay/readRange.js';
import { shortId } from '../replay/connections.js';
import {
  DeadLetterSources, entryOf, topicIdOf, type DeadLetterAction, type DeadLetterEntry, type DeadLetterSource, type DeadLetterState,
} from './entries.js';

export interface DeadLetterDeps {
  readonly kafka: Kafka;
  readonly pool: Pool;
  /** The deployment's KAFKA_TOPIC_PREFIX. */
  readonly prefix: string;
}

export interface DeadLetterFilter {
  readonly source?: DeadLetterSource;
  readonly integrationId?: string;
  /** Default 'open'. */
  readonly state?: DeadLetterState | 'all';
}

export interface DeadLetterReport {
  /** The entries the filter asks for, oldest first per source. */
  readonly entries: DeadLetterEntry[];
  /** Per source and state, over the source and integration asked for (whatever the state filter). */
  readonly counts: Record<DeadLetterSource, Record<DeadLetterState, number>>;
}

const actionsOf = async (pool: Pool, topics: readonly string[]): Promise<Map<string, DeadLetterAction[]>> => {
  const { rows } = await pool.query<DeadLetterAction & { topic: string; partition: number; offset: string }>(
    `SELECT topic, partition, "offset"::text AS "offset", action, reason, actor, to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS at
       FROM dead_letter_actions WHERE topic = ANY($1::text[]) ORDER BY id`,
    [topics],
  );
  const m = new Map<string, DeadLetterAction[]>();
  for (const r of rows) {
    const k = `${r.topic}:${r.partition}:${r.offset}`;
    const list = m.get(k) ?? [];
    list.push({ action: r.action, reason: r.reason, actor: r.actor, at: r.at });
    m.set(k, list);
  }
  return m;
};

/**
 * The dead letters of the mapper and the dispatcher with their state (open unless requeued or
 * dropped), read from the start of their topics to their current end with a throwaway consumer
 * group, and the counts per source and state. Used by `sas dlq list` and `sas status`.
 */
export const readDeadLetters = async (deps: DeadLetterDeps, filter: DeadLetterFilter = {}): Promise<DeadLetterReport> =>
  summarize((await readAll(deps, filter.source, false)).map((x) => x.entry), filter);

/** The open entries with their records' values (what a requeue needs), in one read of the topics. */
export const readOpenWithValues = async (deps: DeadLetterDeps, filter: Omit<DeadLetterFilter, 'state'>) => {
  const all = await readAll(deps, filter.source, true);
  const wanted = new Set(summarize(all.map((x) => x.entry), { ...filter, state: 'open' }).entries.map((e) => e.id));
  return all.filter((x) => wanted.has(x.entry.id));
};

const parseValue = (value: Buffer | null): Record<string, unknown> => {
  try {
    const v = JSON.parse(value?.toString('utf8') ?? '{}') as unknown;
    return v && typeof v === 'object' ? (v as Record<string, unknown>) : {};
  } catch {
    return {}; // listed as UNREADABLE
  }
};

/** Every entry of the sources; with `withValues`, the parsed records too (a mapper's carries the raw event: up to ~1.4 MiB). */
const readAll = async (deps: DeadLetterDeps, only: DeadLetterSource | undefined, withValues: boolean) => {
  const sources = only ? [only] : [...DeadLetterSources];
  const topicOf = new Map(sources.map((s) => [topicName(topicIdOf[s], deps.prefix), s]));
  const ranges: PartitionRange[] = [];
  for (const topic of topicOf.keys()) ranges.push(...await resolveRanges(deps.kafka, topic, { by: 'time', fromMs: null, toMs: null }));
  const actions = await actionsOf(deps.pool, [...topicOf.keys()]);
  const all: { entry: DeadLetterEntry; value: Record<string, unknown> }[] = [];
  await readRanges(deps.kafka, `sas-dlq-${shortId()}`, ranges, (records) => {
    for (const r of records) {
      const source = topicOf.get(r.topic)!;
      all.push({
        entry: entryOf(source, r.topic, r.partition, r.message.offset, r.message.value, actions.get(`${r.topic}:${r.partition}:${r.message.offset}`) ?? []),
        value: withValues ? parseValue(r.message.value) : {},
      });
    }
  });
  return all;
};

/** Filter and count (pure). */
export const summarize = (all: readonly DeadLetterEntry[], filter: DeadLetterFilter): DeadLetterReport => {
  const counts = Object.fromEntries(DeadLetterSources.map((s) => [s, { open: 0, requeued: 0, dropped: 0 }])) as DeadLetterReport['counts'];
  const state = filter.state ?? 'open';
  const entries: DeadLetterEntry[] = [];
  for (const e of all) {
    if (filter.source && e.source !== filter.source) continue;
    if (filter.integrationId && e.integrationId !== filter.integrationId) continue;
    counts[e.source][e.state]++;
    if (state === 'all' || e.state === state) entries.push(e);
  }
  entries.sort((a, b) => a.source.localeCompare(b.source) || a.at - b.at || a.partition - b.partition || Number(BigInt(a.offset) - BigInt(b.offset)));
  return { entries, counts };
};

/** One entry, read from where its id says it sits; null when that record does not exist (any more). */
export const readDeadLetter = async (deps: DeadLetterDeps, source: DeadLetterSource, partition: number, offset: string) => {
  const topic = topicName(topicIdOf[source], deps.prefix);
  const ranges = await resolveRanges(deps.kafka, topic, { by: 'offset', partition, fromOffset: offset, toOffset: offset });
  let found: { entry: DeadLetterEntry; value: Record<string, unknown> } | null = null;
  const actions = await actionsOf(deps.pool, [topic]);
  await readRanges(deps.kafka, `sas-dlq-${shortId()}`, ranges.filter((r) => r.from === offset), (records) => {
    const r = records.find((x) => x.message.offset === offset);
    if (!r) return;
    found = { entry: entryOf(source, topic, partition, offset, r.message.value, actions.get(`${topic}:${partition}:${offset}`) ?? []), value: parseValue(r.message.value) };
  });
  return found as { entry: DeadLetterEntry; value: Record<string, unknown> } | null;
};
