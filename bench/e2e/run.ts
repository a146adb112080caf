/**
 * bench/e2e: end-to-end latency of the whole pipeline. The four services run as their own
 * processes (esbuild bundles, @sas/testkit startPipelineProcesses) on the shared stack; this
 * process offers a steady BENCH_RATE (500) signed invoice.paid events per second (first
 * subscription sales) for BENCH_SECONDS (60) after BENCH_WARMUP_SECONDS (5, not counted), and a
 * signed-webhook stub records when each conversion arrives. Latency per event = stub received
 * − ingest's 2xx received here. Prints one JSON line last:
 *   {"bench":"e2e","rate":..,"p50_ms":..,"p99_ms":..,"max_ms":..,"missing":..}
 * and a stderr detail line: per-stage p50/p99 (from the raw record's x-received-at and
 * timestamp, the conversion record's timestamp, the ledger row's created_at), CPU per service.
 *   flock /tmp/bench.lock npm run bench:e2e
 * BENCH_CONCURRENCY (64): the destination's concurrent requests. BENCH_PROF=<dir> writes a V8 CPU profile of each service there; BENCH_SERVICE_ENV='{"mapper":{"X":"1"}}'
 * adds variables per service (to try a setting without a rebuild).
 */
import { Agent, request } from 'node:http';
import { loadavg } from 'node:os';
import { topicName, RawEventHeaders } from '@sas/contracts';
import { createConversionCodec, createIntegration, createKafka, createLogger, createPool, createSecretBox, migrate, parseKey } from '@sas/runtime';
import {
  TEST_SECRETS_KEY, invoicePaidEvent, randomWebhookSecret, startPipelineProcesses, startWebhookStub, stripeSignature, uniqueId, waitFor,
  type PipelineService,
} from '@sas/testkit';
import { TICKS_PER_S, machineTicks, memoryMb, processTicks, requireEnv, stackPid, treeTicks } from '../procStats.js';

const rate = Number(process.env.BENCH_RATE ?? 500);
const seconds = Number(process.env.BENCH_SECONDS ?? 60);
const warmupSeconds = Number(process.env.BENCH_WARMUP_SECONDS ?? 5);
const drainTimeoutMs = Number(process.env.BENCH_DRAIN_TIMEOUT_S ?? 120) * 1000;
const env = (k: string) => requireEnv(k, 'e2e');
const log = createLogger('bench-e2e', 'warn');
const databaseUrl = env('DATABASE_URL');
const prefix = `${uniqueId('benche2e')}.`;
const integrationId = uniqueId('bench_e2e_');
const stripeSecret = randomWebhookSecret();
const signingSecret = 'whsec_' + Buffer.from('bench-e2e-secret-bench-e2e-secr').toString('base64');

// The partner: a signed-webhook receiver that answers at once and notes when each conversion arrived.
const stub = await startWebhookStub({ secret: signingSecret });
await migrate(databaseUrl, log);
const pool = createPool(databaseUrl);
await createIntegration(pool, createSecretBox(parseKey(TEST_SECRETS_KEY)), {
  id: integrationId, name: 'bench e2e', webhookSecrets: [stripeSecret],
  destinations: [{
    id: `${integrationId}_wh`, type: 'webhook',
    // A partner that takes the offered rate: the bench measures the pipeline, not a rate limit.
    settings: { url: stub.baseUrl, rateLimitPerSecond: Math.max(1_000, rate * 4), concurrency: Number(process.env.BENCH_CONCURRENCY ?? 64) },
    credentials: { signingSecret },
  }],
});

const extraEnv = JSON.parse(process.env.BENCH_SERVICE_ENV ?? '{}') as Partial<Record<PipelineService, NodeJS.ProcessEnv>>;
const prof = process.env.BENCH_PROF;
const profArgs = prof ? ['--cpu-prof', `--cpu-prof-dir=${prof}`] : [];
const pipeline = await startPipelineProcesses({
  runner: process.env.BENCH_RUNNER === 'tsx' ? 'tsx' : 'bundle',
  env: {
    KAFKA_BROKERS: env('KAFKA_BROKERS'), SCHEMA_REGISTRY_URL: env('SCHEMA_REGISTRY_URL'), DATABASE_URL: databaseUrl,
    STRIPE_API_BASE: env('STRIPE_API_BASE'), KAFKA_TOPIC_PREFIX: prefix, SECRETS_KEY: TEST_SECRETS_KEY, LOG_LEVEL: 'warn',
    KAFKAJS_NO_PARTITIONER_WARNING: '1',
    MAPPER_GROUP_ID: uniqueId('bench-e2e-m'), SCHEDULER_GROUP_ID: uniqueId('bench-e2e-s'), DISPATCHER_GROUP_ID: uniqueId('bench-e2e-d'),
  },
  serviceEnv: extraEnv,
  nodeArgs: prof ? { ingest: profArgs, mapper: profArgs, scheduler: profArgs, dispatcher: profArgs } : undefined,
});
const webhookUrl = new URL(pipeline.webhookUrl(integrationId));

