import { Option, type Command } from 'commander';
import { z } from 'zod';
import { baseEnv, createDurableProducer, createKafka, createLogger, createPool, createSecretBox, ensureTopics, migrate, Murmur2Partitioner, parseKey } from '@sas/runtime';
import { CliError, type CliContext, type RegisterCommands } from '../context.js';
import { resolveRange } from '../../backfill/range.js';
import { BackfillError, runBackfill, type BackfillResult, type BackfillStart } from '../../backfill/runBackfill.js';
import { createRunStore, type BackfillRun } from '../../backfill/runStore.js';
import { createBarReporter, createJsonLineReporter } from '../../backfill/reporter.js';

const runEnv = z.object({
  ...baseEnv,
  SECRETS_KEY: z.string().min(1, 'set SECRETS_KEY (the services\' key): it opens the integration\'s Stripe key'),
  SECRETS_KEY_PREVIOUS: z.string().min(1).optional(),
  STRIPE_API_BASE: z.string().url().default('https://api.stripe.com'),
  STRIPE_TIMEOUT_MS: z.coerce.number().int().positive().default(30_000),
});
const readEnv = z.object({ DATABASE_URL: baseEnv.DATABASE_URL, LOG_LEVEL: baseEnv.LOG_LEVEL });

const iso = (sec: number | null): string | null => (sec === null ? null : new Date(sec * 1000).toISOString());

/** A run as printed: times in ISO, the platform account named. */
const runView = (r: BackfillRun) => ({
  runId: r.id,
  integrationId: r.integrationId,
  status: r.status,
  from: iso(r.fromSec),
  to: iso(r.toSec),
  onlyFailed: r.onlyFailed,
  error: r.error,
  startedAt: r.startedAt,
  updatedAt: r.updatedAt,
  read: r.accounts.reduce((s, a) => s + a.read, 0),
  written: r.accounts.reduce((s, a) => s + a.written, 0),
  accounts: r.accounts.map((a) => ({
    account: a.account ?? 'platform', read: a.read, written: a.written, pages: a.pages, done: a.done,
    cursor: a.cursor, oldestCreated: iso(a.oldestCreated),
  })),
});

const resultView = (res: BackfillResult) => ({
  ...runView(res.run),
  durationMs: Math.round(res.durationMs),
  writtenThisTime: res.writtenNow,
  eventsPerSecond: res.durationMs > 0 ? Math.round((res.writtenNow / res.durationMs) * 1000 * 10) / 10 : null,
});

const resumeHint = (r: { integrationId: string; runId: string }) => `resume with: sas backfill ${r.integrationId} --resume ${r.runId}`;

const humanRun = (v: ReturnType<typeof runView>): string => [
  `${v.runId}  ${v.status}  ${v.integrationId}  ${v.from} → ${v.to}${v.onlyFailed ? '  only failed deliveries' : ''}`,
  ...v.accounts.map((a) => `  ${a.account.padEnd(24)} ${String(a.written).padStart(8)} written  ${String(a.pages).padStart(5)} pages  ${a.done ? 'done' : `cursor ${a.cursor ?? '-'}`}`),
  ...(v.error ? [`  error: ${v.error}`] : []),
].join('\n');

const collect = (value: string, previous: string[] = []) => [...previous, value];

interface RunOptions {
  from?: string; to?: string; onlyFailed?: boolean; account?: string[]; resume?: string; rate: number; retries: number;
}

const positiveNumber = (name: string, min: number) => (v: string): number => {
  const n = Number(v);
  if (!Number.isFinite(n) || n < min) throw new CliError(`${name} must be a number ≥ ${min}`, 2);
  return n;
};

