import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import type { Conversion } from '@sas/contracts';
import { createIntegration, createKafka, createLogger, ensureTopics, createPool, createSecretBox, loadConfig, migrate, parseKey } from '@sas/runtime';
import {
  TEST_SECRETS_KEY, serviceEnv, stackEndpoints, startEverflowStub, startImpactStub, startPartnerstackStub, startTracknowStub,
  startWebhookStub, uniqueId, waitFor, type Faults,
} from '@sas/testkit';
import { dispatcherEnv, startDispatcher, type RunningDispatcher } from '../src/index.js';
import { conversion, createConversionProducer, watchDispatch } from './fixtures.js';

const repoRoot = fileURLToPath(new URL('../../..', import.meta.url));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const SECRET = 'whsec_' + Buffer.from('chaos-secret-key-32-bytes-long!!').toString('base64');

const setup = async (p: { faults?: Faults; tracknow: boolean }) => {
  const prefix = `${uniqueId('chaos')}.`;
  const integrationId = uniqueId('int_');
  const impact = await startImpactStub({ accountSid: 'IRsid', authToken: 'tok', ...(p.faults ? { faults: p.faults } : {}) });
  // This test sends sales without customer identities first: the stub's unknown-customer rule is off.
  const ps = await startPartnerstackStub({ publicKey: 'pub', secretKey: 'sec', requireCustomer: false, ...(p.faults ? { faults: p.faults } : {}) });
  // An offer that rejects duplicate conversions (error 8): there Everflow dedupes our resends, so
  // these tests hold it to exactly once. Under "Allow Duplicate Conversions" (the default, which
  // rebills need) it is at least once, flagged in doubt, like Tracknow (dispatcher.int.spec.ts).
  const ef = await startEverflowStub({ verificationToken: 'vt', allowDuplicates: false, ...(p.faults ? { faults: p.faults } : {}) });
  const wh = await startWebhookStub({ secret: SECRET, ...(p.faults ? { faults: p.faults } : {}) });
  const tn = p.tracknow ? await startTracknowStub(p.faults ? { faults: p.faults } : {}) : null;
  const log = createLogger('chaos', process.env.TEST_LOG_LEVEL ?? 'warn');
  await migrate(stackEndpoints().databaseUrl, log);
  const pool = createPool(stackEndpoints().databaseUrl);
  const s = { rateLimitPerSecond: 5_000, concurrency: 16 };
  await createIntegration(pool, createSecretBox(parseKey(TEST_SECRETS_KEY)), {
    id: integrationId, name: 'Chaos', webhookSecrets: ['whsec_x'],
    destinations: [
      { id: `${integrationId}_impact`, type: 'impact', settings: { accountSid: 'IRsid', campaignId: '1', eventTypeId: '10', recurringEventTypeId: '11', baseUrl: impact.baseUrl, ...s }, credentials: { authToken: 'tok' } },
      { id: `${integrationId}_ps`, type: 'partnerstack', settings: { publicKey: 'pub', baseUrl: ps.apiBase, ...s }, credentials: { secretKey: 'sec' } },
      { id: `${integrationId}_ef`, type: 'everflow', settings: { baseUrl: ef.baseUrl, nid: '7', allowDuplicateConversions: false, ...s }, credentials: { verificationToken: 'vt' } },
      { id: `${integrationId}_wh`, type: 'webhook', settings: { url: wh.baseUrl, ...s }, credentials: { signingSecret: SECRET } },
      ...(tn ? [{ id: `${integrationId}_tn`, type: 'tracknow' as const, settings: { baseUrl: tn.baseUrl, campaignId: '5', ...s }, credentials: {} }] : []),
    ],
  });
  await ensureTopics(createKafka({ brokers: [stackEndpoints().kafkaBrokers], clientId: 'chaos', log }), prefix);
  const producer = await createConversionProducer({ brokers: stackEndpoints().kafkaBrokers, registryUrl: stackEndpoints().schemaRegistryUrl, prefix });
  const make = (n: number): Conversion[] => Array.from({ length: n }, (_, i) => conversion({ integrationId, kind: i % 3 === 0 ? 'SALE_RECURRING' : 'SALE_FIRST' }));
  /** What each stub credited for one conversion (1 = once). */
  const creditsOf = (c: Conversion) => ({
    impact: impact.credits.has(`${c.kind === 'SALE_FIRST' ? 10 : 11}:${c.orderId}`) ? 1 : 0,
    ps: ps.book.counts.get(c.orderId) ?? 0,
    ef: ef.book.counts.get(`base:${c.orderId}`) ?? 0,
    wh: [...wh.received].filter((r) => (r.payload.data as Conversion).conversionId === c.conversionId).length,
    ...(tn ? { tn: tn.book.counts.get(c.orderId) ?? 0 } : {}),
  });
  return {
    prefix, integrationId, impact, ps, ef, wh, tn, pool, producer, make, creditsOf, log,
    close: async () => {
      await producer.close();
      await pool.end();
      await Promise.all([impact.close(), ps.close(), ef.close(), wh.close(), tn?.close()]);
    },
  };
};

