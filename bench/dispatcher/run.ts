/**
 * bench/dispatcher: conversions pre-filled on conversions.v1, stubs that answer at once, the
 * dispatcher as its own process (ledger in PostgreSQL, outcomes to Kafka). Measures partner
 * posts per second from the first post to the last, the p99 of read-to-settled per ledger row
 * over the backlog (p99_ms), the dispatcher's peak RSS and CPU; then a steady-state phase at
 * half that rate for the produced-to-settled latency (detail line). Prints one JSON line last.
 *   npm run bench:dispatcher       (BENCH_CONVERSIONS, BENCH_CONCURRENCY to change the load,
 *   BENCH_STEADY_SECONDS=0 to skip the steady phase, BENCH_DISPATCHER_BUNDLE to run another build,
 *   BENCH_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof" to profile the dispatcher)
 * The detail line (stderr) splits CPU per post between the dispatcher, this process (the
 * stubs), PostgreSQL and Kafka: on a shared machine compare builds with those, not posts/s.
 */
import { execFileSync, spawn } from 'node:child_process';
import { createIntegration, createKafka, createLogger, ensureTopics, createPool, createSecretBox, migrate, parseKey } from '@sas/runtime';
import { TEST_SECRETS_KEY, startImpactStub, startPartnerstackStub, startTracknowStub, startWebhookStub, uniqueId, waitFor } from '@sas/testkit';
import { machineTicks, memoryMb, processTicks, repoRoot, requireEnv, stackPid, treeTicks } from '../procStats.js';
import { conversion, createConversionProducer } from '../../services/dispatcher/test/fixtures.js';

const N = Number(process.env.BENCH_CONVERSIONS ?? 10_000);
const concurrency = Number(process.env.BENCH_CONCURRENCY ?? 64);
const env = (k: string) => requireEnv(k, 'dispatcher');
const root = repoRoot;
const log = createLogger('bench', 'warn');
const prefix = `${uniqueId('benchd')}.`;
const integrationId = uniqueId('bench_');
const secret = 'whsec_' + Buffer.from('bench-secret-bench-secret-bench!').toString('base64');

const impact = await startImpactStub({ accountSid: 'IRsid', authToken: 'tok' });
// The bench sends sales without customer identities first: the stub's unknown-customer rule is off.
const ps = await startPartnerstackStub({ publicKey: 'pub', secretKey: 'sec', requireCustomer: false });
const tn = await startTracknowStub();
const wh = await startWebhookStub({ secret });
const stubs = [impact, ps, tn, wh];
const firstLast = { first: 0, last: 0 };
const posts = () => stubs.reduce((n, s) => n + s.stats.requests, 0);

await migrate(env('DATABASE_URL'), log);
const pool = createPool(env('DATABASE_URL'));
const s = { rateLimitPerSecond: 1_000_000, concurrency };
await createIntegration(pool, createSecretBox(parseKey(TEST_SECRETS_KEY)), {
  id: integrationId, name: 'bench', webhookSecrets: ['whsec_x'],
  destinations: [
    { id: `${integrationId}_impact`, type: 'impact', settings: { accountSid: 'IRsid', campaignId: '1', eventTypeId: '10', recurringEventTypeId: '11', baseUrl: impact.baseUrl, ...s }, credentials: { authToken: 'tok' } },
    { id: `${integrationId}_ps`, type: 'partnerstack', settings: { publicKey: 'pub', baseUrl: ps.apiBase, ...s }, credentials: { secretKey: 'sec' } },
    { id: `${integrationId}_tn`, type: 'tracknow', settings: { baseUrl: tn.baseUrl, campaignId: '5', ...s }, credentials: {} },
    { id: `${integrationId}_wh`, type: 'webhook', settings: { url: wh.baseUrl, ...s }, credentials: { signingSecret: secret } },
  ],
});

const childEnv = {
  ...process.env, KAFKA_TOPIC_PREFIX: prefix, SECRETS_KEY: TEST_SECRETS_KEY, LOG_LEVEL: 'error', DISPATCHER_HEALTH_PORT: '0',
  DISPATCHER_GROUP_ID: uniqueId('g'), DISPATCH_POLL_MS: '100',
};
// The production bundle (scripts/build.mjs), as the other benches run it: plain JavaScript, no TypeScript loader.
// BENCH_DISPATCHER_BUNDLE runs another build (e.g. the previous commit's) for a back-to-back comparison.
if (!process.env.BENCH_DISPATCHER_BUNDLE) execFileSync(process.execPath, ['scripts/build.mjs'], { cwd: root, stdio: 'ignore' });
const bundle = process.env.BENCH_DISPATCHER_BUNDLE ?? `${root}dist/dispatcher/main.js`;
// BENCH_NODE_ARGS: extra node flags for the dispatcher child (e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof").
const nodeArgs = (process.env.BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean);
const runDispatcher = () => spawn(process.execPath, [...nodeArgs, bundle], { cwd: root, env: childEnv, stdio: ['ignore', 'ignore', 'inherit'] });
await ensureTopics(createKafka({ brokers: [env('KAFKA_BROKERS')], clientId: 'bench', log }), prefix);
const producer = await createConversionProducer({ brokers: env('KAFKA_BROKERS'), registryUrl: env('SCHEMA_REGISTRY_URL'), prefix });
const all = Array.from({ length: N }, (_, i) => conversion({ integrationId, kind: i % 2 ? 'SALE_RECURRING' : 'SALE_FIRST' }));
for (let i = 0; i < all.length; i += 2_000) await producer.send(all.slice(i, i + 2_000));
const expected = N * stubs.length;

