/**
 * bench/ingest: signed ~3 KB Stripe events for a fixed time against (a) ingest with the real
 * broker (acks=all) and (b) a bare fastify route that only parses the same body, in one run,
 * with autocannon on the same machine. Prints one JSON line last.
 *   npm run bench:ingest            (BENCH_SECONDS, BENCH_CONNECTIONS to change the load)
 * The detail line (stderr) splits the machine's CPU between the server, the Kafka broker, the
 * load generator and everything else, for each run.
 */
import { fork, type ChildProcess } from 'node:child_process';
import autocannon from 'autocannon';
import { createIntegration, createLogger, createPool, createSecretBox, migrate, parseKey } from '@sas/runtime';
import { TEST_SECRETS_KEY, invoicePaidEvent, randomWebhookSecret, stripeSignature, uniqueId, waitFor } from '@sas/testkit';
import { TICKS_PER_S, machineTicks, memoryMb, processTicks, repoRoot, requireEnv, stackPid } from '../procStats.js';

const seconds = Number(process.env.BENCH_SECONDS ?? 15);
const connections = Number(process.env.BENCH_CONNECTIONS ?? 50);
// Diagnosis only: BENCH_RATE=<req/s> offers a fixed load instead of as much as the server takes,
// so a change's CPU per event (detail: server_us_per_event) compares under equal batching.
const rate = process.env.BENCH_RATE ? Number(process.env.BENCH_RATE) : undefined;
const env = (k: string) => requireEnv(k, 'ingest');
const root = repoRoot;

const integrationId = uniqueId('bench_');
const secret = randomWebhookSecret();
const log = createLogger('bench', 'warn');
await migrate(env('DATABASE_URL'), log);
const pool = createPool(env('DATABASE_URL'));
await createIntegration(pool, createSecretBox(parseKey(TEST_SECRETS_KEY)), { id: integrationId, name: 'bench', webhookSecrets: [secret] });
await pool.end();

// ~3 KB events, each signed now (valid for the 300 s tolerance, longer than the run).
const bodies = Array.from({ length: 2_000 }, () => {
  const e = invoicePaidEvent({ description: 'Pro plan, annual, 12 seats (at $49.00 / month)' }) as Record<string, unknown>;
  const inv = (e.data as { object: Record<string, unknown> }).object;
  inv.metadata = Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`meta_key_${i}`, `value-${i}-${'x'.repeat(70)}`]));
  const body = JSON.stringify(e);
  return { body, signature: stripeSignature(body, secret) };
});
const avgBytes = Math.round(bodies.reduce((n, b) => n + b.body.length, 0) / bodies.length);

const start = (script: string, extraEnv: Record<string, string>): Promise<ChildProcess> =>
  new Promise((resolve, reject) => {
    const child = fork(script, [], { execArgv: ['--import', 'tsx'], env: { ...process.env, ...extraEnv }, stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
    child.once('message', () => resolve(child));
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`${script} exited with ${code}`)));
  });

const load = async (url: string) => {
  let i = 0;
  const result = await autocannon({
    url,
    connections,
    duration: seconds,
    ...(rate ? { overallRate: rate } : {}),
    method: 'POST',
    requests: [{
      setupRequest: (req) => {
        const b = bodies[i++ % bodies.length]!;
        return { ...req, body: b.body, headers: { 'content-type': 'application/json', 'stripe-signature': b.signature } };
      },
    }],
  });
  return { perS: result.requests.average, p99: result.latency.p99, non2xx: result.non2xx, errors: result.errors, total: result.requests.total };
};

const rssMb = (pid: number) => {
  const m = memoryMb(pid);
  return { rss: Math.round(m.rss), peak: Math.round(m.peak) };
};
const cpuSeconds = (pid: number) => processTicks(pid) / TICKS_PER_S;
/** Busy and total CPU seconds of the whole machine (all cores). */
const machineSeconds = () => {
  const t = machineTicks();
  return { busy: t.busy / TICKS_PER_S, total: t.all / TICKS_PER_S };
};
const kafkaPid = stackPid('kafka');
/**
 * Where the machine's CPU went during one load run, in cores: the server under test, the shared
 * Kafka broker, this process (autocannon) and everything else (other work on the machine).
 */
