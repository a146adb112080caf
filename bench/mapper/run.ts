/**
 * bench/mapper: pre-fill stripe.events.v1 with BENCH_EVENTS (1,000,000) mixed Stripe events,
 * then time a fresh consumer group of one mapper process (the esbuild bundle, as in
 * production) catching up: every event mapped, conversions produced (acks=all), state and
 * dedupe ids committed to PostgreSQL. Enrichment is on and cached: checkouts cycle through
 * 1,000 sessions whose line items and promotion codes come from stripe-mock once.
 * Prints one JSON line last.   npm run bench:mapper   (BENCH_EVENTS to change the size)
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { consumerGroupId, topicName } from '@sas/contracts';
import { createIntegration, createKafka, createLogger, createPool, createSecretBox, ensureTopics, migrate, parseKey } from '@sas/runtime';
import { TEST_SECRETS_KEY, randomWebhookSecret, uniqueId } from '@sas/testkit';
import { benchEventAt } from './mix.js';
import { TICKS_PER_S, machineTicks, memoryMb, processTicks, repoRoot, requireEnv, stackPid, treeTicks } from '../procStats.js';
import { RawEventHeaders, stripeEventKey } from '@sas/contracts';

const N = Number(process.env.BENCH_EVENTS ?? 1_000_000);
const env = (k: string) => requireEnv(k, 'mapper');
const root = repoRoot;
const log = createLogger('bench-mapper', 'warn');
const databaseUrl = env('DATABASE_URL');
const brokers = env('KAFKA_BROKERS');
const prefix = `${uniqueId('benchmap')}.`;
const integrationId = uniqueId('bench_map_');
const box = createSecretBox(parseKey(TEST_SECRETS_KEY));

await migrate(databaseUrl, log);
const pool = createPool(databaseUrl);
await createIntegration(pool, box, { id: integrationId, name: 'bench mapper', webhookSecrets: [randomWebhookSecret()] });
await pool.query(`UPDATE integrations SET stripe_key_ciphertext = $2, charge_tracking = 'non_invoice' WHERE id = $1`, [integrationId, box.seal('sk_test_BenchReadOnly1')]);

const kafka = createKafka({ brokers: [brokers], clientId: 'bench-mapper', log });
await ensureTopics(kafka, prefix);
const inTopic = topicName('stripeEvents', prefix);

const eventAt = benchEventAt;

const fillStarted = Date.now();
const producer = kafka.producer({ allowAutoTopicCreation: false });
await producer.connect();
let bytes = 0;
const CHUNK = 2_000;
const inFlight = new Set<Promise<unknown>>();
for (let start = 0; start < N; start += CHUNK) {
  const messages = [];
  for (let i = start; i < Math.min(N, start + CHUNK); i++) {
    const e = eventAt(i);
    const o = e.data.object as Record<string, unknown>;
    const value = JSON.stringify(e);
    bytes += value.length;
    messages.push({
      key: stripeEventKey({ integrationId, account: null, customerId: typeof o.customer === 'string' ? o.customer : e.type.startsWith('customer.') ? (o.id as string) : null, objectId: o.id as string }),
      value,
      headers: {
        [RawEventHeaders.integrationId]: integrationId, [RawEventHeaders.eventId]: e.id, [RawEventHeaders.eventType]: e.type,
        [RawEventHeaders.apiVersion]: e.api_version, [RawEventHeaders.livemode]: 'false', [RawEventHeaders.receivedAt]: String(Date.now()),
      },
    });
  }
  const p = producer.send({ topic: inTopic, messages, acks: 1 });
  inFlight.add(p);
  void p.finally(() => inFlight.delete(p));
  if (inFlight.size >= 4) await Promise.race(inFlight);
}
await Promise.all(inFlight);
await producer.disconnect();
const fillSeconds = (Date.now() - fillStarted) / 1000;
const admin = kafka.admin();
await admin.connect();
const endOffsets = await admin.fetchTopicOffsets(inTopic);
const total = endOffsets.reduce((n, p) => n + Number(p.high), 0);

// CPU time of a process (and of PostgreSQL's backends, children of the postmaster), in clock ticks.
const TICKS = TICKS_PER_S;
const procTicks = (pid: number): number => processTicks(pid, true);

// BENCH_MAPPER_BUNDLE runs another build (e.g. the previous commit's) for a back-to-back comparison.
const bundle = process.env.BENCH_MAPPER_BUNDLE ?? `${root}dist/mapper/main.js`;
// BENCH_CPU_PROF=dir writes a V8 CPU profile of the mapper there (as bench/ingest); BENCH_MAPPER_NODE_ARGS adds any node flag.
const nodeArgs = [
  ...(process.env.BENCH_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`] : []),
  ...(process.env.BENCH_MAPPER_NODE_ARGS ?? '').split(' ').filter(Boolean),
];
const args = [...nodeArgs, ...(existsSync(bundle) ? [bundle] : ['--import', 'tsx', `${root}services/mapper/src/main.ts`])];
const groupId = uniqueId('bench-mapper-group-');
const appName = uniqueId('bench_mapper_');
const started = Date.now();
const child = spawn(process.execPath, args, {
  cwd: root,
  env: {
    ...process.env, KAFKA_TOPIC_PREFIX: prefix, MAPPER_GROUP_ID: groupId, MAPPER_HEALTH_PORT: '0', LOG_LEVEL: process.env.BENCH_MAPPER_LOG_LEVEL ?? 'warn',
    SECRETS_KEY: TEST_SECRETS_KEY, STRIPE_API_BASE: env('STRIPE_API_BASE'),
    // Names the mapper's PostgreSQL sessions, so their backends' CPU is told apart from other jobs'.
    DATABASE_URL: `${databaseUrl}${databaseUrl.includes('?') ? '&' : '?'}application_name=${appName}`,
  },
  // With BENCH_MAPPER_LOG_LEVEL=debug the mapper's per-batch timings go to stderr.
  stdio: ['ignore', process.env.BENCH_MAPPER_LOG_LEVEL ? process.stderr : 'ignore', 'inherit'],
});
const kafkaPid = stackPid('kafka');
const pgPid = stackPid('postgres');
const pgTicks = () => (pgPid ? treeTicks(pgPid) : 0);
const m0 = machineTicks();
const k0 = kafkaPid ? procTicks(kafkaPid) : 0;
const p0 = pgTicks();
// CPU of the mapper's own PostgreSQL backends, sampled (a backend that ends between samples loses its last ticks).
const mapperBackendTicks = new Map<number, number>();
const sampleMapperBackends = async () => {
  const { rows } = await pool.query<{ pid: number }>(`SELECT pid FROM pg_stat_activity WHERE application_name = $1`, [appName]);
  for (const { pid } of rows) {
    const t = procTicks(pid);
    if (t > 0) mapperBackendTicks.set(pid, t);
  }
};
let peakRss = 0;
let firstProgress: { at: number; done: number } | null = null;
let done = 0;
for (;;) {
  await new Promise((r) => setTimeout(r, 500));
  if (child.exitCode !== null) throw new Error(`mapper exited with ${child.exitCode}`);
  peakRss = Math.max(peakRss, memoryMb(child.pid!).rss);
  await sampleMapperBackends();
  const [offsets] = await admin.fetchOffsets({ groupId: consumerGroupId(groupId, prefix), topics: [inTopic] });
  done = offsets!.partitions.reduce((n, p) => n + Math.max(0, Number(p.offset)), 0);
  if (done > 0 && !firstProgress) firstProgress = { at: Date.now(), done };
  if (done >= total) break;
}
const finished = Date.now();
const mapperTicks = procTicks(child.pid!);
const m1 = machineTicks();
const k1 = kafkaPid ? procTicks(kafkaPid) : 0;
const p1 = pgTicks();
await sampleMapperBackends();
const mapperPgTicks = [...mapperBackendTicks.values()].reduce((a, b) => a + b, 0);
child.kill('SIGTERM');
await new Promise((r) => child.once('exit', r));

const { rows } = await pool.query(`SELECT count(*)::int AS n FROM mapper_processed_events WHERE integration_id = $1`, [integrationId]);
const seconds = (finished - started) / 1000;
const steadySeconds = firstProgress ? (finished - firstProgress.at) / 1000 : seconds;
const conversionsOffsets = await admin.fetchTopicOffsets(topicName('conversions', prefix));
const conversions = conversionsOffsets.reduce((n, p) => n + Number(p.high), 0);

// Leave nothing behind: 1M raw events and their dedupe rows.
await admin.deleteTopics({ topics: (await admin.listTopics()).filter((t) => t.startsWith(prefix)) }).catch(() => undefined);
await admin.disconnect();
for (const t of ['mapper_processed_events', 'mapper_charge_transactions', 'mapper_refunds', 'mapper_order_links', 'attribution_store']) {
  await pool.query(`DELETE FROM ${t} WHERE integration_id = $1`, [integrationId]);
}
await pool.query(`DELETE FROM integrations WHERE id = $1`, [integrationId]);
await pool.end();

const wallTicks = ((finished - started) / 1000) * TICKS;
const pct = (t: number) => Math.round((t / wallTicks) * 100);
// CPU time per event: steadier than events/s on a machine shared with other jobs (PostgreSQL's
// figure includes every backend, so other jobs' queries too).
const usPerEvent = (t: number) => Math.round(((t / TICKS) * 1e6) / total);
console.error(`prefill: ${N} events, ${(bytes / 1e6).toFixed(0)} MB in ${fillSeconds.toFixed(1)} s; mapper handled ${rows[0].n} (dedupe rows), ${conversions} conversions`);
console.log(JSON.stringify({
  bench: 'mapper',
  events: total,
  events_per_s: Math.round(total / seconds),
  events_per_s_after_start: firstProgress ? Math.round((total - firstProgress.done) / steadySeconds) : null,
  seconds: Number(seconds.toFixed(1)),
  rss_mb: Math.round(peakRss),
  conversions,
  avg_event_bytes: Math.round(bytes / N),
  cpu_pct: {
    mapper: pct(mapperTicks), kafka: kafkaPid ? pct(k1 - k0) : null, postgres: pgPid ? pct(p1 - p0) : null,
    machine_of_200: Math.round(((m1.busy - m0.busy) / (m1.all - m0.all)) * 200),
  },
  cpu_us_per_event: {
    mapper: usPerEvent(mapperTicks), kafka: kafkaPid ? usPerEvent(k1 - k0) : null, postgres: pgPid ? usPerEvent(p1 - p0) : null,
    postgres_mapper_sessions: usPerEvent(mapperPgTicks),
  },
}));
