/**
 * Chaos under a simulator run: the pipeline's four services as processes on a private Kafka
 * broker and a private PostgreSQL (the shared ones are never touched; the schema registry is
 * shared), the simulator sending signed histories as Stripe does (retrying every non-2xx), and
 * meanwhile, in turn, the broker, PostgreSQL, ingest, mapper, scheduler and dispatcher each
 * SIGKILLed and started again (each waited for: broker log, pg_isready, /readyz). Then the
 * pipeline drains and what the partners hold is reconciled with Stripe's amounts.
 *
 * A service that exits on its own (e.g. when its database vanishes) is started again, as a
 * supervisor (systemd, Kubernetes) would, and counted in `unplannedRestarts`.
 */
import { randomUUID } from 'node:crypto';
import { createPool, migrate, createLogger } from '@sas/runtime';
import {
  TEST_SECRETS_KEY, randomWebhookSecret, startPipelineProcesses, startPrivateKafka, startPrivatePostgres,
  type PipelineService, type PipelineProcesses,
} from '@sas/testkit';
import { simulate } from '../simulator/history.js';
import { sendHistories, type SendStats } from '../simulator/sender.js';
import { truthOf } from '../simulator/truth.js';
import { startReconcileTargets } from './destinations.js';
import { drainAndReconcile } from './drain.js';
import { knownDefects } from './knownDefects.js';
import type { ReconcileResult } from './reconcile.js';

export interface ChaosOptions {
  readonly customers: number;
  readonly seed?: number;
  readonly kafkaLibs: string;
  readonly schemaRegistryUrl: string;
  readonly stripeApiBase?: string;
  /** Deliveries per second the simulator offers (so the sending spans the kills). */
  readonly ratePerSec: number;
  /** Pause between one victim coming back and the next being killed. */
  readonly pauseMs?: number;
  readonly drainTimeoutMs?: number;
  readonly log?: (line: string) => void;
}

export type ChaosVictim = 'broker' | 'postgres' | PipelineService;
export const CHAOS_ORDER: readonly ChaosVictim[] = ['broker', 'postgres', 'ingest', 'mapper', 'scheduler', 'dispatcher'];