const runCommand = async (ctx: CliContext, integrationId: string, o: RunOptions): Promise<void> => {
  let start: BackfillStart;
  if (o.resume) {
    if (o.from || o.to || o.onlyFailed || o.account) throw new CliError('--resume takes the run\'s own range and accounts: leave out --from, --to, --only-failed and --account', 2);
    start = { kind: 'resume', integrationId, runId: o.resume };
  } else {
    if (!o.from) throw new CliError('--from is required (or --resume <runId>): an ISO time (2026-11-20T08:00:00Z) or a relative one (-7d)', 2);
    const r = resolveRange({ from: o.from, to: o.to, nowMs: Date.now() });
    if (!r.ok) throw new CliError(r.message, 2);
    for (const a of o.account ?? []) {
      if (a !== 'platform' && !/^acct_[A-Za-z0-9]+$/.test(a)) throw new CliError(`--account ${a}: expected acct_... or platform`, 2);
    }
    const accounts = o.account ? [...new Set(o.account)].map((a) => (a === 'platform' ? null : a)) : null;
    start = { kind: 'new', integrationId, fromSec: r.range.fromSec, toSec: r.range.toSec, onlyFailed: Boolean(o.onlyFailed), accounts };
    if (r.range.clampedTo) ctx.stderr.write(`sas: --to is in the future: backfilling up to now (${iso(r.range.toSec)})\n`);
  }

  const env = ctx.env(runEnv);
  const log = createLogger('sas', 'silent'); // stdout is the command's output; failures reach the user as its error
  const box = createSecretBox(parseKey(env.SECRETS_KEY), env.SECRETS_KEY_PREVIOUS ? [parseKey(env.SECRETS_KEY_PREVIOUS, 'SECRETS_KEY_PREVIOUS')] : []);
  await migrate(env.DATABASE_URL, log);
  const pool = createPool(env.DATABASE_URL, 3);
  const kafka = createKafka({ brokers: env.KAFKA_BROKERS, clientId: env.KAFKA_CLIENT_ID ?? 'sas-backfill', log });
  const producer = createDurableProducer(kafka, { createPartitioner: Murmur2Partitioner });
  const reporter = ctx.stderr.isTTY ? createBarReporter(ctx.stderr) : createJsonLineReporter(ctx.stderr);

  // Ctrl-C: finish the page in hand, save its cursor, say how to resume. A second one quits at once.
  let stop = false;
  const stopped = new AbortController();
  const onSigint = () => {
    if (stop) process.exit(130);
    stop = true;
    stopped.abort();
    reporter.note('stopping after the current page (Ctrl-C again to quit at once; the run resumes from its last saved page)');
  };
  // Waits (pace, backoff) end early on Ctrl-C; the loop then stops before its next request.
  const sleep = (ms: number) => new Promise<void>((resolve) => {
    if (stopped.signal.aborted) return resolve();
    const timer = setTimeout(resolve, ms);
    stopped.signal.addEventListener('abort', () => { clearTimeout(timer); resolve(); }, { once: true });
  });
  process.on('SIGINT', onSigint);
  try {
    await ensureTopics(kafka, env.KAFKA_TOPIC_PREFIX);
    await producer.connect();
    const res = await runBackfill(start, {
      pool, box, producer, topicPrefix: env.KAFKA_TOPIC_PREFIX, stripeApiBase: env.STRIPE_API_BASE, stripeTimeoutMs: env.STRIPE_TIMEOUT_MS,
      rate: o.rate, retries: o.retries, stopRequested: () => stop, sleep,
      onPage: reporter.page, onRetry: reporter.retry,
    });
    reporter.stop();
    const view = resultView(res);
    if (res.run.status === 'interrupted') {
      ctx.print(view, () => humanRun(view));
      throw new CliError(`backfill ${res.run.id} interrupted; ${resumeHint(view)}`, 1, { runId: res.run.id });
    }
    ctx.print(view, () => `${humanRun(view)}\n${res.writtenNow} events written in ${(res.durationMs / 1000).toFixed(1)} s${view.eventsPerSecond !== null ? ` (${view.eventsPerSecond} events/s)` : ''}`);
  } catch (err) {
    reporter.stop();
    if (err instanceof BackfillError) {
      if (err.result) {
        const view = resultView(err.result);
        ctx.print(view, () => humanRun(view));
      }
      const hint = err.runId && err.exitCode === 1 ? `; ${resumeHint({ integrationId, runId: err.runId })}` : '';
      throw new CliError(`${err.message}${hint}`, err.exitCode, err.runId ? { runId: err.runId } : undefined);
    }
    throw err;
  } finally {
    process.off('SIGINT', onSigint);
    await producer.disconnect().catch(() => undefined);
    await pool.end().catch(() => undefined);
  }
};