describe('dispatcher under SIGKILL and partner storms', () => {
  const cleanups: (() => Promise<unknown>)[] = [];
  afterAll(async () => {
    for (const c of cleanups.reverse()) await c().catch(() => undefined);
  });

  it('SIGKILLed ten times at random points under load: every conversion credited once at every partner, none missing', async () => {
    const t = await setup({ tracknow: false });
    cleanups.push(t.close);
    for (const s of [t.impact, t.ps, t.ef, t.wh]) s.setFaults({ latencyMs: 5 });
    const env = {
      ...process.env,
      ...serviceEnv(t.prefix, {
        DISPATCHER_HEALTH_PORT: '0', DISPATCHER_GROUP_ID: uniqueId('g'), DISPATCH_LEASE_MS: '1500', PARTNER_TIMEOUT_MS: '2000',
        DISPATCH_POLL_MS: '100', CONSUMER_SESSION_TIMEOUT_MS: '6000', RETRY_SCHEDULE_MS: '100,200,400,800,1600,3200', LOG_LEVEL: 'error',
      }),
    };
    const procs: (ChildProcess | null)[] = [null, null];
    const spawnOne = (slot: number) => {
      const child = spawn(process.execPath, ['--import', 'tsx', 'services/dispatcher/src/main.ts'], { cwd: repoRoot, env, stdio: ['ignore', 'ignore', 'inherit'] });
      procs[slot] = child;
    };
    const killOne = async (slot: number) => {
      const child = procs[slot];
      if (!child || child.exitCode !== null || child.signalCode !== null) return;
      await new Promise<void>((r) => { child.once('exit', () => r()); child.kill('SIGKILL'); });
    };
    cleanups.push(async () => { await killOne(0); await killOne(1); });

    spawnOne(0);
    spawnOne(1);

    const sent: Conversion[] = [];
    let producing = true;
    const load = (async () => {
      let i = 0;
      while (producing) {
        const batch = t.make(20);
        await t.producer.send(batch, i++ % 4 === 3 ? 'conversionsDue' : 'conversions');
        sent.push(...batch);
        await sleep(200);
      }
    })();
    const kills: { slot: number; afterMs: number }[] = [];
    for (let k = 0; k < 10; k++) {
      const afterMs = 700 + Math.floor(Math.random() * 1_800);
      await sleep(afterMs);
      const slot = Math.floor(Math.random() * 2);
      await killOne(slot);
      kills.push({ slot, afterMs });
      spawnOne(slot);
    }
    producing = false;
    await load;

    const missing = () => sent.filter((c) => Object.values(t.creditsOf(c)).some((n) => n === 0));
    const ledger = () => t.pool.query<{ status: string; n: string }>(
      `SELECT status, count(*) AS n FROM dispatch_ledger WHERE integration_id = $1 GROUP BY status`, [t.integrationId]);
    // A partner can hold a credit whose ledger row is still 'sending': the instance that sent it
    // was killed before it settled the row, which another instance takes over when the lease
    // (1.5 s) runs out and settles on the partner's duplicate answer. So wait for both.
    await waitFor(async () => {
      if (missing().length > 0) return undefined;
      const { rows: r } = await ledger();
      return r.length === 1 && r[0]!.status === 'sent' && Number(r[0]!.n) === sent.length * 4 ? true : undefined;
    }, { timeoutMs: 45_000, intervalMs: 250, what: 'every conversion credited and its ledger rows settled' }).catch(() => undefined);
    const doubles = sent.filter((c) => Object.values(t.creditsOf(c)).some((n) => n > 1));
    const { rows } = await ledger();
    t.log.warn({
      kills, conversions: sent.length,
      resendsDedupedByPartners: { impact: t.impact.duplicates(), ps: t.ps.book.deduped, ef: t.ef.book.deduped, wh: t.wh.book.deduped },
      ledger: Object.fromEntries(rows.map((r) => [r.status, Number(r.n)])),
    }, 'kill test summary');
    expect(kills).toHaveLength(10);
    expect(sent.length).toBeGreaterThan(500);
    expect({ missing: missing().map((c) => c.orderId), doubles: doubles.map((c) => c.orderId) }).toEqual({ missing: [], doubles: [] });
    expect(t.impact.credits.size).toBe(sent.length);
    expect(Object.fromEntries(rows.map((r) => [r.status, Number(r.n)]))).toEqual({ sent: sent.length * 4 });
  }, 120_000);

  it('30 % 5xx, 429 storms with Retry-After and timeouts: everything delivered or dead-lettered, nothing lost, nothing twice', async () => {
    const faults: Faults = { errorRate: 0.3, stormEveryMs: 2_500, stormMs: 600, retryAfterSec: 1, timeoutRate: 0.02 };
    const t = await setup({ faults, tracknow: true });
    cleanups.push(t.close);
    const env = serviceEnv(t.prefix, {
      // Injected timeouts never credit; a real one (the test process, stubs and dispatcher on one loaded event loop) may
      // come after the stub credited: long enough that only the injected ones time out.
      DISPATCHER_HEALTH_PORT: '0', DISPATCHER_GROUP_ID: uniqueId('g'), PARTNER_TIMEOUT_MS: '2000', DISPATCH_POLL_MS: '50',
      RETRY_SCHEDULE_MS: '100,200,400,800', BREAKER_THRESHOLD: '5', BREAKER_OPEN_MS: '300',
    });
    const dispatcher: RunningDispatcher = await startDispatcher(loadConfig(dispatcherEnv, env), t.log);
    cleanups.push(() => dispatcher.stop());
    const watch = await watchDispatch({ brokers: stackEndpoints().kafkaBrokers, prefix: t.prefix });
    cleanups.push(watch.close);

    const sent = t.make(200);
    await t.producer.send(sent.slice(0, 140));
    await t.producer.send(sent.slice(140), 'conversionsDue');
    const dests = ['impact', 'ps', 'ef', 'wh', 'tn'] as const;
    const dead = () => new Set(watch.deadLetters.map((d) => `${d.conversionId}:${d.destinationId.slice(t.integrationId.length + 1)}`));
    const unresolved = () => {
      const dl = dead();
      return sent.flatMap((c) => {
        const credits = t.creditsOf(c) as Record<string, number>;
        return dests.filter((d) => !credits[d] && !dl.has(`${c.conversionId}:${d}`)).map((d) => `${c.orderId}:${d}`);
      });
    };
    await waitFor(() => (unresolved().length === 0 ? true : undefined), { timeoutMs: 60_000, intervalMs: 250, what: 'every conversion delivered or dead-lettered' }).catch(() => undefined);
    const dl = dead();
    const both = sent.flatMap((c) => dests.filter((d) => (t.creditsOf(c) as Record<string, number>)[d] && dl.has(`${c.conversionId}:${d}`)));
    // Tracknow cannot dedupe (README): a resend after a real timeout may credit twice there, but never silently.
    const flagged = new Set(watch.outcomes.filter((o) => o.destinationType === 'tracknow' && o.error?.includes('in doubt:')).map((o) => o.conversionId));
    const doubles = sent.filter((c) => Object.entries(t.creditsOf(c)).some(([d, n]) => n > 1 && !(d === 'tn' && flagged.has(c.conversionId))));
    const stats = { impact: t.impact.stats, ps: t.ps.stats, ef: t.ef.stats, wh: t.wh.stats, tn: t.tn!.stats };
    t.log.warn({ stats, deadLetters: watch.deadLetters.length, retrying: watch.outcomes.filter((o) => o.status === 'retrying').length }, 'storm test summary');
    expect({ unresolved: unresolved(), doubles: doubles.map((c) => c.orderId), both }).toEqual({ unresolved: [], doubles: [], both: [] });
    // The storms happened, and were retried through.
    expect(Object.values(stats).every((s) => s.faults5xx > 0 && s.faults429 > 0)).toBe(true);
    expect(watch.outcomes.some((o) => o.status === 'retrying' && o.httpStatus === 429)).toBe(true);
    // Every dead letter is one the partner refused to the last try, with its reason.
    expect(watch.deadLetters.every((d) => d.attempts === 5 && d.reason.length > 0)).toBe(true);
  }, 120_000);
});
