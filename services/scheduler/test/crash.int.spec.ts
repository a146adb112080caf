import { afterAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { createKafka, createLogger, ensureTopics, loadConfig } from '@sas/runtime';
import { serviceEnv, stackEndpoints, uniqueId, waitFor } from '@sas/testkit';
import { schedulerEnv, startScheduler, type RunningScheduler } from '../src/index.js';
import { CrashPoints } from '../src/config.js';
import { topicName } from '@sas/contracts';
import { duplicatesIn, produceConversions, refund, spawnScheduler, stateCounts, testKafka, watchDue } from './helpers.js';

const childEnv = (prefix: string, extra: Record<string, string> = {}) => serviceEnv(prefix, {
  SCHEDULER_HEALTH_PORT: '0', SCHEDULER_LEASE_MS: '1000', RELEASE_BATCH: '10', RELEASE_INTERVAL_MS: '100',
  SCHEDULER_SESSION_TIMEOUT_MS: '6000', LOG_LEVEL: process.env.CHILD_LOG_LEVEL ?? 'warn', ...extra,
});

const setup = async (prefix: string, n: number, dueOver: number) => {
  const log = createLogger('crash-test', 'warn');
  await ensureTopics(createKafka({ brokers: [stackEndpoints().kafkaBrokers], clientId: 'crash-test', log }), prefix);
  const now = Date.now();
  const conversions = Array.from({ length: n }, (_, i) => refund({ customerId: `cus_${i % 17}`, subscriptionId: `sub_${i % 17}`, due: now + Math.floor((i * dueOver) / n) }));
  await produceConversions(prefix, conversions);
  return { conversions, ids: conversions.map((c) => c.conversionId), log };
};

/**
 * Exactly-once release, proven by killing the real process (SIGKILL, no cleanup) between every
 * two steps of holding and releasing. A chain of scheduler processes each dies at the next
 * step; a last instance finishes. Every conversion must then be in conversions.due.v1 exactly
 * once for a read_committed consumer, and released in PostgreSQL.
 */
describe('scheduler killed between steps', () => {
  const db = new pg.Pool({ connectionString: stackEndpoints().databaseUrl, max: 2 });
  const cleanups: (() => Promise<unknown>)[] = [];
  afterAll(async () => {
    for (const c of cleanups.reverse()) await c().catch(() => undefined);
    await db.end();
  });

  it('releases every conversion exactly once although a process dies at each step in turn', async () => {
    const prefix = `${uniqueId('crash')}.`;
    const { ids, log } = await setup(prefix, 150, 2_000);
    const committed = await watchDue(prefix);
    const uncommitted = await watchDue(prefix, { readUncommitted: true });
    cleanups.push(committed.close, uncommitted.close);

    const admin = testKafka().admin();
    await admin.connect();
    cleanups.push(() => admin.disconnect());
    const evidence: Record<string, unknown> = {};
    for (const point of CrashPoints) {
      const child = spawnScheduler(childEnv(prefix, { SCHEDULER_CRASH_AT: point }));
      cleanups.push(() => child.kill());
      const exit = await Promise.race([child.exited, new Promise((r) => setTimeout(() => r('timeout'), 45_000))]);
      expect({ point, exit }).toEqual({ point, exit: { code: null, signal: 'SIGKILL' } });
      const counts = await stateCounts(db, prefix);
      evidence[point] = { counts };
      if (point === 'after-hold') expect(counts.held ?? 0).toBeGreaterThan(0);
      if (point === 'after-claim' || point === 'after-send') expect(counts.releasing ?? 0).toBeGreaterThan(0);
      if (point === 'after-commit') {
        // The dangerous one: a batch committed in Kafka (the lane's marker covers its sequence
        // number) while PostgreSQL still says releasing. Re-sending it would be the duplicate.
        const committedButReleasing = await waitFor(async () => {
          const markers = await admin.fetchOffsets({ groupId: `${prefix}scheduler.release-markers`, topics: [topicName('conversionsDue', prefix)] });
          const markerOf = new Map(markers[0]!.partitions.map((p) => [p.partition, Number(p.offset)]));
          const pending = await db.query<{ lane: number; release_seq: string; n: string }>(
            `SELECT lane, release_seq, count(*) AS n FROM held_conversions WHERE namespace = $1 AND state = 'releasing' GROUP BY 1, 2`, [prefix]);
          const hit = pending.rows.filter((r) => Number(r.release_seq) <= (markerOf.get(r.lane) ?? -1));
          return hit.length > 0 ? hit : undefined;
        }, { what: 'a batch committed in Kafka and still releasing in PostgreSQL', timeoutMs: 10_000 });
        expect(committedButReleasing.length).toBeGreaterThan(0);
        (evidence[point] as Record<string, unknown>).committedButReleasing = committedButReleasing;
      }
    }

    const last: RunningScheduler = await startScheduler(loadConfig(schedulerEnv, childEnv(prefix)), log);
    cleanups.push(() => last.stop());
    await committed.waitForAll(ids);
    await waitFor(async () => ((await stateCounts(db, prefix)).released === ids.length ? true : undefined), { what: 'all released in PostgreSQL' });
    await last.stop();

    const dups = duplicatesIn(committed.records);
    if (dups.length > 0) {
      const detail = dups.map((d) => ({ ...d, at: committed.records.filter((r) => r.conversionId === d.id).map((r) => `${r.partition}@${r.offset}`) }));
      const { rows } = await db.query(`SELECT conversion_id, lane, release_seq FROM held_conversions WHERE namespace = $1 AND conversion_id = ANY($2)`, [prefix, dups.map((d) => d.id)]);
      console.log('DUPS', prefix, JSON.stringify(detail), JSON.stringify(rows), JSON.stringify(evidence));
    }
    expect(committed.records.length).toBe(ids.length);
    expect(duplicatesIn(committed.records)).toEqual([]);
    expect(await stateCounts(db, prefix)).toEqual({ released: ids.length });
    // The kill after sending left an open transaction; the next owner's fence aborted it: its
    // records exist in the log (read_uncommitted sees them) but were never released.
    await uncommitted.waitForAll(ids);
    expect(uncommitted.records.length).toBeGreaterThan(committed.records.length);
    log.info({ evidence }, 'crash chain evidence');
  }, 150_000);

  it('two instances at once share the lanes; when one is killed mid-stream the other finishes, each conversion once', async () => {
    const prefix = `${uniqueId('twin')}.`;
    const { ids, log } = await setup(prefix, 600, 6_000);
    const committed = await watchDue(prefix);
    cleanups.push(committed.close);
    const x = spawnScheduler(childEnv(prefix, { RELEASE_BATCH: '20' }));
    const y = spawnScheduler(childEnv(prefix, { RELEASE_BATCH: '20' }));
    cleanups.push(() => x.kill(), () => y.kill());

    const owners = async () => {
      const { rows } = await db.query<{ owner: string }>(
        `SELECT owner FROM scheduler_lanes WHERE namespace = $1 AND lease_until > now()`, [prefix]);
      return rows.map((r) => r.owner);
    };
    // Both hold lanes at the same time (six each of the twelve lanes, one per due partition).
    const shared = await waitFor(async () => {
      const o = await owners();
      return new Set(o).size === 2 && o.length === 12 ? o : undefined;
    }, { what: 'both instances to hold lanes', timeoutMs: 45_000 });
    expect(new Set(shared).size).toBe(2);
    await waitFor(async () => ((await stateCounts(db, prefix)).released ?? 0) > 100 ? true : undefined, { what: 'some released', timeoutMs: 30_000 });

    expect(await x.kill()).toEqual({ code: null, signal: 'SIGKILL' });
    await committed.waitForAll(ids);
    await waitFor(async () => ((await stateCounts(db, prefix)).released === ids.length ? true : undefined), { what: 'all released in PostgreSQL' });
    expect(duplicatesIn(committed.records)).toEqual([]);
    expect(committed.records.length).toBe(ids.length);
    // The survivor took the dead one's lanes.
    expect(new Set(await owners()).size).toBe(1);
    expect(await y.kill('SIGTERM')).toEqual({ code: 0, signal: null });
    log.info('two instances: done');
  }, 120_000);
});
