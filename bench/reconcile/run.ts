/**
 * bench:reconcile (issue 8): BENCH_CUSTOMERS simulated Stripe customers (default 100,000) sent
 * to ingest as Stripe sends them (signed, retried until 2xx), through the four services as
 * processes (production bundles) on the shared stack, to the partner stubs in this process;
 * once the pipeline is quiet, the credits are reconciled with Stripe's amounts. Progress on
 * stderr; the last line is
 * {"bench":"reconcile","customers":..,"events":..,"mismatches":..,"double_credits":..,"missing":..}.
 * Known defects (tools/reconcile/knownDefects.ts) are reported on stderr and in the line as
 * `known_defects`, never folded into the zero counts.
 * Knobs: BENCH_CUSTOMERS, BENCH_SEED, BENCH_CONCURRENCY (simultaneous customers, 64),
 * BENCH_RATE (deliveries/s cap), BENCH_DRAIN_TIMEOUT_S (1800).
 */
import { randomUUID } from 'node:crypto';
import { createLogger, createPool, migrate } from '@sas/runtime';
import { TEST_SECRETS_KEY, randomWebhookSecret, startPipelineProcesses } from '@sas/testkit';
import { requireEnv } from '../procStats.js';
import { simulate } from '../../tools/simulator/history.js';
import { sendHistories } from '../../tools/simulator/sender.js';
import { truthOf } from '../../tools/simulator/truth.js';
import { startReconcileTargets } from '../../tools/reconcile/destinations.js';
import { drainAndReconcile } from '../../tools/reconcile/drain.js';
import { knownDefects } from '../../tools/reconcile/knownDefects.js';

const customers = Number(process.env.BENCH_CUSTOMERS ?? 100_000);
const say = (line: string) => console.error(`[reconcile ${new Date().toISOString().slice(11, 19)}] ${line}`);
const databaseUrl = requireEnv('DATABASE_URL', 'reconcile');
const env = {
  KAFKA_BROKERS: requireEnv('KAFKA_BROKERS', 'reconcile'), SCHEMA_REGISTRY_URL: requireEnv('SCHEMA_REGISTRY_URL', 'reconcile'),
  DATABASE_URL: databaseUrl, SECRETS_KEY: TEST_SECRETS_KEY, LOG_LEVEL: 'warn',
  KAFKA_TOPIC_PREFIX: `benchrec${randomUUID().slice(0, 8)}.`, RETRY_SCHEDULE_MS: '500,1000,2000,4000,8000',
};

const t0 = Date.now();
const histories = simulate({ seed: Number(process.env.BENCH_SEED ?? 1), customers, runTag: randomUUID().slice(0, 6) });
const truth = truthOf(histories);
const events = histories.reduce((s, h) => s + h.events.length, 0);
const deliveries = histories.reduce((s, h) => s + h.deliveries.length, 0);
say(`${customers} customers: ${events} events, ${deliveries} deliveries, ${truth.length} paid orders (generated in ${Date.now() - t0} ms)`);

await migrate(databaseUrl, createLogger('bench', 'warn'));
const pool = createPool(databaseUrl);
const integrationId = `int_benchrec_${randomUUID().slice(0, 8)}`;
const secret = randomWebhookSecret();
const targets = await startReconcileTargets({ integrationId, webhookSecret: secret, refundHoldSeconds: 1, pool });
await pool.end();
const pipeline = await startPipelineProcesses({ env, runner: 'bundle' });
say(`services up (logs in ${pipeline.logDir})`);
try {
  const sendStart = Date.now();
  let lastSay = 0;
  const sent = await sendHistories(histories, {
    url: pipeline.webhookUrl(integrationId), urlFor: (h) => pipeline.webhookUrl(targets.integrationFor(h)), secret, concurrency: Number(process.env.BENCH_CONCURRENCY ?? 64),
    ...(process.env.BENCH_RATE ? { ratePerSec: Number(process.env.BENCH_RATE) } : {}),
    onDelivered: (n) => {
      if (Date.now() - lastSay < 10_000) return;
      lastSay = Date.now();
      say(`${n}/${deliveries} acknowledged (${Math.round(n / ((Date.now() - sendStart) / 1000))}/s), partner requests ${targets.requests()}`);
    },
  });
  const sendSeconds = (Date.now() - sendStart) / 1000;
  say(`sent in ${sendSeconds.toFixed(1)} s: ${JSON.stringify(sent)}`);
  const r = await drainAndReconcile({
    targets, truth, knownDefect: knownDefects, intervalMs: customers > 20_000 ? 5_000 : 1_000, quietMs: 5_000, giveUpQuietMs: 60_000,
    timeoutMs: Number(process.env.BENCH_DRAIN_TIMEOUT_S ?? 1_800) * 1000,
    onProgress: (x, quiet) => say(`draining: partner requests ${targets.requests()}, mismatches ${x.mismatches}, missing ${x.missing}, known defects ${x.known_defects}, quiet ${quiet} ms`),
  });
  const seconds = (Date.now() - sendStart) / 1000;
  const unexplained = r.details.filter((d) => !d.includes('known defect'));
  if (unexplained.length) say(`findings (first 20):\n${unexplained.slice(0, 20).join('\n')}`);
  const byDefect = new Map<string, number>();
  for (const d of r.details) {
    const m = /^(\S+): known defect \((.+?)\): /.exec(d);
    if (m) byDefect.set(`${m[1]} | ${m[2]}`, (byDefect.get(`${m[1]} | ${m[2]}`) ?? 0) + 1);
  }
  say(`known defects by destination and defect: ${JSON.stringify(Object.fromEntries(byDefect), null, 1)}`);
  console.error(JSON.stringify({
    customers, events, deliveries, orders: r.orders, sendSeconds, drainSeconds: r.drainedInMs / 1000, seconds,
    events_per_s: Math.round(events / seconds), deliveries_per_s_sent: Math.round(deliveries / sendSeconds),
    partnerRequests: targets.requests(), retries: sent.retries, gaveUp: sent.gaveUp,
  }));
  console.log(JSON.stringify({
    bench: 'reconcile', customers, events, mismatches: r.mismatches, double_credits: r.double_credits, missing: r.missing,
    known_defects: r.known_defects, events_per_s: Math.round(events / seconds),
  }));
} finally {
  await pipeline.stopAll();
  await targets.close();
}