const cpuSplit = async <T>(serverPid: number, run: () => Promise<T>) => {
  const read = () => ({
    server: cpuSeconds(serverPid),
    kafka: kafkaPid ? cpuSeconds(kafkaPid) : 0,
    loadgen: (process.cpuUsage().user + process.cpuUsage().system) / 1e6,
    machine: machineSeconds(),
    at: performance.now(),
  });
  const a = read();
  const result = await run();
  const b = read();
  const s = (b.at - a.at) / 1000;
  const cores = (x: number) => Number((x / s).toFixed(2));
  const server = b.server - a.server, kafka = b.kafka - a.kafka, loadgen = b.loadgen - a.loadgen;
  const busy = b.machine.busy - a.machine.busy;
  return {
    result,
    cpu: {
      server: cores(server), kafka: cores(kafka), loadgen: cores(loadgen),
      other: cores(Math.max(0, busy - server - kafka - loadgen)),
      machine_busy: cores(busy), machine_cores: cores(b.machine.total - a.machine.total),
    },
  };
};

// (b) bare route
const bare = await start(`${root}/bench/ingest/bareServer.ts`, { PORT: '3199' });
const { result: bareRun, cpu: bareCpu } = await cpuSplit(bare.pid!, () => load('http://127.0.0.1:3199/webhooks/stripe/x'));
bare.kill('SIGTERM');

// (a) ingest with the real broker
// Ingest runs as in production: the JavaScript bundle that `npm start` runs (scripts/build.mjs).
const ingest = fork(`${root}/dist/ingest/main.js`, [], {
  // BENCH_CPU_PROF=dir writes a V8 CPU profile of ingest there, to see what limits it.
  execArgv: [...(process.env.BENCH_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`] : [])],
  env: { ...process.env, INGEST_PORT: '3198', KAFKA_TOPIC_PREFIX: `${integrationId}.`, SECRETS_KEY: TEST_SECRETS_KEY, LOG_LEVEL: 'warn' },
  stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
});
await waitFor(async () => ((await fetch('http://127.0.0.1:3198/readyz').catch(() => null))?.ok ? true : undefined), { timeoutMs: 60_000, what: 'ingest ready' });
const { result: ingestRun, cpu: ingestCpu } = await cpuSplit(ingest.pid!, () => load(`http://127.0.0.1:3198/webhooks/stripe/${integrationId}`));
const mem = rssMb(ingest.pid!);
const metrics = await (await fetch('http://127.0.0.1:3198/metrics')).text();
const batches = /ingest_produce_batch_size_count (\d+)/.exec(metrics)?.[1];
const batched = /ingest_produce_batch_size_sum (\d+)/.exec(metrics)?.[1];
ingest.kill('SIGTERM');
await new Promise((r) => ingest.once('exit', r));

console.error(JSON.stringify({
  detail: {
    seconds, connections, avg_body_bytes: avgBytes,
    ingest: { ...ingestRun, cpu_cores: ingestCpu, server_us_per_event: Math.round((ingestCpu.server / ingestRun.perS) * 1e6), rss_peak_mb: mem.peak, mean_batch: batches ? Number(batched) / Number(batches) : null },
    bare: { ...bareRun, cpu_cores: bareCpu, server_us_per_event: Math.round((bareCpu.server / bareRun.perS) * 1e6) },
  },
}));
console.log(JSON.stringify({
  bench: 'ingest',
  events_per_s: Math.round(ingestRun.perS),
  bare_per_s: Math.round(bareRun.perS),
  ratio: Number((ingestRun.perS / bareRun.perS).toFixed(2)),
  p99_ms: ingestRun.p99,
  rss_mb: mem.rss,
}));
process.exit(0);