interface Sent { readonly orderId: string; readonly eventId: string; readonly measured: boolean; sentAt: number; acceptedAt: number; status: number }
const agent = new Agent({ keepAlive: true, maxSockets: 256 });
const post = (body: string, signature: string): Promise<number> =>
  new Promise((resolve) => {
    const req = request({
      agent, host: webhookUrl.hostname, port: webhookUrl.port, path: webhookUrl.pathname, method: 'POST',
      headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), 'stripe-signature': signature },
    }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', () => resolve(0));
    req.end(body);
  });

// Events are built and signed up front (within Stripe's 300 s tolerance), so the generator spends its time sending.
const total = Math.round(rate * (warmupSeconds + seconds));
const warmupCount = Math.round(rate * warmupSeconds);
const presign = warmupSeconds + seconds <= 200;
const events = Array.from({ length: total }, (_, i) => {
  const e = invoicePaidEvent({ billingReason: 'subscription_create', unitAmount: 4_900 });
  const body = JSON.stringify(e);
  return { body, signature: presign ? stripeSignature(body, stripeSecret) : '', sent: { orderId: e.data.object.id, eventId: e.id, measured: i >= warmupCount, sentAt: 0, acceptedAt: 0, status: 0 } as Sent };
});
const byOrder = new Map(events.map((e) => [e.sent.orderId, e.sent]));

// CPU per process over the measured window.
const pids = () => Object.fromEntries(Object.entries(pipeline.services).map(([n, s]) => [n, s!.pid!])) as Record<string, number>;
const kafkaPid = stackPid('kafka');
const pgPid = stackPid('postgres');
const cpuNow = () => {
  const self = process.cpuUsage();
  return {
    ...Object.fromEntries(Object.entries(pids()).map(([n, pid]) => [n, processTicks(pid)])),
    bench: (self.user + self.system) / 10_000, kafka: kafkaPid ? processTicks(kafkaPid, true) : 0, postgres: pgPid ? treeTicks(pgPid) : 0,
    machine: machineTicks().busy,
  } as Record<string, number>;
};

const inFlight = new Set<Promise<void>>();
const started = performance.now();
let cpu0: Record<string, number> | null = null;
let next = 0;
let measuredFrom = 0;
let measuredTo = 0;
while (next < total) {
  const due = Math.min(total, Math.floor(((performance.now() - started) / 1000) * rate) + 1);
  for (; next < due; next++) {
    if (next === warmupCount) { cpu0 = cpuNow(); measuredFrom = Date.now(); }
    const { body, signature, sent } = events[next]!;
    sent.sentAt = Date.now();
    const p = post(body, signature || stripeSignature(body, stripeSecret)).then((status) => {
      sent.status = status;
      sent.acceptedAt = Date.now();
    });
    inFlight.add(p);
    void p.finally(() => inFlight.delete(p));
  }
  await new Promise((r) => setTimeout(r, 1));
}
measuredTo = Date.now();
await Promise.all(inFlight);
const measured = events.map((e) => e.sent).filter((s) => s.measured);
const accepted = measured.filter((s) => s.status >= 200 && s.status < 300);
const receivedAt = () => new Map(stub.received.map((r) => [String((r.payload.data as { orderId: string }).orderId), r.at]));
await waitFor(() => {
  const got = receivedAt();
  return accepted.every((s) => got.has(s.orderId)) ? true : undefined;
}, { timeoutMs: drainTimeoutMs, intervalMs: 100, what: 'every accepted event at the stub' }).catch((err: Error) => console.error(`drain: ${err.message}`));
const cpu1 = cpuNow();
const rss = Object.fromEntries(Object.entries(pids()).map(([n, pid]) => [n, Math.round(memoryMb(pid).peak)]));
const got = receivedAt();

// Per-stage timestamps: the raw record (ingest received, appended), the conversion record (produced), the ledger row (inserted).
const kafka = createKafka({ brokers: [env('KAFKA_BROKERS')], clientId: 'bench-e2e', log });
const codec = createConversionCodec(env('SCHEMA_REGISTRY_URL'));
const rawAt = new Map<string, { receivedAt: number; appendedAt: number }>();
const conversionAt = new Map<string, number>();
const consumer = kafka.consumer({ groupId: uniqueId('bench-e2e-read') });
await consumer.connect();
await consumer.subscribe({ topics: [topicName('stripeEvents', prefix), topicName('conversions', prefix)], fromBeginning: true });
const rawTopic = topicName('stripeEvents', prefix);
const eventToOrder = new Map(events.map((e) => [e.sent.eventId, e.sent.orderId]));
await consumer.run({
  eachBatch: async ({ batch }) => {
    for (const m of batch.messages) {
      if (batch.topic === rawTopic) {
        const orderId = eventToOrder.get(String(m.headers?.[RawEventHeaders.eventId]));
        if (orderId) rawAt.set(orderId, { receivedAt: Number(String(m.headers?.[RawEventHeaders.receivedAt])), appendedAt: Number(m.timestamp) });
      } else if (m.value) {
        conversionAt.set((await codec.decode(m.value)).orderId, Number(m.timestamp));
      }
    }
  },
});
await waitFor(() => (rawAt.size >= accepted.length && conversionAt.size >= got.size ? true : undefined), { timeoutMs: 30_000, what: 'raw and conversion records' })
  .catch((err: Error) => console.error(`stage records: ${err.message}`));
