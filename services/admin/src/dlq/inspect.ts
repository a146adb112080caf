import type { DeadLetter, MapperDeadLetter } from '@sas/contracts';
import type { ConversionCodec, Pool } from '@sas/runtime';
import type { DeadLetterAction, DeadLetterEntry } from './entries.js';

/** Everything `sas dlq inspect` shows about one entry beyond the list's line. */
export interface DeadLetterDetail {
  readonly entry: DeadLetterEntry;
  /** Every action taken on it, oldest first (the audit trail). */
  readonly actions: DeadLetterAction[];
  /** Dispatcher: the conversion as the destination would have been sent it, and the ledger row now. */
  readonly conversion?: unknown;
  readonly ledger?: { status: string; attempts: number; lastError: string | null; updatedAt: string } | null;
  /** Mapper: where the raw record sits, what it is, and whether the mapper has handled the event (again) since. */
  readonly rawRecord?: { topic: string; partition: number; offset: string; bytes: number };
  readonly event?: { id: string | null; type: string | null; created: number | null; livemode: boolean | null } | null;
  readonly handled?: boolean;
}

export const inspectDeadLetter = async (
  deps: { pool: Pool; codec: ConversionCodec; prefix: string }, entry: DeadLetterEntry, value: Record<string, unknown>,
): Promise<DeadLetterDetail> => {
  const { rows: actions } = await deps.pool.query<DeadLetterAction>(
    `SELECT action, reason, actor, to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS at
       FROM dead_letter_actions WHERE topic = $1 AND partition = $2 AND "offset" = $3 ORDER BY id`,
    [entry.topic, entry.partition, entry.offset]);
  if (entry.source === 'dispatcher') {
    const d = value as unknown as DeadLetter;
    let conversion: unknown = null;
    try {
      conversion = await deps.codec.decode(Buffer.from(d.conversionBase64, 'base64'));
    } catch (err) {
      conversion = { error: `could not decode the conversion: ${(err as Error).message}` };
    }
    const { rows } = await deps.pool.query<{ status: string; attempts: number; last_error: string | null; updated_at: Date }>(
      `SELECT status, attempts, last_error, updated_at FROM dispatch_ledger
        WHERE scope = $1 AND integration_id = $2 AND destination_id = $3 AND conversion_id = $4`,
      [deps.prefix, d.integrationId, d.destinationId, d.conversionId]);
    const r = rows[0];
    return { entry, actions, conversion, ledger: r ? { status: r.status, attempts: r.attempts, lastError: r.last_error, updatedAt: r.updated_at.toISOString() } : null };
  }
  const d = value as unknown as MapperDeadLetter;
  const raw = d.rawBase64 ? Buffer.from(d.rawBase64, 'base64') : null;
  let event: DeadLetterDetail['event'] = null;
  try {
    const j = JSON.parse(raw?.toString('utf8') ?? 'null') as Record<string, unknown> | null;
    if (j && typeof j === 'object') {
      event = {
        id: typeof j.id === 'string' ? j.id : null, type: typeof j.type === 'string' ? j.type : null,
        created: typeof j.created === 'number' ? j.created : null, livemode: typeof j.livemode === 'boolean' ? j.livemode : null,
      };
    }
  } catch { /* not JSON: that is usually the reason */ }
  const handled = d.integrationId && d.eventId
    ? (await deps.pool.query(`SELECT 1 FROM mapper_processed_events WHERE integration_id = $1 AND event_id = $2`, [d.integrationId, d.eventId])).rowCount! > 0
    : false;
  return { entry, actions, rawRecord: { topic: d.topic, partition: d.partition, offset: d.offset, bytes: raw?.length ?? 0 }, event, handled };
};
