import type pg from 'pg';
import { withTransaction } from '@sas/runtime';
import type { AccountProgress } from './backfillLoop.js';

export type RunStatus = 'running' | 'interrupted' | 'failed' | 'done';

export interface RunAccount extends AccountProgress {
  /** null: the platform account. */
  readonly account: string | null;
}

export interface BackfillRun {
  readonly id: string;
  readonly integrationId: string;
  readonly fromSec: number;
  readonly toSec: number;
  readonly onlyFailed: boolean;
  readonly status: RunStatus;
  readonly error: string | null;
  readonly startedAt: string;
  readonly updatedAt: string;
  readonly accounts: readonly RunAccount[];
}

/** The platform account is '' in the table (part of the primary key), null everywhere else. */
const toDb = (account: string | null): string => account ?? '';
const fromDb = (account: string): string | null => (account === '' ? null : account);
const sec = (d: Date | null): number | null => (d === null ? null : Math.floor(d.getTime() / 1000));

interface RunRow {
  id: string; integration_id: string; range_from: Date; range_to: Date; only_failed: boolean; status: RunStatus;
  error: string | null; started_at: Date; updated_at: Date;
}
interface AccountRow {
  run_id: string; stripe_account: string; cursor_event_id: string | null; oldest_created: Date | null;
  events_read: string; events_written: string; pages: number; done: boolean;
}

const toRun = (r: RunRow, accounts: AccountRow[]): BackfillRun => ({
  id: r.id,
  integrationId: r.integration_id,
  fromSec: sec(r.range_from)!,
  toSec: sec(r.range_to)!,
  onlyFailed: r.only_failed,
  status: r.status,
  error: r.error,
  startedAt: r.started_at.toISOString(),
  updatedAt: r.updated_at.toISOString(),
  accounts: accounts.map((a) => ({
    account: fromDb(a.stripe_account), cursor: a.cursor_event_id, oldestCreated: sec(a.oldest_created),
    read: Number(a.events_read), written: Number(a.events_written), pages: a.pages, done: a.done,
  })),
});

/** backfill_runs and backfill_run_accounts (migration 0032). */
export const createRunStore = (pool: pg.Pool) => ({
  create: async (r: { id: string; integrationId: string; fromSec: number; toSec: number; onlyFailed: boolean; accounts: readonly (string | null)[] }): Promise<void> => {
    await withTransaction(pool, async (client) => {
      await client.query(
        `INSERT INTO backfill_runs (id, integration_id, range_from, range_to, only_failed) VALUES ($1, $2, to_timestamp($3), to_timestamp($4), $5)`,
        [r.id, r.integrationId, r.fromSec, r.toSec, r.onlyFailed],
      );
      await client.query(
        `INSERT INTO backfill_run_accounts (run_id, stripe_account) SELECT $1, unnest($2::text[])`,
        [r.id, r.accounts.map(toDb)],
      );
    });
  },

  saveAccount: async (runId: string, account: string | null, p: AccountProgress): Promise<void> => {
    await pool.query(
      `WITH a AS (
         UPDATE backfill_run_accounts SET cursor_event_id = $3, oldest_created = to_timestamp($4), events_read = $5,
                events_written = $6, pages = $7, done = $8, updated_at = now()
          WHERE run_id = $1 AND stripe_account = $2)
       UPDATE backfill_runs SET updated_at = now() WHERE id = $1`,
      [runId, toDb(account), p.cursor, p.oldestCreated, p.read, p.written, p.pages, p.done],
    );
  },

  setStatus: async (runId: string, status: RunStatus, error: string | null = null): Promise<void> => {
    await pool.query(`UPDATE backfill_runs SET status = $2, error = $3, updated_at = now() WHERE id = $1`, [runId, status, error]);
  },

  get: async (runId: string): Promise<BackfillRun | null> => {
    const { rows } = await pool.query<RunRow>(`SELECT * FROM backfill_runs WHERE id = $1`, [runId]);
    if (!rows[0]) return null;
    const accounts = await pool.query<AccountRow>(`SELECT * FROM backfill_run_accounts WHERE run_id = $1 ORDER BY stripe_account`, [runId]);
    return toRun(rows[0], accounts.rows);
  },

  list: async (integrationId: string | null, limit = 50): Promise<BackfillRun[]> => {
    const { rows } = await pool.query<RunRow>(
      `SELECT * FROM backfill_runs WHERE $1::text IS NULL OR integration_id = $1 ORDER BY started_at DESC, id LIMIT $2`,
      [integrationId, limit],
    );
    if (rows.length === 0) return [];
    const accounts = await pool.query<AccountRow>(
      `SELECT * FROM backfill_run_accounts WHERE run_id = ANY($1::text[]) ORDER BY stripe_account`,
      [rows.map((r) => r.id)],
    );
    return rows.map((r) => toRun(r, accounts.rows.filter((a) => a.run_id === r.id)));
  },
});

export type RunStore = ReturnType<typeof createRunStore>;

/** What the integration offers a backfill: its sealed Stripe key and its Connect accounts. */
export const loadBackfillSource = async (pool: pg.Pool, integrationId: string): Promise<{ stripeKeyCiphertext: string | null; accounts: string[] } | null> => {
  const { rows } = await pool.query<{ stripe_key_ciphertext: string | null; accounts: string[] | null }>(
    `SELECT i.stripe_key_ciphertext,
            (SELECT array_agg(a.stripe_account ORDER BY a.stripe_account) FROM integration_accounts a WHERE a.integration_id = i.id) AS accounts
       FROM integrations i WHERE i.id = $1`,
    [integrationId],
  );
  const r = rows[0];
  return r ? { stripeKeyCiphertext: r.stripe_key_ciphertext, accounts: r.accounts ?? [] } : null;
};