await consumer.disconnect();
const { rows } = await pool.query<{ order_id: string; created_ms: number; updated_ms: number }>(
  `SELECT order_id, extract(epoch FROM created_at) * 1000 AS created_ms, extract(epoch FROM updated_at) * 1000 AS updated_ms
     FROM dispatch_ledger WHERE integration_id = $1`, [integrationId]);
const ledgerAt = new Map(rows.map((r) => [r.order_id, Number(r.created_ms)]));
const settledAt = new Map(rows.map((r) => [r.order_id, Number(r.updated_ms)]));

await pipeline.stopAll();
await stub.close();
await pool.end();
agent.destroy();

const pct = (xs: number[]) => {
  const s = xs.filter(Number.isFinite).sort((a, b) => a - b);
  const at = (q: number) => (s.length ? Math.round(s[Math.min(s.length - 1, Math.floor(q * s.length))]!) : null);
  return { p50: at(0.5), p99: at(0.99), max: at(1), n: s.length };
};
const delivered = accepted.filter((s) => got.has(s.orderId));
const latency = pct(delivered.map((s) => got.get(s.orderId)! - s.acceptedAt));
const stage = (from: (s: Sent) => number | undefined, to: (s: Sent) => number | undefined) =>
  pct(delivered.map((s) => { const a = from(s); const b = to(s); return a === undefined || b === undefined ? NaN : b - a; }));
const windowS = (measuredTo - measuredFrom) / 1000;
const c0 = cpu0 ?? cpu1;
console.error(JSON.stringify({
  offered: { rate, seconds, warmupSeconds, measured: measured.length, accepted: accepted.length, rejected: measured.length - accepted.length, windowS },
  latencyMs: latency,
  // Where the time goes, per event (ms, p50/p99): the request at ingest (sent → 2xx), ingest's own
  // handling (received → appended to Kafka → 2xx), the mapper (2xx → conversion produced), the
  // dispatcher's read (→ ledger row inserted), the partner request (→ stub received), the settle.
  stagesMs: {
    request: stage((s) => s.sentAt, (s) => s.acceptedAt),
    ingestReceivedToAppended: stage((s) => rawAt.get(s.orderId)?.receivedAt, (s) => rawAt.get(s.orderId)?.appendedAt),
    appendedToAccepted: stage((s) => rawAt.get(s.orderId)?.appendedAt, (s) => s.acceptedAt),
    acceptedToConversion: stage((s) => s.acceptedAt, (s) => conversionAt.get(s.orderId)),
    conversionToLedger: stage((s) => conversionAt.get(s.orderId), (s) => ledgerAt.get(s.orderId)),
    ledgerToStub: stage((s) => ledgerAt.get(s.orderId), (s) => got.get(s.orderId)),
    // After the partner answered: the outcome record and the ledger settle (the lane slot is held until then).
    stubToSettled: stage((s) => got.get(s.orderId), (s) => settledAt.get(s.orderId)),
  },
  // CPU cores used over the measured window (machine: all busy cores, other jobs included).
  cpuCores: Object.fromEntries(Object.keys(cpu1).map((k) => [k, Number((((cpu1[k]! - c0[k]!) / TICKS_PER_S) / windowS).toFixed(2))])),
  // CPU ms per measured event (the window runs until the drain: the backlog's work is included); kafka and postgres include other jobs'.
  cpuMsPerEvent: Object.fromEntries(Object.keys(cpu1).filter((k) => k !== 'machine').map((k) => [k, Number((((cpu1[k]! - c0[k]!) * 1000 / TICKS_PER_S) / Math.max(1, delivered.length)).toFixed(3))])),
  peakRssMb: rss,
  // Runnable tasks at the end (1, 5 min): on a shared 2-core machine, above ~2 the latencies include waiting for a core.
  loadAvg: loadavg().slice(0, 2).map((x) => Number(x.toFixed(1))),
  logs: pipeline.logDir,
}));
console.log(JSON.stringify({ bench: 'e2e', rate, p50_ms: latency.p50, p99_ms: latency.p99, max_ms: latency.max, missing: accepted.length - delivered.length + (measured.length - accepted.length) }));
process.exit(0);
