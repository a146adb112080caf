import type { Admin, Kafka } from 'kafkajs';
import type { Logger } from '@sas/runtime';
import { decideRecovery } from './core/recovery.js';
import { planLanes } from './core/laneShare.js';
import type { HoldStore, LaneLease } from './adapters/holdStore.js';
import { createReleaseProducer, type ReleaseProducer } from './adapters/releaseProducer.js';
import type { Crash } from './crashPoint.js';
import type { SchedulerMetrics } from './metrics.js';
import { LaneLostError } from './errors.js';

export interface LaneDeps {
  readonly store: HoldStore;
  readonly kafka: Kafka;
  readonly admin: Admin;
  readonly instanceId: string;
  readonly dueTopic: string;
  /** Partitions of the due topic: one release lane each. */
  readonly lanes: number;
  /** Prefix of the lanes' transactional ids and of the marker group: one per namespace. */
  readonly releaseId: string;
  readonly batch: number;
  readonly intervalMs: number;
  readonly leaseMs: number;
  readonly crash: Crash;
  readonly metrics: SchedulerMetrics;
  readonly log: Logger;
  readonly now: () => number;
}

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    if (signal.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done() { clearTimeout(t); signal.removeEventListener('abort', done); resolve(); }
    signal.addEventListener('abort', done);
  });

const MARKER_REFRESH_MS = 24 * 3600 * 1000;

/**
 * One lane, owned under `lease`: recover (fence, read the marker, settle half-done batches),
 * then claim → publish in a Kafka transaction → confirm, oldest first, until the lane is lost
 * or stopped.
 */
const runLane = async (d: LaneDeps, lease: LaneLease, signal: AbortSignal): Promise<void> => {
  const log = d.log.child({ lane: lease.lane, epoch: lease.epoch });
  const producer: ReleaseProducer = createReleaseProducer({
    kafka: d.kafka, admin: d.admin, transactionalId: `${d.releaseId}.release.${lease.lane}`,
    markerGroup: `${d.releaseId}.release-markers`, dueTopic: d.dueTopic, lane: lease.lane, crash: d.crash,
  });
  let recovered = false;
  let lastMarkerAt = 0;
  let failures = 0;
  try {
    while (!signal.aborted) {
      try {
        if (!recovered) {
          await producer.fence();
          const markerSeq = await producer.readMarker();
          const { confirmedSeq, pendingSeqs } = await d.store.pendingOf(lease, d.leaseMs);
          const decision = decideRecovery({ markerSeq, confirmedSeq, pendingSeqs });
          const applied = await d.store.applyRecovery(lease, d.leaseMs, decision);
          if (pendingSeqs.length > 0) {
            log.warn({ markerSeq, confirmedSeq, ...decision, rows: applied }, 'lane recovered half-done batches');
            d.metrics.recoveries.inc({ outcome: 'released' }, decision.released.length);
            d.metrics.recoveries.inc({ outcome: 'held_again' }, decision.held.length);
            d.metrics.recoveries.inc({ outcome: 'unknown' }, decision.unknown.length);
          }
          if (decision.unknown.length > 0) {
            log.error({ unknown: decision.unknown }, 'release marker lost: batches set to unknown for an operator (GET /admin/held?state=unknown), never re-sent');
          }
          await producer.refreshMarker(decision.committedSeq);
          lastMarkerAt = d.now();
          recovered = true;
          log.info({ markerSeq, confirmedSeq, pendingSeqs, committedSeq: decision.committedSeq }, 'lane ready');
        }
        const claimed = await d.store.claim(lease, d.leaseMs, d.batch);
        if (!claimed) {
          if (d.now() - lastMarkerAt > MARKER_REFRESH_MS) {
            const { confirmedSeq } = await d.store.pendingOf(lease, d.leaseMs);
            await producer.refreshMarker(confirmedSeq);
            lastMarkerAt = d.now();
          }
          failures = 0;
          await sleep(d.intervalMs, signal);
          continue;
        }
        d.crash('after-claim');
        try {
          await producer.publish(claimed.seq, claimed.rows.map((r) => ({ key: r.key, value: r.value })));
        } catch (err) {
          recovered = false; // outcome unknown until the next fence settles it
          throw err;
        }
        const committedAt = d.now();
        lastMarkerAt = committedAt;
        d.crash('after-commit');
        for (const r of claimed.rows) {
          // An operator's early release is not lateness.
          if (r.releaseAfter >= r.notBefore) d.metrics.lateness.observe(Math.max(0, committedAt - r.notBefore) / 1000);
        }
        d.metrics.released.inc(claimed.rows.length);
        try {
          await d.store.confirm(lease.lane, claimed.seq, claimed.rows.map((r) => r.conversionId));
        } catch (err) {
          recovered = false; // the next recovery marks the batch released from the marker
          throw err;
        }
        d.crash('after-confirm');
        log.info({ seq: claimed.seq, released: claimed.rows.length }, 'batch released');
        failures = 0;
      } catch (err) {
        if (err instanceof LaneLostError) {
          log.warn('lane lost to another instance');
          return;
        }
        failures++;
        log.warn({ err: (err as Error).message, failures }, 'lane step failed; recovering');
        recovered = false;
        await sleep(Math.min(200 * 2 ** Math.min(failures, 5), 5_000), signal);
        if (!(await d.store.renewLane(lease, d.leaseMs).catch(() => true))) return;
      }
    }
  } finally {
    await producer.close();
  }
};

