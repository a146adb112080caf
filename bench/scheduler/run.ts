/**
 * bench/scheduler: hold BENCH_N (1,000,000) refunds whose notBefore is spread over a short
 * window (BENCH_WINDOW_S, 60 s) that starts BENCH_LEAD_S (default: long enough to hold them
 * all first) after they are produced; then measure, for every record, how late it reaches a
 * read_committed consumer of conversions.due.v1 (receipt minus notBefore), and the scheduler's
 * memory. The scheduler runs as its own process (the esbuild bundle, as in production).
 * Prints one JSON line last.
 *   npm run bench:scheduler
 */
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { Kafka, Partitioners, logLevel } from 'kafkajs';
import pg from 'pg';
import { conversionKey, NO_SOURCED_CLICKS, topicName, type Conversion } from '@sas/contracts';
import { createConversionCodec, createKafka, createLogger, ensureTopics, migrate } from '@sas/runtime';
import { TICKS_PER_S, memoryMb, processTicks, repoRoot, requireEnv } from '../procStats.js';

const N = Number(process.env.BENCH_N ?? 1_000_000);
const WINDOW_MS = Number(process.env.BENCH_WINDOW_S ?? 60) * 1000;
const env = (k: string) => requireEnv(k, 'scheduler');
const root = repoRoot;
const log = createLogger('bench', 'warn');
const prefix = `benchsched${Date.now().toString(36)}.`;
const brokers = env('KAFKA_BROKERS');
const kafka = new Kafka({ brokers: [brokers], logLevel: logLevel.NOTHING });
const db = new pg.Pool({ connectionString: env('DATABASE_URL'), max: 2 });
const freePort = () => new Promise<number>((resolve) => {
  const s = createServer().listen(0, '127.0.0.1', () => { const { port } = s.address() as { port: number }; s.close(() => resolve(port)); });
});
const since = (t: number) => Math.round((Date.now() - t) / 100) / 10;

await migrate(env('DATABASE_URL'), log);
await ensureTopics(createKafka({ brokers: [brokers], clientId: 'bench', log }), prefix);

// 1. The refunds, as the mapper writes them. The key carries the index, so the consumer knows
//    each record's notBefore without decoding it.
const leadMs = Number(process.env.BENCH_LEAD_S ?? Math.max(60, Math.ceil(N / 6_000))) * 1000;
const t0 = Date.now();
const dueStart = t0 + leadMs;
const notBeforeOf = (i: number) => dueStart + Math.floor((i * WINDOW_MS) / N);
const codec = createConversionCodec(env('SCHEMA_REGISTRY_URL'));
const conversionsTopic = topicName('conversions', prefix);
const refund = (i: number): Conversion => ({
  conversionId: `cnv_bench_${i}`, kind: 'REFUND_PARTIAL', saleReason: null, sourceEventIds: [`evt_bench_${i}`],
  integrationId: 'int_bench', stripeAccount: null, livemode: true,
  occurredAt: t0, receivedAt: t0, orderId: `in_bench_${i}`, customerId: `cus_${i % 50_000}`, subscriptionId: `sub_${i % 50_000}`,
  chargeId: `ch_bench_${i}`,
  attribution: { ...NO_SOURCED_CLICKS, clickId: 'IRclick-bench', partnerKey: null, customerKey: null, promoCode: null, emailSha256: 'e'.repeat(64), productKey: null },
  attributed: true, currency: 'USD', amountMinor: 1_900, taxMinor: 0, discountMinor: 0,
  lineItems: [{ sku: 'price_bench', description: 'Pro plan', productId: 'prod_bench', priceId: 'price_bench', quantity: 1, unitAmountMinor: 4_900, amountMinor: 4_900 }],
  notBefore: notBeforeOf(i), refundId: `re_bench_${i}`, orderAmountMinor: 4_900, refundedTotalMinor: 1_900, saleNetMinor: 4_900,
});
const keyOf = (c: Conversion, i: number) => `${conversionKey({ account: c.stripeAccount, customerId: c.customerId, subscriptionId: c.subscriptionId, orderId: c.orderId })}#${i}`;

const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner, allowAutoTopicCreation: false });
await producer.connect();
let valueBytes = 0;
for (let i = 0; i < N; i += 5_000) {
  const messages = [];
  for (let j = i; j < Math.min(N, i + 5_000); j++) {
    const c = refund(j);
    const value = await codec.encode(conversionsTopic, c);
    valueBytes += value.length;
    messages.push({ key: keyOf(c, j), value });
  }
  await producer.send({ topic: conversionsTopic, acks: -1, messages });
}
await producer.disconnect();
const produceS = since(t0);
console.error(`produced ${N} in ${produceS} s; due from +${leadMs / 1000} s over ${WINDOW_MS / 1000} s`);

