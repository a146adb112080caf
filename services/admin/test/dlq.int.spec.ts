import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { invoicePaidEvent, runSas, uniqueId, waitFor } from '@sas/testkit';
import type { DeadLetterEntry } from '../src/dlq/entries.js';
import type { DeadLetterReport } from '../src/dlq/readDeadLetters.js';
import type { DeadLetterDetail } from '../src/dlq/inspect.js';
import type { RequeueResult } from '../src/dlq/actions.js';
import { startPipeline, type Pipeline } from './replayPipeline.js';

/**
 * `sas dlq` as an operator types it, against the real mapper and dispatcher: a partner that
 * fails dead-letters two sales; once it is fixed one is requeued (credited once, and a second
 * requeue sends nothing) and the other dropped with a reason. An event for an integration
 * that did not exist yet is dead-lettered by the mapper, requeued once it exists, mapped once.
 */
describe('sas dlq', () => {
  let p: Pipeline;
  const integrationId = uniqueId('int_dlq_');
  const destination = `${integrationId}_wh`;
  const sas = (...args: string[]) => runSas(args, p.cliEnv);

  beforeAll(async () => {
    p = await startPipeline('dlq');
    await p.createIntegration(integrationId, [destination]);
  });
  afterAll(async () => {
    await p?.stop();
  });

  const requeued = invoicePaidEvent({ clickId: 'clk_requeue' });
  const dropped = invoicePaidEvent({ clickId: 'clk_drop' });
  const entries = new Map<string, DeadLetterEntry>();

  it('lists deliveries a failing partner would not take, with the reason, and inspects one', async () => {
    p.stub.setFaults({ errorRate: 1 });
    await p.sendRaw(integrationId, [requeued, dropped]);
    // The dead letter is written before the ledger row is settled failed.
    for (const e of [requeued, dropped]) {
      await waitFor(async () => ((await p.ledgerStatus(integrationId, destination, e.data.object.id)) === 'failed' ? true : undefined), { what: 'dead-lettered', timeoutMs: 20_000 });
    }
    p.stub.setFaults({});

    const list = await sas('--json', 'dlq', 'list', '--integration', integrationId);
    expect(list.code, list.stderr).toBe(0);
    const open = list.json<DeadLetterReport>().entries;
    expect(open.map((e) => [e.source, e.destinationId, e.attempts, e.state])).toEqual([['dispatcher', destination, 2, 'open'], ['dispatcher', destination, 2, 'open']]);
    expect(open[0]!.reason).toMatch(/HTTP 50[023]/);
    expect(open[0]!.id).toMatch(/^dispatcher:\d+:\d+$/);
    const { rows } = await p.pool.query<{ order_id: string; conversion_id: string }>(
      `SELECT order_id, conversion_id FROM dispatch_ledger WHERE integration_id = $1`, [integrationId]);
    for (const r of rows) entries.set(r.order_id, open.find((e) => e.conversionId === r.conversion_id)!);

    const inspect = await sas('--json', 'dlq', 'inspect', entries.get(requeued.data.object.id)!.id);
    expect(inspect.code, inspect.stderr).toBe(0);
    expect(inspect.json<DeadLetterDetail>()).toMatchObject({
      entry: { integrationId, destinationId: destination, action: 'credit' },
      conversion: { orderId: requeued.data.object.id, kind: 'SALE_FIRST' },
      ledger: { status: 'failed', attempts: 2 },
    });
  });

  it('requeued after the fix, a dead letter is credited once; requeued again, nothing is sent', async () => {
    const id = entries.get(requeued.data.object.id)!.id;
    const first = await sas('--json', 'dlq', 'requeue', id);
    expect(first.code, first.stderr).toBe(0);
    expect(first.json<{ results: RequeueResult[] }>().results[0]).toMatchObject({ id, result: 'requeued' });
    await waitFor(async () => ((await p.ledgerStatus(integrationId, destination, requeued.data.object.id)) === 'sent' ? true : undefined), { what: 'sent after requeue', timeoutMs: 20_000 });
    expect(p.deliveriesOf(requeued.data.object.id)).toBe(1);

    const again = await sas('dlq', 'requeue', id);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toMatch(/already credited, nothing to do/);
    expect(p.deliveriesOf(requeued.data.object.id)).toBe(1);
    expect(p.stub.book.deduped).toBe(0); // no request reached the partner twice
  });

  it('a drop needs a reason, leaves the open list, and is never sent', async () => {
    const id = entries.get(dropped.data.object.id)!.id;
    const noReason = await sas('dlq', 'drop', id);
    expect(noReason.code).toBe(2);
    expect(noReason.stderr).toMatch(/--reason/);
    const drop = await sas('dlq', 'drop', id, '--reason', 'customer asked us not to credit it');
    expect(drop.code, drop.stderr).toBe(0);

    const after = (await sas('--json', 'dlq', 'list', '--integration', integrationId, '--state', 'all')).json<DeadLetterReport>();
    expect(after.entries.map((e) => [e.id, e.state, e.lastAction?.actor, e.lastAction?.reason])).toEqual(expect.arrayContaining([
      [entries.get(requeued.data.object.id)!.id, 'requeued', 'test-operator', expect.stringMatching(/pending again/)],
      [id, 'dropped', 'test-operator', 'customer asked us not to credit it'],
    ]));
    expect(after.counts.dispatcher).toEqual({ open: 0, requeued: 1, dropped: 1 });
    // Its ledger row stays failed: no replay sends it by itself.
    expect(p.deliveriesOf(dropped.data.object.id)).toBe(0);
    expect(await p.ledgerStatus(integrationId, destination, dropped.data.object.id)).toBe('failed');
  });

  it('requeues a mapper dead letter once its cause is fixed: mapped once', async () => {
    const lateIntegration = uniqueId('int_late_');
    const event = invoicePaidEvent({ clickId: 'clk_late' });
    await p.sendRaw(lateIntegration, [event]);
    // Dead-lettered events are marked handled once their dead letter is written.
    await waitFor(async () => ((await p.pool.query(`SELECT 1 FROM mapper_processed_events WHERE integration_id = $1`, [lateIntegration])).rowCount ? true : undefined),
      { what: 'mapper dead letter', timeoutMs: 20_000 });
    const list = await sas('--json', 'dlq', 'list', '--source', 'mapper', '--integration', lateIntegration);
    expect(list.code, list.stderr).toBe(0);
    const entry = list.json<DeadLetterReport>().entries[0]!;
    expect(entry).toMatchObject({ source: 'mapper', code: 'RAW_ERR_UNKNOWN_INTEGRATION', eventId: event.id, eventType: 'invoice.paid' });
    const detail = (await sas('--json', 'dlq', 'inspect', entry.id)).json<DeadLetterDetail>();
    expect(detail.event).toMatchObject({ id: event.id, type: 'invoice.paid' });
    expect(detail.handled).toBe(true); // dead-lettered events are marked handled

    await p.createIntegration(lateIntegration, [`${lateIntegration}_wh`]);
    const r = await sas('dlq', 'requeue', '--all', '--source', 'mapper', '--integration', lateIntegration);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`${entry.id}: requeued`);
    await waitFor(async () => ((await p.ledgerStatus(lateIntegration, `${lateIntegration}_wh`, event.data.object.id)) === 'sent' ? true : undefined), { what: 'mapped and sent', timeoutMs: 20_000 });
    expect(p.deliveriesOf(event.data.object.id)).toBe(1);
    // Requeued again: handled since, so nothing is written.
    const again = await sas('--json', 'dlq', 'requeue', entry.id);
    expect(again.json<{ results: RequeueResult[] }>().results[0]!.result).toBe('already_requeued');
  });
});