const withPool = async <T>(ctx: CliContext, fn: (store: ReturnType<typeof createRunStore>) => Promise<T>): Promise<T> => {
  const env = ctx.env(readEnv);
  await migrate(env.DATABASE_URL, createLogger('sas', 'silent'));
  const pool = createPool(env.DATABASE_URL, 2);
  try {
    return await fn(createRunStore(pool));
  } finally {
    await pool.end();
  }
};

export const registerBackfillCommands: RegisterCommands = (program: Command, ctx: CliContext) => {
  const backfill = program
    .command('backfill')
    .description('List an integration\'s Stripe events over a time range (Stripe keeps them 30 days) and feed them in as webhooks; duplicates change nothing downstream')
    .argument('<integrationId>', 'the integration whose Stripe account is listed')
    .option('--from <time>', 'start: ISO time (2026-11-20T08:00:00Z) or relative (-7d, -12h); at most 30 days ago')
    .option('--to <time>', 'end: ISO time, relative, or now (default: now; a future end is clamped to now)')
    .option('--only-failed', 'only events whose webhook delivery has not succeeded (pending or failed: delivery_success=false)')
    .option('--account <acct>', 'a Stripe account to list, repeatable (acct_... or platform; default: the platform account and the integration\'s Connect accounts)', collect)
    .option('--resume <runId>', 'resume an interrupted or failed run from its last saved page')
    .addOption(new Option('--rate <req/s>', 'Stripe requests per second at most, to leave the merchant\'s API budget alone').default(20).argParser(positiveNumber('--rate', 0.1)))
    .addOption(new Option('--retries <n>', 'tries after the first for a page Stripe refused for a while (429, 5xx, network), with backoff').default(5).argParser(positiveNumber('--retries', 0)))
    .addHelpText('after', '\nProgress: a bar on a terminal, else one JSON line per page on stderr. The result goes to stdout (JSON with --json).\nExamples:\n  sas backfill int_acme --from -7d --only-failed\n  sas backfill int_acme --from 2026-11-20T00:00:00Z --to 2026-11-21T00:00:00Z --account acct_1Nabc\n  sas backfill int_acme --resume bf_m3x9k2a1b2c3')
    .action((integrationId: string, o: RunOptions) => runCommand(ctx, integrationId, o));

  backfill
    .command('list')
    .description('Backfill runs, newest first')
    .argument('[integrationId]', 'only this integration\'s runs')
    .option('--limit <n>', 'at most this many runs', '50')
    .action(async (integrationId: string | undefined, o: { limit: string }) => {
      const runs = await withPool(ctx, (s) => s.list(integrationId ?? null, Math.max(1, Number(o.limit) || 50)));
      const views = runs.map(runView);
      ctx.print({ runs: views }, () => (views.length === 0 ? 'no backfill runs' : views.map(humanRun).join('\n')));
    });

  backfill
    .command('show')
    .description('One backfill run: range, status, and each account\'s cursor and counts')
    .argument('<runId>')
    .action(async (runId: string) => {
      const run = await withPool(ctx, (s) => s.get(runId));
      if (!run) throw new CliError(`no backfill run ${runId}`, 1);
      const view = runView(run);
      ctx.print(view, () => humanRun(view));
    });
};
