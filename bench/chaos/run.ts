/**
 * npm run chaos (issue 8): the chaos scenario of test/e2e/chaos.e2e.spec.ts at a larger size.
 * CHAOS_CUSTOMERS simulated customers (default 500) sent at CHAOS_RATE deliveries/s (default:
 * spread over ~60 s) while the private broker, the private PostgreSQL and each service are
 * SIGKILLed and started again in turn; then reconciled. Progress on stderr, last line
 * {"bench":"chaos","customers":..,"events":..,"mismatches":..,"double_credits":..,"missing":..,...}.
 */
import { requireEnv } from '../procStats.js';
import { runChaos } from '../../tools/reconcile/chaos.js';
import { simulate } from '../../tools/simulator/history.js';

const customers = Number(process.env.CHAOS_CUSTOMERS ?? 500);
const kafkaLibs = requireEnv('KAFKA_LIBS', 'chaos');
// ~7 deliveries per customer: spread the sending over about a minute unless told otherwise.
const perCustomer = simulate({ seed: 8, customers: 50, runTag: 'x' }).reduce((s, h) => s + h.deliveries.length, 0) / 50;
const ratePerSec = Number(process.env.CHAOS_RATE ?? Math.max(5, Math.round((customers * perCustomer) / 60)));
const r = await runChaos({
  customers, ratePerSec, kafkaLibs, schemaRegistryUrl: requireEnv('SCHEMA_REGISTRY_URL', 'chaos'),
  pauseMs: 3_000, drainTimeoutMs: 600_000, log: (line) => console.error(`[chaos ${new Date().toISOString().slice(11, 19)}] ${line}`),
});
const unexplained = r.details.filter((d) => !d.includes('known defect'));
if (unexplained.length) console.error(unexplained.slice(0, 30).join('\n'));
console.error(JSON.stringify({ kills: r.kills, unplannedRestarts: r.unplannedRestarts, send: r.send, drainedInMs: r.drainedInMs }));
console.log(JSON.stringify({
  bench: 'chaos', customers, events: r.events, deliveries: r.deliveries, mismatches: r.mismatches, double_credits: r.double_credits,
  missing: r.missing, known_defects: r.known_defects, seconds: r.seconds,
}));
process.exit(r.mismatches + r.double_credits + r.missing === 0 ? 0 : 1);