const child = runDispatcher();
const ticks = () => processTicks(child.pid!);
const peakRss = () => memoryMb(child.pid!).peak;
// Where the machine's CPU goes per post (the dispatcher, this process with the stubs, PostgreSQL, Kafka, everything).
const pgPid = stackPid('postgres');
const kafkaPid = stackPid('kafka');
const cpuNow = () => {
  const self = process.cpuUsage();
  return {
    dispatcher: ticks(), stubs: (self.user + self.system) / 10_000, kafka: kafkaPid ? processTicks(kafkaPid, true) : 0,
    postgres: pgPid ? treeTicks(pgPid) : 0, machine: machineTicks().busy,
  };
};
let rssMb = 0;
let cpuAtFirst = 0;
let cpuAtLast = 0;
let split0 = cpuNow();
let split1 = split0;
await waitFor(() => {
  const n = posts();
  if (n > 0 && !firstLast.first) { firstLast.first = Date.now(); cpuAtFirst = ticks(); split0 = cpuNow(); }
  rssMb = Math.max(rssMb, peakRss());
  if (n >= expected) { firstLast.last = Date.now(); cpuAtLast = ticks(); split1 = cpuNow(); return true; }
  return undefined;
}, { timeoutMs: 600_000, intervalMs: 20, what: `${expected} partner posts` });
rssMb = Math.max(rssMb, peakRss());

const { rows: [lat] } = await pool.query<{ p50: number; p99: number; sent: string }>(
  `SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM updated_at - created_at) * 1000) AS p50,
          percentile_cont(0.99) WITHIN GROUP (ORDER BY extract(epoch FROM updated_at - created_at) * 1000) AS p99,
          count(*) FILTER (WHERE status = 'sent') AS sent
     FROM dispatch_ledger WHERE integration_id = $1`, [integrationId]);

/*
 * The backlog's read-to-settled grows with the backlog (a row read early waits for the lanes
 * ahead of it), so it says little about latency. Steady state: after the backlog, produce at
 * half the measured rate for STEADY_SECONDS and take produced-to-settled per ledger row.
 */
const backlogSeconds = (firstLast.last - firstLast.first) / 1000;
const steadySeconds = Number(process.env.BENCH_STEADY_SECONDS ?? 10);
const steadyRate = Math.max(10, Math.round((expected / backlogSeconds) / stubs.length / 2)); // conversions/s
const producedAt = new Map<string, number>();
if (steadySeconds > 0) {
  const started = Date.now();
  for (let tick = 0; tick < steadySeconds * 10; tick++) {
    const batch = Array.from({ length: Math.round(steadyRate / 10) }, () => conversion({ integrationId, kind: 'SALE_RECURRING' }));
    const at = Date.now();
    await producer.send(batch);
    for (const c of batch) producedAt.set(c.conversionId, at);
    const wait = started + (tick + 1) * 100 - Date.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
  }
  const steadyExpected = expected + producedAt.size * stubs.length;
  await waitFor(() => (posts() >= steadyExpected ? true : undefined), { timeoutMs: 120_000, intervalMs: 20, what: 'steady-state posts' });
  await waitFor(async () => {
    const { rows: [r] } = await pool.query<{ n: string }>(`SELECT count(*) AS n FROM dispatch_ledger WHERE conversion_id = ANY($1) AND status = 'sent'`, [[...producedAt.keys()]]);
    return Number(r!.n) >= producedAt.size * stubs.length ? true : undefined;
  }, { timeoutMs: 30_000, intervalMs: 100, what: 'steady-state rows settled' });
}
rssMb = Math.max(rssMb, peakRss());
const { rows: steadyRows } = await pool.query<{ conversion_id: string; settled_ms: number }>(
  `SELECT conversion_id, extract(epoch FROM updated_at) * 1000 AS settled_ms FROM dispatch_ledger WHERE conversion_id = ANY($1)`, [[...producedAt.keys()]]);
const steadyLat = steadyRows.map((r) => Number(r.settled_ms) - producedAt.get(r.conversion_id)!).sort((a, b) => a - b);
const pct = (q: number) => (steadyLat.length ? Math.round(steadyLat[Math.min(steadyLat.length - 1, Math.floor(q * steadyLat.length))]!) : null);
await producer.close();
await new Promise<void>((r) => { child.once('exit', () => r()); child.kill('SIGTERM'); });
await pool.end();
await Promise.all(stubs.map((x) => x.close()));

const seconds = backlogSeconds;
const doubles = [ps.book, tn.book, wh.book].reduce((n, b) => n + b.doubleCredits().length, 0) + impact.duplicates();
console.error(JSON.stringify({ conversions: N, destinations: stubs.length, posts: posts(), seconds, ledgerSent: Number(lat!.sent),
  // p99_ms below is this backlog number (read from Kafka → ledger row settled): it grows with the backlog.
  backlogReadToSettledMs: { p50: Math.round(lat!.p50), p99: Math.round(lat!.p99) },
  steadyState: { conversionsPerSec: steadyRate, postsPerSec: steadyRate * stubs.length, seconds: steadySeconds, rows: steadyLat.length,
    producedToSettledMs: { p50: pct(0.5), p99: pct(0.99), max: pct(1) } },
  dispatcherCpuCores: Number((((cpuAtLast - cpuAtFirst) / 100) / seconds).toFixed(2)),
  // CPU per post is steadier than posts/s on a shared machine: compare builds with it. "machine" includes other work.
  cpuMsPerPost: Object.fromEntries(Object.keys(split0).map((k) => [k, Number((((split1 as Record<string, number>)[k]! - (split0 as Record<string, number>)[k]!) * 10 / expected).toFixed(3))])),
  doubles }));
console.log(JSON.stringify({ bench: 'dispatcher', posts_per_s: Math.round(expected / seconds), p99_ms: Math.round(lat!.p99), rss_mb: Math.round(rssMb) }));
process.exit(0);