/**
 * Takes, keeps and hands back lanes: heartbeat, fair share among live instances, one worker per
 * owned lane. Leases are renewed every third of their length; a worker whose lease is gone stops.
 */
export const startReleaseLanes = async (d: LaneDeps) => {
  await d.store.ensureLanes(d.lanes);
  const owned = new Map<number, { lease: LaneLease; abort: AbortController; done: Promise<void> }>();
  const stopping = new AbortController();

  const stopLane = async (lane: number, handBack: boolean) => {
    const w = owned.get(lane);
    if (!w) return;
    w.abort.abort();
    await w.done;
    owned.delete(lane);
    if (handBack) await d.store.releaseLane(w.lease).catch(() => undefined);
  };

  const tick = async () => {
    const view = await d.store.heartbeat(d.instanceId, d.leaseMs, d.lanes);
    for (const [lane, w] of owned) {
      if (!(await d.store.renewLane(w.lease, d.leaseMs))) {
        d.log.warn({ lane }, 'lane lease lost');
        w.abort.abort();
        owned.delete(lane);
      }
    }
    const plan = planLanes({ me: d.instanceId, instances: view.instances, lanes: view.lanes.map((l) => ({ lane: l.lane, liveOwner: l.liveOwner })) });
    for (const lane of plan.giveUp) await stopLane(lane, true);
    for (const lane of plan.take) {
      const lease = await d.store.acquireLane(lane, d.instanceId, d.leaseMs);
      if (!lease) continue;
      const abort = new AbortController();
      const done = runLane(d, lease, abort.signal).catch((err) => d.log.error({ err, lane }, 'lane worker crashed'))
        .finally(() => { if (owned.get(lane)?.abort === abort) owned.delete(lane); });
      owned.set(lane, { lease, abort, done });
      d.log.info({ lane, epoch: lease.epoch }, 'lane taken');
    }
    d.metrics.lanesOwned.set(owned.size);
  };

  const loop = (async () => {
    while (!stopping.signal.aborted) {
      try {
        await tick();
      } catch (err) {
        d.log.warn({ err: (err as Error).message }, 'lane heartbeat failed');
      }
      await sleep(Math.max(100, Math.floor(d.leaseMs / 3)), stopping.signal);
    }
  })();

  return {
    owned: () => [...owned.keys()].sort((a, b) => a - b),
    /** Finish the batch in flight, then hand every lane back so another instance takes over at once. */
    stop: async () => {
      stopping.abort();
      await loop;
      await Promise.all([...owned.keys()].map((lane) => stopLane(lane, true)));
      await d.store.leaveInstance(d.instanceId).catch(() => undefined);
    },
  };
};
