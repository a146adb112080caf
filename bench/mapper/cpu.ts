/**
 * bench/mapper/cpu: the mapper's own CPU per event, without Kafka or PostgreSQL round trips,
 * to compare code changes on a machine shared with other jobs (the full bench's events/s moves
 * with their load). Raw records of the bench's mix → handleBatch (in-memory state, enrichment
 * from stripe-mock, cached) → Avro encoding (registry) and record keys → the commit statement's
 * parameters. Prints one JSON line last: µs of CPU per event, median of BENCH_ROUNDS.
 *   node --import tsx bench/mapper/cpu.ts   (after eval "$(bash scripts/stack.sh env)")
 */
import { conversionKey, topicName } from '@sas/contracts';
import { createConversionCodec, createLogger, createSecretBox, parseKey } from '@sas/runtime';
import { TEST_SECRETS_KEY } from '@sas/testkit';
import { rawRecord } from '../../services/mapper/test/rawRecords.js';
import type { Effect } from '../../services/mapper/src/core/effects.js';
import { createEnricher } from '../../services/mapper/src/adapters/stripeApi.js';
import { handleBatch, type RawRecord } from '../../services/mapper/src/handleBatch.js';
import { commitParams, type BatchState, type MapperStore } from '../../services/mapper/src/adapters/mapperStore.js';
import { benchEventAt } from './mix.js';

const N = Number(process.env.BENCH_EVENTS ?? 100_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const BATCH = 2_000;
const env = (k: string) => {
  const v = process.env[k];
  if (!v) throw new Error(`${k} is not set: eval "$(bash scripts/stack.sh env)" first`);
  return v;
};
const integrationId = 'bench_cpu';
const box = createSecretBox(parseKey(TEST_SECRETS_KEY));
const sealed = box.seal('sk_test_BenchReadOnly1');
const log = createLogger('bench-mapper-cpu', 'warn');

const records: RawRecord[] = Array.from({ length: N }, (_, i) => {
  const r = rawRecord(integrationId, benchEventAt(i));
  return { value: r.value, headers: Object.fromEntries(Object.entries(r.headers).map(([k, v]) => [k, Buffer.from(v)])), offset: String(i) };
});

// State kept in memory, as PostgreSQL would keep it (the statements are built, not sent).
const mem: BatchState = { attribution: new Map(), transactions: new Map(), refundKeys: new Map(), links: new Map() };
let sink = 0;
const store: MapperStore = {
  settingsOf: async () => ({ id: integrationId, saleTrigger: 'invoice.paid', refundHoldSeconds: 3600, chargeTracking: 'non_invoice', stripeKeyCiphertext: sealed }),
  processed: async () => new Set(),
  loadState: async (_id, q) => {
    const s: BatchState = { attribution: new Map(), transactions: new Map(), refundKeys: new Map(), links: new Map() };
    for (const k of q.attributionKeys) if (mem.attribution.has(k)) s.attribution.set(k, mem.attribution.get(k)!);
    for (const k of q.chargeIds) {
      if (mem.transactions.has(k)) s.transactions.set(k, mem.transactions.get(k)!);
      if (mem.refundKeys.has(k)) s.refundKeys.set(k, new Set(mem.refundKeys.get(k)));
    }
    for (const k of q.linkRefs) if (mem.links.has(k)) s.links.set(k, mem.links.get(k)!);
    return s;
  },
  commit: async (effects: readonly { integrationId: string; effect: Effect }[], events) => {
    sink += commitParams(effects, events).length;
    for (const { effect: e } of effects) {
      if (e.type === 'attribution') mem.attribution.set(e.key, e.row);
      else if (e.type === 'orderLink') mem.links.set(e.ref, { orderId: e.orderId, kind: e.kind, subscriptionId: e.subscriptionId, customerId: e.customerId });
      else if (e.type === 'refund') mem.refundKeys.set(e.chargeId, (mem.refundKeys.get(e.chargeId) ?? new Set()).add(e.refundKey));
      else mem.transactions.set(e.chargeId, { status: e.status, conversionId: e.conversionId, orderId: e.orderId, amountMinor: e.amountMinor, currency: e.currency, sourceEventId: e.sourceEventId });
    }
  },
  prune: async () => 0,
};
const enricher = createEnricher({ apiBase: env('STRIPE_API_BASE'), timeoutMs: 10_000, cacheMs: 3_600_000, cacheMax: 100_000, log });
const codec = createConversionCodec(env('SCHEMA_REGISTRY_URL'));
const outTopic = topicName('conversions', 'benchcpu.');
const deps = { store, settingsOf: store.settingsOf, enricher, box, now: Date.now, enrichConcurrency: 8, duplicates: 'drop' as const };

const round = async () => {
  mem.attribution.clear(); mem.transactions.clear(); mem.refundKeys.clear(); mem.links.clear();
  const c0 = process.cpuUsage();
  for (let i = 0; i < records.length; i += BATCH) {
    const out = await handleBatch(deps, 'stripe.events.v1', 0, records.slice(i, i + BATCH));
    const encoded = await Promise.all(out.conversions.map(async (c) => ({
      key: conversionKey({ account: c.stripeAccount, customerId: c.customerId, subscriptionId: c.subscriptionId, orderId: c.orderId }),
      value: await codec.encode(outTopic, c),
    })));
    sink += encoded.length;
    await store.commit(out.effects, out.handled);
  }
  const c = process.cpuUsage(c0);
  return (c.user + c.system) / records.length;
};

await round(); // warm-up: JIT, enrichment cache, schema registration
const us: number[] = [];
for (let r = 0; r < ROUNDS; r++) us.push(await round());
us.sort((a, b) => a - b);
const mem_mb = Math.round(process.memoryUsage().rss / 1e6);
console.error(`rounds (us/event): ${us.map((x) => x.toFixed(1)).join(' ')}; sink ${sink}`);
console.log(JSON.stringify({ bench: 'mapper-cpu', events: N, cpu_us_per_event: Number(us[Math.floor(us.length / 2)]!.toFixed(1)), rss_mb: mem_mb }));
