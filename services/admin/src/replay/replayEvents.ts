import { RawEventHeaders, topicName } from '@sas/contracts';
import { chunkTopicMessages, createDurableProducer } from '@sas/runtime';
import type { IHeaders, Message } from 'kafkajs';
import type { Connections } from './connections.js';
import { readRanges, resolveRanges, type PartitionRange, type RangeRecord } from './readRange.js';
import type { ReplayRequest } from './replayConversions.js';
import { createMappingPreview, type MappingPreview } from './previewEvents.js';

export interface EventReplayReport {
  readonly replayId: string;
  readonly groupId: string;
  readonly dryRun: boolean;
  readonly integrationId: string;
  readonly topic: string;
  readonly ranges: PartitionRange[];
  readonly read: number;
  readonly matched: number;
  readonly resent: number;
  readonly skipped: Record<string, number>;
  /** Per Stripe event type: events matched, and how many of them the mapper has handled before. */
  readonly eventTypes: Record<string, { events: number; handled: number }>;
  /** What the mapper and the destinations will make of the re-sent events. */
  readonly note: string;
  /** Dry run only: the events mapped read-only, and what each destination's ledger makes of their conversions. */
  readonly preview: MappingPreview | null;
}

const headerOf = (h: IHeaders | undefined, name: string): string | null => {
  const v = h?.[name];
  const one = Array.isArray(v) ? v[0] : v;
  return one === undefined ? null : one.toString();
};

/**
 * Re-run stripe.events.v1 for one integration: the range's raw records go back to their own
 * partitions, bytes, key and headers unchanged, plus the replay header. The mapper re-maps an
 * event it handled before read-only and re-emits the same conversion ids (downstream ledgers
 * answer duplicate); an event it never handled is mapped as new. Records an earlier replay
 * wrote are left out (they repeat their originals).
 */
export const replayEvents = async (c: Connections, r: ReplayRequest): Promise<EventReplayReport> => {
  const topic = topicName('stripeEvents', c.prefix);
  const preview = r.dryRun ? await createMappingPreview(c, { integrationId: r.integrationId, stripeApiBase: c.stripeApiBase, nowMs: r.nowMs }) : null;
  const ranges = await resolveRanges(c.kafka, topic, r.range);
  const groupId = `sas-replay-${r.integrationId}-${r.replayId}`;
  const report = { read: 0, matched: 0, resent: 0, skipped: {} as Record<string, number>, eventTypes: {} as EventReplayReport['eventTypes'] };
  let handledTotal = 0;
  const producer = r.dryRun ? null : createDurableProducer(c.kafka);
  await producer?.connect();
  try {
    await readRanges(c.kafka, groupId, ranges, async (records) => {
      report.read += records.length;
      const mine = records.filter((rec) => headerOf(rec.message.headers, RawEventHeaders.integrationId) === r.integrationId);
      const ids = mine.map((rec) => headerOf(rec.message.headers, RawEventHeaders.eventId)).filter((x): x is string => x !== null);
      const { rows } = await c.pool.query<{ event_id: string }>(
        `SELECT event_id FROM mapper_processed_events WHERE integration_id = $1 AND event_id = ANY($2::text[])`, [r.integrationId, ids]);
      const handled = new Set(rows.map((x) => x.event_id));
      const out: { partition: number; message: Message }[] = [];
      const toMap: RangeRecord[] = [];
      for (const rec of mine) {
        report.matched++;
        const h = rec.message.headers ?? {};
        if (headerOf(h, RawEventHeaders.replay) !== null) {
          report.skipped['written by an earlier replay'] = (report.skipped['written by an earlier replay'] ?? 0) + 1;
          continue;
        }
        const type = headerOf(h, RawEventHeaders.eventType) ?? '(no type)';
        const id = headerOf(h, RawEventHeaders.eventId);
        const t = (report.eventTypes[type] ??= { events: 0, handled: 0 });
        t.events++;
        if (id && handled.has(id)) {
          t.handled++;
          handledTotal++;
        }
        report.resent++;
        toMap.push(rec);
        out.push({ partition: rec.partition, message: { key: rec.message.key, value: rec.message.value, headers: { ...h, [RawEventHeaders.replay]: r.replayId }, partition: rec.partition } });
      }
      if (toMap.length > 0) await preview?.add(topic, toMap[0]!.partition, toMap);
      if (producer && out.length > 0) {
        const batch = [{ topic, messages: out.map((o) => o.message) }];
        for (const chunk of chunkTopicMessages(batch, 512 * 1024)) await producer.sendBatch({ topicMessages: chunk, acks: -1 });
      }
    });
  } finally {
    await producer?.disconnect();
  }
  const unhandled = report.resent - handledTotal;
  const note = `${handledTotal} event(s) handled before: re-mapped read-only to the same conversion ids, answered duplicate where the ledger has them, sent where it does not` +
    (unhandled > 0 ? `; ${unhandled} never handled: mapped as new` : '');
  return { replayId: r.replayId, groupId, dryRun: r.dryRun, integrationId: r.integrationId, topic, ranges, ...report, note, preview: preview?.preview ?? null };
};
