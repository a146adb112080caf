/**
 * bench/dispatcher: conversions pre-filled on conversions.v1, stubs that answer at once, the
 * dispatcher as its own process (ledger in PostgreSQL, outcomes to Kafka). Measures partner
 * posts per second from the first post to the last, the p99 of read-to-settled per ledger row,
 * the dispatcher's peak RSS and CPU. Prints one JSON line last.
 *   npm run bench:dispatcher       (BENCH_CONVERSIONS, BENCH_CONCURRENCY to change the load)
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createIntegration, createKafka, createLogger, ensureTopics, createPool, createSecretBox, migrate, parseKey } from '@sas/runtime';
import { TEST_SECRETS_KEY, startImpactStub, startPartnerstackStub, startTracknowStub, startWebhookStub, uniqueId, waitFor } from '@sas/testkit';
import { conversion, createConversionProducer } from '../../services/dispatcher/test/fixtures.js';

const N = Number(process.env.BENCH_CONVERSIONS ?? 10_000);
const concurrency = Number(process.env.BENCH_CONCURRENCY ?? 64);
const env = (k: string) => {
  const v = process.env[k];
  if (!v) throw new Error(`${k} is not set: run through "npm run bench:dispatcher" (it sources scripts/stack.sh env)`);
  return v;
};
const root = fileURLToPath(new URL('../..', import.meta.url));
const log = createLogger('bench', 'warn');
const prefix = `${uniqueId('benchd')}.`;
const integrationId = uniqueId('bench_');
const secret = 'whsec_' + Buffer.from('bench-secret-bench-secret-bench!').toString('base64');

const impact = await startImpactStub({ accountSid: 'IRsid', authToken: 'tok' });
const ps = await startPartnerstackStub({ publicKey: 'pub', secretKey: 'sec' });
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
    { id: `${integrationId}_tn`, type: 'tracknow', settings: { baseUrl: tn.baseUrl, ...s }, credentials: {} },
    { id: `${integrationId}_wh`, type: 'webhook', settings: { url: wh.baseUrl, ...s }, credentials: { signingSecret: secret } },
  ],
});

const childEnv = {
  ...process.env, KAFKA_TOPIC_PREFIX: prefix, SECRETS_KEY: TEST_SECRETS_KEY, LOG_LEVEL: 'error', DISPATCHER_HEALTH_PORT: '0',
  DISPATCHER_GROUP_ID: uniqueId('g'), DISPATCH_POLL_MS: '100',
};
const runDispatcher = () => spawn(process.execPath, ['--import', 'tsx', 'services/dispatcher/src/main.ts'], { cwd: root, env: childEnv, stdio: ['ignore', 'ignore', 'inherit'] });
await ensureTopics(createKafka({ brokers: [env('KAFKA_BROKERS')], clientId: 'bench', log }), prefix);
const producer = await createConversionProducer({ brokers: env('KAFKA_BROKERS'), registryUrl: env('SCHEMA_REGISTRY_URL'), prefix });
const all = Array.from({ length: N }, (_, i) => conversion({ integrationId, kind: i % 2 ? 'SALE_RECURRING' : 'SALE_FIRST' }));
for (let i = 0; i < all.length; i += 2_000) await producer.send(all.slice(i, i + 2_000));
await producer.close();
const expected = N * stubs.length;

const child = runDispatcher();
const ticks = () => {
  try {
    const stat = readFileSync(`/proc/${child.pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return Number(stat[11]) + Number(stat[12]); // utime + stime, in clock ticks (100 Hz)
  } catch { return 0; }
};
const peakRss = () => {
  try { return Number(/VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))?.[1] ?? 0) / 1024; } catch { return 0; }
};
let rssMb = 0;
let cpuAtFirst = 0;
let cpuAtLast = 0;
await waitFor(() => {
  const n = posts();
  if (n > 0 && !firstLast.first) { firstLast.first = Date.now(); cpuAtFirst = ticks(); }
  rssMb = Math.max(rssMb, peakRss());
  if (n >= expected) { firstLast.last = Date.now(); cpuAtLast = ticks(); return true; }
  return undefined;
}, { timeoutMs: 600_000, intervalMs: 20, what: `${expected} partner posts` });
rssMb = Math.max(rssMb, peakRss());

const { rows: [lat] } = await pool.query<{ p50: number; p99: number; sent: string }>(
  `SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM updated_at - created_at) * 1000) AS p50,
          percentile_cont(0.99) WITHIN GROUP (ORDER BY extract(epoch FROM updated_at - created_at) * 1000) AS p99,
          count(*) FILTER (WHERE status = 'sent') AS sent
     FROM dispatch_ledger WHERE integration_id = $1`, [integrationId]);
await new Promise<void>((r) => { child.once('exit', () => r()); child.kill('SIGTERM'); });
await pool.end();
await Promise.all(stubs.map((x) => x.close()));

const seconds = (firstLast.last - firstLast.first) / 1000;
const doubles = [ps.book, tn.book, wh.book].reduce((n, b) => n + b.doubleCredits().length, 0) + impact.duplicates();
console.error(JSON.stringify({ conversions: N, destinations: stubs.length, posts: posts(), seconds, ledgerSent: Number(lat!.sent),
  readToSettledMs: { p50: Math.round(lat!.p50), p99: Math.round(lat!.p99) }, dispatcherCpuCores: Number((((cpuAtLast - cpuAtFirst) / 100) / seconds).toFixed(2)), doubles }));
console.log(JSON.stringify({ bench: 'dispatcher', posts_per_s: Math.round(expected / seconds), p99_ms: Math.round(lat!.p99), rss_mb: Math.round(rssMb) }));
process.exit(0);
