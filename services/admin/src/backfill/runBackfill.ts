import { randomBytes } from 'node:crypto';
import type pg from 'pg';
import type { DurableProducer, SecretBox } from '@sas/runtime';
import { PageFailedError, START, runAccountLoop, type AccountProgress, type PageQuery, type Page } from './backfillLoop.js';
import { createEventWriter } from './eventWriter.js';
import { createPacer } from './pacer.js';
import { createRunStore, loadBackfillSource, type BackfillRun, type RunStatus, type RunStore } from './runStore.js';
import { adviseStripeError, createStripeEventSource, redactKeys, type ListedStripeEvent } from './stripeEventSource.js';

export class BackfillError extends Error {
  override readonly name = 'BackfillError';
  constructor(message: string, readonly exitCode: 1 | 2, readonly runId: string | null = null, readonly result: BackfillResult | null = null) {
    super(message);
  }
}

export type BackfillStart =
  | { readonly kind: 'new'; readonly integrationId: string; readonly fromSec: number; readonly toSec: number; readonly onlyFailed: boolean; readonly accounts: readonly (string | null)[] | null }
  | { readonly kind: 'resume'; readonly integrationId: string; readonly runId: string };

export interface BackfillDeps {
  readonly pool: pg.Pool;
  readonly box: SecretBox;
  readonly producer: DurableProducer;
  readonly topicPrefix: string;
  readonly stripeApiBase: string;
  readonly stripeTimeoutMs: number;
  /** Requests per second to Stripe, at most. */
  readonly rate: number;
  readonly retries: number;
  readonly stopRequested: () => boolean;
  /** Told after each page is written and saved (the progress bar or JSON lines). */
  readonly onPage: (run: BackfillRun, account: string | null, p: AccountProgress) => void;
  readonly onRetry: (account: string | null, attempt: number, waitMs: number, reason: string) => void;
  /** Replaces the Stripe API in unit use of the shell; the CLI always lists from Stripe. */
  readonly fetchPage?: (q: PageQuery) => Promise<Page<ListedStripeEvent>>;
  readonly now?: () => number;
  readonly sleep?: (ms: number) => Promise<void>;
}

export interface BackfillResult {
  readonly run: BackfillRun;
  readonly durationMs: number;
  /** Events written by this invocation (a resumed run's earlier pages are not counted). */
  readonly writtenNow: number;
}

export const newRunId = (): string => `bf_${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;

/**
 * One backfill run, new or resumed: each account (the platform's own, then Connect accounts)
 * pages through its events in turn, newest first, from its saved cursor. The run is held
 * with a PostgreSQL advisory lock, so one run never pages in two processes at once.
 */
export const runBackfill = async (start: BackfillStart, d: BackfillDeps): Promise<BackfillResult> => {
  const now = d.now ?? Date.now;
  const t0 = now();
  const store = createRunStore(d.pool);

  const source = await loadBackfillSource(d.pool, start.integrationId);
  if (!source) throw new BackfillError(`unknown integration ${start.integrationId}`, 2);
  const existing = start.kind === 'resume' ? await store.get(start.runId) : null;
  if (start.kind === 'resume') {
    if (!existing) throw new BackfillError(`no backfill run ${start.runId}`, 2);
    if (existing.integrationId !== start.integrationId) {
      throw new BackfillError(`run ${start.runId} belongs to integration ${existing.integrationId}, not ${start.integrationId}`, 2);
    }
  }
  if (!source.stripeKeyCiphertext) {
    throw new BackfillError(`integration ${start.integrationId} has no Stripe API key: store its restricted (read-only) key first (sas integrations update ${start.integrationId} --stripe-key @env:VAR), backfill lists events with it`, 2);
  }
  const apiKey = d.box.open(source.stripeKeyCiphertext);

  let runId = existing?.id ?? null;
  if (start.kind === 'new') {
    runId = newRunId();
    const accounts = start.accounts ?? [null, ...source.accounts];
    await store.create({ id: runId, integrationId: start.integrationId, fromSec: start.fromSec, toSec: start.toSec, onlyFailed: start.onlyFailed, accounts });
  }
  const id = runId!;

  const lock = await d.pool.connect();
  try {
    const { rows } = await lock.query<{ locked: boolean }>(`SELECT pg_try_advisory_lock(hashtext('backfill_run'), hashtext($1)) AS locked`, [id]);
    if (!rows[0]?.locked) throw new BackfillError(`run ${id} is being run by another process`, 1, id);
    try {
      return await runHeld({ runId: id, integrationId: start.integrationId, apiKey, store, d, now, t0 });
    } finally {
      await lock.query(`SELECT pg_advisory_unlock(hashtext('backfill_run'), hashtext($1))`, [id]);
    }
  } finally {
    lock.release();
  }
};

/** The run's accounts in turn, while this process holds the run's lock. */
const runHeld = async (h: {
  runId: string; integrationId: string; apiKey: string; store: RunStore; d: BackfillDeps; now: () => number; t0: number;
}): Promise<BackfillResult> => {
  const { runId, store, d, now } = h;
  const sleep = d.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  let run = (await store.get(runId))!;
  let writtenNow = 0;
  const finish = async (status: RunStatus, error: string | null): Promise<BackfillResult> => {
    await store.setStatus(runId, status, error);
    run = (await store.get(runId))!;
    return { run, durationMs: now() - h.t0, writtenNow };
  };
  if (run.status === 'done') return finish('done', null);
  await store.setStatus(runId, 'running');

  const fetchPage = d.fetchPage ?? createStripeEventSource({ apiKey: h.apiKey, apiBase: d.stripeApiBase, timeoutMs: d.stripeTimeoutMs });
  const writePage = createEventWriter({ producer: d.producer, topicPrefix: d.topicPrefix, integrationId: h.integrationId, runId, now });
  const pace = createPacer(d.rate, now, sleep);

  for (const acc of run.accounts) {
    if (acc.done) continue;
    const account = acc.account;
    const before = acc.written;
    try {
      const end = await runAccountLoop<ListedStripeEvent>(
        {
          fetchPage, writePage, pace, sleep,
          save: async (p) => {
            await store.saveAccount(runId, account, p);
            run = { ...run, accounts: run.accounts.map((a) => (a.account === account ? { account, ...p } : a)) };
          },
          stopRequested: d.stopRequested,
          advise: adviseStripeError,
          retries: d.retries,
          backoffBaseMs: 1_000,
          backoffMaxMs: 30_000,
          onPage: (p) => d.onPage(run, account, p),
          onRetry: (attempt, waitMs, err) => d.onRetry(account, attempt, waitMs, redactKeys(err instanceof Error ? err.message : String(err))),
        },
        { account, fromSec: run.fromSec, toSec: run.toSec, onlyFailed: run.onlyFailed },
        { ...START, ...acc },
      );
      writtenNow += end.progress.written - before;
      if (end.outcome === 'stopped') return finish('interrupted', null);
    } catch (err) {
      // The cursor saved is the last page the broker acknowledged: resuming starts after it.
      const failed = err instanceof PageFailedError ? err : null;
      if (failed) writtenNow += failed.progress.written - before;
      const reason = redactKeys(err instanceof Error ? err.message : String(err));
      const message = `${account ?? 'platform account'}: ${reason}${failed && failed.attempts > 1 ? ` (after ${failed.attempts} attempts)` : ''}`;
      const result = await finish('failed', message).catch(() => null);
      throw new BackfillError(`backfill ${runId} stopped: ${message}`, 1, runId, result);
    }
  }
  return finish('done', null);
};