export interface ChaosResult extends ReconcileResult {
  readonly events: number;
  readonly deliveries: number;
  readonly send: SendStats;
  readonly kills: { victim: ChaosVictim; downMs: number; backMs: number }[];
  readonly unplannedRestarts: Partial<Record<PipelineService, number>>;
  readonly drainedInMs: number;
  readonly seconds: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export const runChaos = async (o: ChaosOptions): Promise<ChaosResult> => {
  const say = o.log ?? (() => undefined);
  const started = Date.now();
  const histories = simulate({ seed: o.seed ?? 8, customers: o.customers, runTag: randomUUID().slice(0, 6) });
  const truth = truthOf(histories);
  const deliveries = histories.reduce((s, h) => s + h.deliveries.length, 0);
  const events = histories.reduce((s, h) => s + h.events.length, 0);
  const [kafka, pg] = await Promise.all([startPrivateKafka(o.kafkaLibs), startPrivatePostgres()]);
  say(`private Kafka ${kafka.brokers}, private PostgreSQL ${pg.url}`);
  let pipeline: PipelineProcesses | null = null;
  let targets: Awaited<ReturnType<typeof startReconcileTargets>> | null = null;
  const integrationId = `int_chaos_${randomUUID().slice(0, 8)}`;
  const secret = randomWebhookSecret();
  try {
    await migrate(pg.url, createLogger('chaos', 'warn'));
    const pool = createPool(pg.url);
    targets = await startReconcileTargets({ integrationId, webhookSecret: secret, refundHoldSeconds: 1, pool });
    await pool.end();
    const tag = randomUUID().slice(0, 8);
    pipeline = await startPipelineProcesses({
      // A fresh broker creates its internal topics on first use; on a loaded machine that takes a while.
      readyTimeoutMs: 120_000,
      env: {
        KAFKA_BROKERS: kafka.brokers, DATABASE_URL: pg.url, SCHEMA_REGISTRY_URL: o.schemaRegistryUrl,
        ...(o.stripeApiBase ? { STRIPE_API_BASE: o.stripeApiBase } : {}),
        KAFKA_TOPIC_PREFIX: `chaos${tag}.`, SECRETS_KEY: TEST_SECRETS_KEY, LOG_LEVEL: 'warn',
        MAPPER_GROUP_ID: `m${tag}`, SCHEDULER_GROUP_ID: `s${tag}`, DISPATCHER_GROUP_ID: `d${tag}`,
        // A killed member's partitions come back after its session expires: keep it short.
        MAPPER_SESSION_TIMEOUT_MS: '6000', SCHEDULER_SESSION_TIMEOUT_MS: '6000', CONSUMER_SESSION_TIMEOUT_MS: '6000',
        // A killed dispatcher's leased rows are taken over when the lease runs out.
        DISPATCH_LEASE_MS: '4000', PARTNER_TIMEOUT_MS: '3000', RETRY_SCHEDULE_MS: '200,500,1000,2000,4000,8000,8000,8000',
      },
    });
    const p = pipeline;
    say(`services up (logs in ${p.logDir})`);

    // The supervisor: a service that exited unasked is started again.
    const unplannedRestarts: Partial<Record<PipelineService, number>> = {};
    const beingKilled = new Set<string>();
    let supervising = true;
    const supervisor = (async () => {
      while (supervising) {
        for (const s of Object.values(p.services)) {
          if (s.pid === undefined && !beingKilled.has(s.name)) {
            unplannedRestarts[s.name] = (unplannedRestarts[s.name] ?? 0) + 1;
            say(`${s.name} exited on its own: starting it again (log ${s.logFile})`);
            beingKilled.add(s.name);
            await s.restart().catch((err: Error) => say(`restart of ${s.name} failed: ${err.message.slice(0, 300)}`));
            beingKilled.delete(s.name);
          }
        }
        await sleep(500);
      }
    })();

    const sending = sendHistories(histories, {
      url: p.webhookUrl(integrationId), urlFor: (h) => p.webhookUrl(targets!.integrationFor(h)), secret, concurrency: 16, ratePerSec: o.ratePerSec, maxBackoffMs: 2_000,
      onDelivered: (n) => { if (n % 500 === 0) say(`${n}/${deliveries} deliveries acknowledged`); },
    });
    const kills: ChaosResult['kills'] = [];
    await sleep(o.pauseMs ?? 2_000);
    for (const victim of CHAOS_ORDER) {
      const t0 = Date.now();
      beingKilled.add(victim);
      if (victim === 'broker') {
        await kafka.kill();
        await sleep(1_000);
        await kafka.restart();
      } else if (victim === 'postgres') {
        await pg.kill();
        await sleep(1_000);
        await pg.start();
      } else {
        const s = p.services[victim]!;
        await s.kill('SIGKILL');
        await sleep(500);
        await s.restart();
      }
      beingKilled.delete(victim);
      kills.push({ victim, downMs: 1_000, backMs: Date.now() - t0 });
      say(`${victim} SIGKILLed and back after ${Date.now() - t0} ms`);
      await sleep(o.pauseMs ?? 2_000);
    }
    const send = await sending;
    say(`sent: ${JSON.stringify(send)}`);
    const result = await drainAndReconcile({
      targets, truth, knownDefect: knownDefects, quietMs: 3_000, giveUpQuietMs: 25_000, timeoutMs: o.drainTimeoutMs ?? 120_000,
      intervalMs: 500, onProgress: (r, quiet) => say(`draining: mismatches ${r.mismatches}, missing ${r.missing}, doubles ${r.double_credits}, quiet for ${quiet} ms`),
    });
    supervising = false;
    await supervisor;
    return { ...result, events, deliveries, send, kills, unplannedRestarts, seconds: (Date.now() - started) / 1000 };
  } finally {
    await pipeline?.stopAll().catch(() => undefined);
    await targets?.close().catch(() => undefined);
    await Promise.all([kafka.close(), pg.stop()]).catch(() => undefined);
  }
};