// 2. The scheduler, as its own process.
const port = await freePort();
const child = spawn(process.execPath, [`${root}dist/scheduler/main.js`], {
  cwd: root, stdio: ['ignore', 'inherit', 'inherit'],
  env: { ...process.env, KAFKA_TOPIC_PREFIX: prefix, LOG_LEVEL: 'warn', SCHEDULER_HEALTH_PORT: String(port), KAFKAJS_NO_PARTITIONER_WARNING: '1' },
});
const status = () => { const m = memoryMb(child.pid!); return { rss: m.rss, hwm: m.peak }; };
const cpuSeconds = () => processTicks(child.pid!) / TICKS_PER_S;
let maxRss = 0;
let ticks = 0;
const sampler = setInterval(() => {
  const { rss } = status();
  maxRss = Math.max(maxRss, rss);
  if (++ticks % 20 === 0) console.error(`+${since(t0)} s: scheduler RSS ${rss.toFixed(0)} MB, released ${received}`);
}, 500);

// 3. The due topic, read_committed, from the start.
const lateness = new Float64Array(N);
const seen = new Uint8Array(N);
let received = 0;
let duplicates = 0;
let firstAt = 0;
let lastAt = 0;
const consumer = kafka.consumer({ groupId: `${prefix}bench-due`, maxBytesPerPartition: 4 * 1024 * 1024 });
await consumer.connect();
await consumer.subscribe({ topic: topicName('conversionsDue', prefix), fromBeginning: true });
let done!: () => void;
const allIn = new Promise<void>((r) => { done = r; });
await consumer.run({
  eachBatch: async ({ batch }) => {
    const now = Date.now();
    for (const m of batch.messages) {
      const k = m.key!.toString();
      const i = Number(k.slice(k.lastIndexOf('#') + 1));
      if (seen[i]) { duplicates++; continue; }
      seen[i] = 1;
      lateness[i] = now - notBeforeOf(i);
      received++;
    }
    if (!firstAt) firstAt = now;
    lastAt = now;
    if (received === N) done();
  },
});

// Holding: how long until every refund is in PostgreSQL.
let heldAllAtS: number | null = null;
const heldWatch = setInterval(async () => {
  if (heldAllAtS !== null) return;
  const { rows } = await db.query<{ n: string }>(`SELECT count(*) AS n FROM held_conversions WHERE namespace = $1`, [prefix]);
  if (Number(rows[0]!.n) >= N) { heldAllAtS = since(t0); console.error(`all ${N} held at +${heldAllAtS} s (${status().rss.toFixed(0)} MB RSS)`); }
}, 2_000);

const deadline = dueStart + WINDOW_MS + 15 * 60_000;
await Promise.race([allIn, new Promise((r) => setTimeout(r, deadline - Date.now()))]);
await new Promise((r) => setTimeout(r, 2_000)); // a second copy would show up now
clearInterval(heldWatch);
clearInterval(sampler);
const cpu = cpuSeconds();
const { hwm } = status();
const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
child.kill('SIGTERM');
await new Promise((r) => child.once('exit', r));
await consumer.disconnect();

const got = lateness.filter((_, i) => seen[i] === 1).sort();
const pct = (p: number) => (got.length ? Math.round(got[Math.min(got.length - 1, Math.floor(p * got.length))]!) : null);
const notEarly = got.length ? Math.round(got[0]!) : null;

// 4. Clean up: the rows and the topics of this run.
await db.query(`DELETE FROM held_conversions WHERE namespace = $1`, [prefix]);
await db.query(`DELETE FROM scheduler_lanes WHERE namespace = $1`, [prefix]);
await db.query(`DELETE FROM scheduler_instances WHERE namespace = $1`, [prefix]);
await db.end();
const admin = kafka.admin();
await admin.connect();
await admin.deleteTopics({ topics: (await admin.listTopics()).filter((t) => t.startsWith(prefix)) }).catch(() => undefined);
await admin.disconnect();

console.error(JSON.stringify({
  produce_s: produceS, held_all_at_s: heldAllAtS, due_window_s: WINDOW_MS / 1000, lead_s: leadMs / 1000,
  record_bytes: Math.round(valueBytes / N), release_span_s: firstAt ? (lastAt - firstAt) / 1000 : null,
  min_lateness_ms: notEarly, p90_ms: pct(0.9), max_lateness_ms: pct(1), scheduler_cpu_s: cpu, scheduler_rss_peak_hwm_mb: Math.round(hwm),
  released_metric: Number(/^scheduler_released_total (\d+)/m.exec(metrics)?.[1] ?? 0),
}));
console.log(JSON.stringify({
  bench: 'scheduler', held: N, released: received, duplicates,
  lateness_p50_ms: pct(0.5), lateness_p99_ms: pct(0.99), rss_mb: Math.round(Math.max(maxRss, 0)),
}));
process.exit(0);
