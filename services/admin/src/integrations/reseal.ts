import type pg from 'pg';
import type { SecretBox } from '@sas/runtime';
import { writeAudit } from '../api/audit.js';
import { withTx } from './store.js';

/** The key id a sealed value names (`v1.<keyId>.<iv>.<tag>.<ciphertext>`, libs/runtime/src/secretBox.ts). */
export const sealedKeyId = (sealed: string): string => sealed.split('.')[1] ?? '';

/** Every column holding a sealed value, and how to page through its rows. */
export const SealedColumns = [
  { table: 'webhook_secrets', key: 'id', keyType: 'bigint', column: 'secret_ciphertext', integration: 'integration_id' },
  { table: 'destinations', key: 'id', keyType: 'text', column: 'credentials_ciphertext', integration: 'integration_id' },
  { table: 'integrations', key: 'id', keyType: 'text', column: 'stripe_key_ciphertext', integration: 'id' },
] as const;
export type SealedTable = (typeof SealedColumns)[number]['table'];

export interface ResealCount {
  readonly table: SealedTable;
  /** Re-sealed with the current key. */
  readonly resealed: number;
  /** Already sealed with the current key: left as they were. */
  readonly current: number;
}

export class ResealError extends Error {
  override readonly name = 'ResealError';
}

/**
 * Re-seal every sealed value with the box's current key (SECRETS_KEY), reading with the
 * previous one too. Batches of `batchSize` rows, each in its own transaction with its audit
 * row; values already under the current key are skipped, so a run stopped half way is simply
 * run again. Afterwards SECRETS_KEY_PREVIOUS can be dropped.
 */
export const resealAll = async (
  pool: pg.Pool, box: SecretBox, opts: { batchSize: number; actor: string; onBatch?: (table: SealedTable, rows: number) => void },
): Promise<ResealCount[]> => {
  const currentKey = sealedKeyId(box.seal(''));
  const counts: ResealCount[] = [];
  for (const c of SealedColumns) {
    let after: string | null = null;
    let resealed = 0;
    let current = 0;
    for (;;) {
      const batch: { rows: number; last: string | null; resealed: number; current: number } = await withTx(pool, async (db) => {
        const { rows } = await db.query<{ k: string; integration: string; sealed: string }>(
          `SELECT ${c.key}::text AS k, ${c.integration} AS integration, ${c.column} AS sealed FROM ${c.table}
            WHERE ${c.column} IS NOT NULL AND ($1::text IS NULL OR ${c.key} > $1::${c.keyType})
            ORDER BY ${c.key} LIMIT $2 FOR UPDATE`,
          [after, opts.batchSize],
        );
        const oldKeys: Record<string, number> = {};
        const ids: string[] = [];
        for (const r of rows) {
          const keyId = sealedKeyId(r.sealed);
          if (keyId === currentKey) continue;
          let plain: string;
          try {
            plain = box.open(r.sealed);
          } catch (err) {
            throw new ResealError(`${c.table} ${r.k}: ${(err as Error).message}`);
          }
          await db.query(`UPDATE ${c.table} SET ${c.column} = $2 WHERE ${c.key} = $1::${c.keyType}`, [r.k, box.seal(plain)]);
          oldKeys[keyId] = (oldKeys[keyId] ?? 0) + 1;
          ids.push(r.k);
        }
        if (ids.length > 0) {
          await writeAudit(db, {
            actor: opts.actor, action: 'secrets.reseal', integrationId: null, target: `${c.table}.${c.column}`,
            before: { keyIds: oldKeys }, after: { keyId: currentKey, resealed: ids.length, ids },
          });
        }
        return { rows: rows.length, last: rows.at(-1)?.k ?? null, resealed: ids.length, current: rows.length - ids.length };
      });
      resealed += batch.resealed;
      current += batch.current;
      if (batch.rows > 0) opts.onBatch?.(c.table, batch.rows);
      if (batch.rows < opts.batchSize) break;
      after = batch.last;
    }
    counts.push({ table: c.table, resealed, current });
  }
  return counts;
};
