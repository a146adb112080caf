import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { createLogger, loadConfig } from '@sas/runtime';
import { stackEndpoints, uniqueId, waitFor } from '@sas/testkit';
import { schedulerEnv, startScheduler, type RunningScheduler } from '../src/index.js';
import { createHoldStore } from '../src/adapters/holdStore.js';
import { adminRequest, produceConversions, refund, schedulerTestEnv, stateCounts, testKafka, watchDue } from './helpers.js';

/**
 * The two things an operator of the scheduler lives with: batches whose release became unknown
 * (the lane's release marker was lost) and the growth of settled rows (the purge).
 */
describe('scheduler operations', () => {
  const prefix = `${uniqueId('schedops')}.`;
  const env = schedulerTestEnv(prefix);
  const log = createLogger('scheduler-ops-test', env.LOG_LEVEL);
  let scheduler: RunningScheduler | undefined;
  let due: Awaited<ReturnType<typeof watchDue>>;
  let db: pg.Pool;

  beforeAll(async () => {
    db = new pg.Pool({ connectionString: stackEndpoints().databaseUrl, max: 3 });
  });
  afterAll(async () => {
    await due?.close();
    await scheduler?.stop();
    await db?.end();
  });

  const start = async () => { scheduler = await startScheduler(loadConfig(schedulerEnv, env), log); return scheduler; };
  const admin = adminRequest(() => scheduler!.app);
  const statesOf = async (ids: readonly string[]) => {
    const { rows } = await db.query<{ conversion_id: string; state: string }>(
      `SELECT conversion_id, state FROM held_conversions WHERE namespace = $1 AND conversion_id = ANY($2::text[])`, [prefix, ids]);
    return Object.fromEntries(rows.map((r) => [r.conversion_id, r.state]));
  };

  const far = Array.from({ length: 60 }, () => refund({ integrationId: 'int_ops', customerId: uniqueId('cus_'), due: Date.now() + 3_600_000 }));
  const lost: { lane: number; seq: number; ids: string[] }[] = [];

  it('a batch whose release marker was lost becomes unknown, is never sent by itself, and the operator settles it (audited)', async () => {
    let s = await start(); // creates the topics
    due = await watchDue(prefix);
    // Some releases, so lanes have confirmed batches (and markers) …
    const first = Array.from({ length: 24 }, () => refund({ integrationId: 'int_ops', customerId: uniqueId('cus_'), due: Date.now() + 200 }));
    await produceConversions(prefix, first);
    await due.waitForAll(first.map((c) => c.conversionId));
    // … and conversions held for an hour, nothing of which is due.
    await produceConversions(prefix, far);
    await waitFor(async () => ((await stateCounts(db, prefix)).held === far.length ? true : undefined), { timeoutMs: 30_000, what: 'far refunds held' });
    await s.stop();
    scheduler = undefined;

    // The state a crash after claim leaves, on two lanes that have a confirmed batch: rows
    // `releasing` as the lane's next batch. Then the marker group is lost (retention, deletion).
    const { rows: lanes } = await db.query<{ lane: number }>(
      `SELECT l.lane FROM scheduler_lanes l
        WHERE l.namespace = $1 AND l.confirmed_seq > 0
          AND EXISTS (SELECT 1 FROM held_conversions h WHERE h.namespace = $1 AND h.lane = l.lane AND h.state = 'held')
        ORDER BY l.lane LIMIT 2`, [prefix]);
    expect(lanes).toHaveLength(2);
    for (const { lane } of lanes) {
      const { rows: [bumped] } = await db.query<{ next_seq: string }>(
        `UPDATE scheduler_lanes SET next_seq = next_seq + 1 WHERE namespace = $1 AND lane = $2 RETURNING next_seq`, [prefix, lane]);
      const seq = Number(bumped!.next_seq);
      const { rows } = await db.query<{ conversion_id: string }>(
        `UPDATE held_conversions SET state = 'releasing', release_seq = $3, release_after = now()
          WHERE namespace = $1 AND lane = $2 AND state = 'held' RETURNING conversion_id`, [prefix, lane, seq]);
      lost.push({ lane, seq, ids: rows.map((r) => r.conversion_id).sort() });
    }
    const kafkaAdmin = testKafka().admin();
    await kafkaAdmin.connect();
    await kafkaAdmin.deleteGroups([`${prefix}scheduler.release-markers`]);
    await kafkaAdmin.disconnect();

    s = await start();
    const lostIds = lost.flatMap((b) => b.ids);
    await waitFor(async () => (Object.values(await statesOf(lostIds)).every((st) => st === 'unknown') ? true : undefined),
      { timeoutMs: 30_000, what: 'lost batches marked unknown' });
    // Due for a while now, yet never sent: the lanes keep running and leave them alone.
    await new Promise((r) => setTimeout(r, 1_500));
    expect(lostIds.map((id) => due.countOf(id))).toEqual(lostIds.map(() => 0));

    const listed = await admin('GET', '/admin/held?state=unknown&limit=500');
    expect(listed.statusCode).toBe(200);
    const items = listed.json().items as { conversionId: string; lane: number; releaseSeq: number }[];
    expect(items.map((i) => i.conversionId).sort()).toEqual([...lostIds].sort());
    for (const b of lost) expect(items.filter((i) => i.lane === b.lane).every((i) => i.releaseSeq === b.seq)).toBe(true);
    const metrics = await (await fetch(`${s.url}/metrics`)).text();
    expect(metrics).toMatch(new RegExp(`^scheduler_unknown_conversions ${lostIds.length}$`, 'm'));

    // Bad requests change nothing.
    const [a, b] = lost as [typeof lost[0], typeof lost[0]];
    expect((await admin('POST', `/admin/lanes/${a.lane}/batches/${a.seq}/resolve`, { as: 'held' })).statusCode).toBe(400);
    expect((await admin('POST', `/admin/lanes/${a.lane}/batches/${a.seq}/resolve`, { as: 'maybe', reason: 'x' })).statusCode).toBe(400);
    expect((await admin('POST', `/admin/lanes/${a.lane}/batches/${a.seq + 100}/resolve`, { as: 'held', reason: 'x' })).statusCode).toBe(404);
    expect((await admin('POST', '/admin/held/cnv_nope/resolve', { as: 'held', reason: 'x' })).statusCode).toBe(404);
    expect(Object.values(await statesOf(lostIds)).every((st) => st === 'unknown')).toBe(true);

    // Lane a's batch is not in the due topic: hold it again, and its lane sends each once.
    const heldAgain = await admin('POST', `/admin/lanes/${a.lane}/batches/${a.seq}/resolve`, { as: 'held', reason: 'not in conversions.due.v1 (checked offsets 0..n)' });
    expect(heldAgain.statusCode).toBe(200);
    expect([...heldAgain.json().resolved].sort()).toEqual(a.ids);
    await due.waitForAll(a.ids);
    expect(a.ids.map((id) => due.countOf(id))).toEqual(a.ids.map(() => 1));
    await waitFor(async () => (Object.values(await statesOf(a.ids)).every((st) => st === 'released') ? true : undefined), { what: 'lane a released' });

    // One conversion of lane b was found in the topic: released, never sent (again).
    const one = b.ids[0]!;
    const settled = await admin('POST', `/admin/held/${one}/resolve`, { as: 'released', reason: 'found at due partition offset 42', actor: 'alice' });
    expect(settled.statusCode).toBe(200);
    expect(settled.json()).toEqual({ resolved: [one], as: 'released' });
    expect((await admin('POST', `/admin/held/${one}/resolve`, { as: 'held', reason: 'again' })).statusCode).toBe(409);
    const detail = (await admin('GET', `/admin/held/${one}`)).json();
    expect(detail.row.state).toBe('released');
    expect(detail.actions).toEqual([expect.objectContaining({ action: 'resolve_released', actor: 'alice', reason: 'found at due partition offset 42', outcome: 'applied' })]);
    await new Promise((r) => setTimeout(r, 1_000));
    expect(b.ids.map((id) => due.countOf(id))).toEqual(b.ids.map(() => 0));
    expect(Object.values(await statesOf(b.ids.slice(1))).every((st) => st === 'unknown')).toBe(true);
  });

  it('purges released and cancelled rows past the retention; held and unknown rows stay', async () => {
    const store = createHoldStore(db, prefix);
    const stillHeld = far.map((c) => c.conversionId).filter((id) => !lost.some((b) => b.ids.includes(id)));
    expect(stillHeld.length).toBeGreaterThan(2);
    expect((await store.operate(stillHeld[0]!, 'cancel', 'ops', 'customer disputed')).outcome).toBe('applied');
    const before = await stateCounts(db, prefix);
    // Everything was held 40 days ago, except one released row held 20 days ago.
    await db.query(`UPDATE held_conversions SET held_at = now() - interval '40 days' WHERE namespace = $1`, [prefix]);
    const { rows: [young] } = await db.query<{ conversion_id: string }>(
      `UPDATE held_conversions SET held_at = now() - interval '20 days'
        WHERE namespace = $1 AND conversion_id = (SELECT conversion_id FROM held_conversions WHERE namespace = $1 AND state = 'released' LIMIT 1)
        RETURNING conversion_id`, [prefix]);

    // A small batch size, so the purge takes several statements.
    const purged = await store.purgeSettled(35 * 86_400_000, 7);
    expect(purged).toBe(before.released! + before.cancelled! - 1);
    const after = await stateCounts(db, prefix);
    expect(after).toEqual({ held: before.held, unknown: before.unknown, released: 1 });
    expect(Object.keys(await statesOf([young!.conversion_id]))).toEqual([young!.conversion_id]);
    expect(await store.purgeSettled(35 * 86_400_000, 7)).toBe(0);
  });

  it('refuses a retention shorter than the topics\' (a replay would release again)', () => {
    expect(() => loadConfig(schedulerEnv, { ...env, SCHEDULER_RETAIN_SETTLED_DAYS: '7' })).toThrow(/SCHEDULER_RETAIN_SETTLED_DAYS: must be at least 31/);
    expect(loadConfig(schedulerEnv, env).SCHEDULER_RETAIN_SETTLED_DAYS).toBe(35);
  });
});
