import { RawEventHeaders, topicName, type MapperDeadLetter } from '@sas/contracts';
import { createDurableProducer, withTransaction, type Pool } from '@sas/runtime';
import type { IHeaders, Kafka } from 'kafkajs';
import { readRanges, resolveRanges } from '../replay/readRange.js';
import { shortId } from '../replay/connections.js';
import type { DeadLetterEntry } from './entries.js';

export interface ActionDeps {
  readonly kafka: Kafka;
  readonly pool: Pool;
  readonly prefix: string;
  readonly actor: string;
}

/** What a requeue did: `requeued` (the action was recorded), or nothing to do and why. */
export interface RequeueResult {
  readonly id: string;
  readonly result: 'requeued' | 'already_credited' | 'in_progress' | 'already_requeued' | 'not_found';
  readonly detail: string;
}

const recordAction = (q: Pick<Pool, 'query'>, e: DeadLetterEntry, action: 'requeued' | 'dropped', reason: string | null, actor: string) =>
  q.query(`INSERT INTO dead_letter_actions (source, topic, partition, "offset", action, reason, actor) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
    [e.source, e.topic, e.partition, e.offset, action, reason, actor]);

const inTransaction = withTransaction;

/** Drop: record why; nothing else changes (a dispatcher's ledger row stays failed, so no replay sends it by itself). */
export const dropDeadLetter = async (deps: ActionDeps, e: DeadLetterEntry, reason: string): Promise<void> => {
  await recordAction(deps.pool, e, 'dropped', reason, deps.actor);
};

/**
 * Dispatcher: the ledger row goes from failed back to pending, due now, attempts from zero,
 * together with the action row; the running dispatchers' poller sends it. The ledger still
 * guarantees one credit: a row no longer failed (sent since) is left alone.
 */
export const requeueDispatcherEntry = async (deps: ActionDeps, e: DeadLetterEntry): Promise<RequeueResult> => {
  const key = [deps.prefix, e.integrationId, e.destinationId, e.conversionId];
  return inTransaction(deps.pool, async (q) => {
    const { rows } = await q.query<{ order_id: string; action: string }>(
      `UPDATE dispatch_ledger SET status = 'pending', attempts = 0, next_attempt_at = now(), lease_owner = NULL, lease_until = NULL, updated_at = now()
        WHERE scope = $1 AND integration_id = $2 AND destination_id = $3 AND conversion_id = $4 AND status = 'failed'
        RETURNING order_id, action`, key);
    if (rows.length > 0) {
      const detail = rows.map((r) => `ledger row ${r.order_id}/${r.action} is pending again`).join('; ');
      await recordAction(q, e, 'requeued', detail, deps.actor);
      return { id: e.id, result: 'requeued', detail: `${detail}: the dispatchers' poller sends it` } as const;
    }
    const now = await q.query<{ status: string }>(
      `SELECT status FROM dispatch_ledger WHERE scope = $1 AND integration_id = $2 AND destination_id = $3 AND conversion_id = $4`, key);
    const status = now.rows[0]?.status;
    if (status === 'sent' || status === 'dry_run') return { id: e.id, result: 'already_credited', detail: 'already credited, nothing to do' } as const;
    if (status === 'pending' || status === 'sending') return { id: e.id, result: 'in_progress', detail: 'already pending (requeued or being retried), nothing to do' } as const;
    return { id: e.id, result: 'not_found', detail: `no ledger row for ${e.conversionId} at ${e.destinationId} in this deployment` } as const;
  });
};

/** The raw record the dead letter came from, if the topic still has it (key, value and headers as ingest wrote them). */
const originalRecord = async (kafka: Kafka, d: MapperDeadLetter) => {
  const ranges = await resolveRanges(kafka, d.topic, { by: 'offset', partition: d.partition, fromOffset: d.offset, toOffset: d.offset });
  let found: { key: Buffer | null; value: Buffer | null; headers: IHeaders } | null = null;
  await readRanges(kafka, `sas-dlq-${shortId()}`, ranges.filter((r) => r.from === d.offset), (records) => {
    const r = records.find((x) => x.message.offset === d.offset);
    if (r) found = { key: r.message.key, value: r.message.value, headers: r.message.headers ?? {} };
  });
  return found as { key: Buffer | null; value: Buffer | null; headers: IHeaders } | null;
};

/**
 * Mapper: forget that the event was handled (dead-lettered events are marked handled), then
 * write the raw record again to its partition of stripe.events.v1 with its original key and
 * headers, in that order, so the mapper handles it as new. If it fails again it is a new dead
 * letter (a new entry); this one stays requeued.
 */
export const requeueMapperEntry = async (deps: ActionDeps, e: DeadLetterEntry, d: MapperDeadLetter): Promise<RequeueResult> => {
  const handledSince = async () => d.integrationId && d.eventId
    ? (await deps.pool.query(`SELECT 1 FROM mapper_processed_events WHERE integration_id = $1 AND event_id = $2`, [d.integrationId, d.eventId])).rowCount! > 0
    : true;
  if (e.lastAction?.action === 'requeued' && await handledSince()) {
    return { id: e.id, result: 'already_requeued', detail: `requeued at ${e.lastAction.at} by ${e.lastAction.actor} and handled since; if it failed again it is a new dead letter` };
  }
  const original = await originalRecord(deps.kafka, d);
  const value = original?.value ?? (d.rawBase64 ? Buffer.from(d.rawBase64, 'base64') : null);
  if (!value) return { id: e.id, result: 'not_found', detail: 'neither the raw record nor its copy in the dead letter is left' };
  // The record expired: its headers are rebuilt from what the dead letter says.
  const headers: IHeaders = original?.headers ?? Object.fromEntries(Object.entries({
    [RawEventHeaders.integrationId]: d.integrationId, [RawEventHeaders.eventId]: d.eventId, [RawEventHeaders.eventType]: d.eventType,
  }).filter((kv): kv is [string, string] => kv[1] !== null));
  await inTransaction(deps.pool, async (q) => {
    if (d.integrationId && d.eventId) {
      await q.query(`DELETE FROM mapper_processed_events WHERE integration_id = $1 AND event_id = $2`, [d.integrationId, d.eventId]);
    }
    await recordAction(q, e, 'requeued', `raw record ${d.topic}:${d.partition}:${d.offset} written again`, deps.actor);
  });
  const producer = createDurableProducer(deps.kafka);
  await producer.connect();
  try {
    // The same partition: the customer's other events stay in order behind it.
    await producer.send({ topic: topicName('stripeEvents', deps.prefix), acks: -1, messages: [{ key: original?.key ?? null, value, headers, partition: d.partition }] });
  } finally {
    await producer.disconnect();
  }
  return { id: e.id, result: 'requeued', detail: `event ${d.eventId ?? '(no id)'} written again to ${topicName('stripeEvents', deps.prefix)} partition ${d.partition}` };
};
