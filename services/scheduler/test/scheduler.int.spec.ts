import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { createLogger, loadConfig } from '@sas/runtime';
import { stackEndpoints, uniqueId, waitFor } from '@sas/testkit';
import { schedulerEnv, startScheduler, type RunningScheduler } from '../src/index.js';
import { adminRequest, duplicatesIn, keyOf, produceConversions, refund, schedulerTestEnv, stateCounts, watchDue } from './helpers.js';

/** One real scheduler in-process against the real Kafka, registry and PostgreSQL. */
describe('scheduler', () => {
  const prefix = `${uniqueId('sched')}.`;
  const env = schedulerTestEnv(prefix);
  const log = createLogger('scheduler-test', env.LOG_LEVEL);
  let scheduler: RunningScheduler;
  let due: Awaited<ReturnType<typeof watchDue>>;
  let db: pg.Pool;

  beforeAll(async () => {
    db = new pg.Pool({ connectionString: stackEndpoints().databaseUrl, max: 2 });
    scheduler = await startScheduler(loadConfig(schedulerEnv, env), log);
    due = await watchDue(prefix);
  });
  afterAll(async () => {
    await due?.close();
    await scheduler?.stop();
    await db?.end();
  });

  const admin = adminRequest(() => scheduler.app);

  it('releases each held conversion once, never before its notBefore, whatever the integration\'s hold; passes zero holds through', async () => {
    const now = Date.now();
    const held = [
      refund({ integrationId: 'int_hold_1s', due: now + 1_000 }),
      refund({ integrationId: 'int_hold_3s', due: now + 3_000 }),
      ...Array.from({ length: 20 }, (_, i) => refund({ integrationId: 'int_many', customerId: `cus_${i % 3}`, due: now + 500 + i * 50 })),
    ];
    // Zero hold: notBefore = receivedAt, so the dispatcher takes it from conversions.v1 directly.
    const passThrough = refund({ integrationId: 'int_zero', due: now - 10, receivedAt: now - 10 });
    await produceConversions(prefix, [...held, passThrough]);

    await due.waitForAll(held.map((c) => c.conversionId));
    expect(duplicatesIn(due.records)).toEqual([]);
    expect(due.countOf(passThrough.conversionId)).toBe(0);
    const { rows } = await db.query<{ conversion_id: string; not_before: Date; released_at: Date; state: string }>(
      `SELECT conversion_id, not_before, released_at, state FROM held_conversions WHERE namespace = $1`, [prefix]);
    expect(rows.map((r) => r.conversion_id).sort()).toEqual(held.map((c) => c.conversionId).sort());
    for (const r of rows) {
      expect(r.state).toBe('released');
      expect(r.released_at.getTime()).toBeGreaterThanOrEqual(r.not_before.getTime());
    }
    // The released record is the mapper's record, byte for byte, under its key.
    const first = due.records.find((r) => r.conversionId === held[0]!.conversionId)!;
    expect(first.key).toBe(keyOf(held[0]!));
  });

  it('holds and releases nothing twice when conversions.v1 is read again by a new consumer group', async () => {
    const before = due.records.length;
    const counts = await stateCounts(db, prefix);
    const replay = await startScheduler(loadConfig(schedulerEnv, { ...env, SCHEDULER_GROUP_ID: uniqueId('replay') }), log);
    try {
      // The replaying instance reads everything again: every conversion is already known.
      await waitFor(async () => {
        const m = await (await replay.app.inject({ method: 'GET', url: '/metrics' })).body;
        const known = Number(/scheduler_holds_total\{result="known"\} (\d+)/.exec(m)?.[1] ?? 0);
        return known >= (counts.released ?? 0) ? true : undefined;
      }, { what: 'replay to read every held conversion again', timeoutMs: 30_000 });
    } finally {
      await replay.stop();
    }
    await new Promise((r) => setTimeout(r, 1_000));
    expect(await stateCounts(db, prefix)).toEqual(counts);
    expect(due.records.length).toBe(before);
  });

  it('releases an overdue backlog at once, oldest first', async () => {
    const now = Date.now();
    const sameKey = { customerId: 'cus_backlog', subscriptionId: 'sub_backlog' };
    const backlog = Array.from({ length: 30 }, (_, i) => refund({ ...sameKey, integrationId: 'int_backlog', due: now - 60_000 + i * 1_000 }));
    const shuffled = [...backlog].sort(() => Math.random() - 0.5);
    await produceConversions(prefix, shuffled);
    await due.waitForAll(backlog.map((c) => c.conversionId));
    const order = due.records.filter((r) => r.key === keyOf(backlog[0]!)).sort((a, b) => Number(a.offset) - Number(b.offset)).map((r) => r.conversionId);
    // One key, one partition: its order there is the release order.
    expect(order).toEqual(backlog.map((c) => c.conversionId));
  });

  it('operator API: token required; list by integration, customer and due time; release now; cancel with a reason; all audited', async () => {
    const later = Date.now() + 3_600_000;
    const a = refund({ integrationId: 'int_ops', customerId: 'cus_a', due: later });
    const b = refund({ integrationId: 'int_ops', customerId: 'cus_b', due: later + 60_000 });
    const c = refund({ integrationId: 'int_ops', customerId: 'cus_b', due: later + 120_000 });
    await produceConversions(prefix, [a, b, c]);
    await waitFor(async () => ((await stateCounts(db, prefix)).held === 3 ? true : undefined), { what: 'three held' });

    expect((await admin('GET', '/admin/held', undefined, null)).statusCode).toBe(401);
    expect((await admin('GET', '/admin/held', undefined, 'wrong-token-wrong-token')).statusCode).toBe(401);

    const byIntegration = (await admin('GET', '/admin/held?integrationId=int_ops')).json();
    expect(byIntegration.items.map((i: { conversionId: string }) => i.conversionId)).toEqual([a, b, c].map((x) => x.conversionId));
    const byCustomer = (await admin('GET', '/admin/held?integrationId=int_ops&customerId=cus_b&limit=1')).json();
    expect(byCustomer.items.map((i: { conversionId: string }) => i.conversionId)).toEqual([b.conversionId]);
    const page2 = (await admin('GET', `/admin/held?integrationId=int_ops&customerId=cus_b&limit=1&after=${encodeURIComponent(byCustomer.nextCursor)}`)).json();
    expect(page2.items.map((i: { conversionId: string }) => i.conversionId)).toEqual([c.conversionId]);
    const byDue = (await admin('GET', `/admin/held?integrationId=int_ops&dueFrom=${later + 1}&dueTo=${new Date(later + 120_000).toISOString()}`)).json();
    expect(byDue.items.map((i: { conversionId: string }) => i.conversionId)).toEqual([b.conversionId]);
    expect((await admin('GET', '/admin/held?state=nope')).statusCode).toBe(400);

    // Release a now: it goes out although due in an hour.
    const rel = await admin('POST', `/admin/held/${a.conversionId}/release`, { reason: 'partner asked' });
    expect(rel.statusCode).toBe(202);
    await due.waitForAll([a.conversionId]);
    expect(due.countOf(a.conversionId)).toBe(1);

    // Cancel b: a reason is required; then it is never released, and a second cancel is refused.
    expect((await admin('POST', `/admin/held/${b.conversionId}/cancel`, {})).statusCode).toBe(400);
    const cancel = await admin('POST', `/admin/held/${b.conversionId}/cancel`, { reason: 'duplicate refund', actor: 'alice' });
    expect(cancel.statusCode).toBe(200);
    expect(cancel.json().conversion).toMatchObject({ state: 'cancelled', cancelReason: 'duplicate refund' });
    expect((await admin('POST', `/admin/held/${b.conversionId}/release`)).statusCode).toBe(409);
    expect((await admin('POST', `/admin/held/${a.conversionId}/cancel`, { reason: 'too late' })).statusCode).toBe(409);
    expect((await admin('POST', `/admin/held/nope/cancel`, { reason: 'x' })).statusCode).toBe(404);

    const detail = (await admin('GET', `/admin/held/${b.conversionId}`)).json();
    expect(detail.row.state).toBe('cancelled');
    expect(detail.actions.map((x: { action: string; actor: string; outcome: string; reason: string | null }) => [x.action, x.actor, x.outcome, x.reason])).toEqual([
      ['release_now', 'ops@example.com', 'refused: cancelled', null],
      ['cancel', 'alice', 'applied', 'duplicate refund'],
    ]);
    const audit = (await admin('GET', `/admin/actions?conversionId=${a.conversionId}`)).json();
    expect(audit.items.map((x: { action: string; outcome: string }) => [x.action, x.outcome])).toEqual([
      ['cancel', 'refused: released'], ['release_now', 'applied'],
    ]);
    expect((await admin('GET', '/admin/held?integrationId=int_ops')).json().items.map((i: { conversionId: string }) => i.conversionId)).toEqual([c.conversionId]);
  });

  it('serves /healthz, /readyz and /metrics with held count, oldest due and release lateness', async () => {
    expect((await scheduler.app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
    const ready = await scheduler.app.inject({ method: 'GET', url: '/readyz' });
    expect(ready.json()).toEqual({ status: 'ready', checks: { postgres: 'ok', kafka: 'ok', holdConsumer: 'ok' } });
    const m = (await scheduler.app.inject({ method: 'GET', url: '/metrics' })).body;
    const { held } = await stateCounts(db, prefix);
    expect(m).toContain(`scheduler_held_conversions ${held}`);
    expect(Number(/^scheduler_oldest_due_timestamp_seconds (\S+)$/m.exec(m)?.[1])).toBeGreaterThan(Date.now() / 1000);
    expect(Number(/^scheduler_release_lateness_seconds_count (\d+)$/m.exec(m)?.[1])).toBeGreaterThanOrEqual(52);
    expect(m).toContain('scheduler_lanes_owned 12');
    // The hold consumer read everything: its lag is 0 on every partition it has seen.
    const lags = [...m.matchAll(/^scheduler_consumer_lag\{topic="([^"]+)",partition="\d+"\} (\d+)$/gm)];
    expect(lags.length).toBeGreaterThan(0);
    expect(lags.every(([, topic, lag]) => topic === `${prefix}conversions.v1` && lag === '0')).toBe(true);
  });
});
