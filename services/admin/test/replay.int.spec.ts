import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { invoicePaidEvent, runSas, uniqueId, waitFor } from '@sas/testkit';
import type { ConversionReplayReport } from '../src/replay/replayConversions.js';
import type { EventReplayReport } from '../src/replay/replayEvents.js';
import { startPipeline, type Pipeline } from './replayPipeline.js';

/**
 * `sas replay` as an operator types it, against the real mapper and dispatcher: after a sale
 * was credited, a dry run says so per destination and writes nothing; the real replays (of
 * conversions, and of raw events, which the mapper re-emits) credit nothing twice; a
 * destination added afterwards is sent the sale once.
 */
describe('sas replay', () => {
  let p: Pipeline;
  const integrationId = uniqueId('int_rpl_');
  const first = `${integrationId}_a`;
  const added = `${integrationId}_b`;
  const sale = invoicePaidEvent({ clickId: 'clk_replay' });
  const orderId = sale.data.object.id;
  let since: string;
  const sas = (...args: string[]) => runSas(args, p.cliEnv);
  /** How many times the dispatcher's ledger answered duplicate for the sale at a destination (undefined: none yet). */
  const duplicatesAt = (destinationId: string) =>
    p.outcomes.filter((o) => o.orderId === orderId && o.destinationId === destinationId && o.status === 'duplicate').length || undefined;

  beforeAll(async () => {
    p = await startPipeline('rpl');
    await p.createIntegration(integrationId, [first]);
    // No look-back: the producers stamp CreateTime when they send, on this process's clock.
    since = new Date().toISOString();
    await p.sendRaw(integrationId, [sale]);
    await waitFor(async () => ((await p.ledgerStatus(integrationId, first, orderId)) === 'sent' ? true : undefined), { what: 'credited', timeoutMs: 20_000 });
  });
  afterAll(async () => {
    await p?.stop();
  });

  it('a dry run says "already credited" per destination and writes nothing; the replay credits nothing twice', async () => {
    const before = await p.endOffsets('conversionsDue');
    const dry = await sas('--json', 'replay', 'conversions', integrationId, '--from', since, '--dry-run');
    expect(dry.code, dry.stderr).toBe(0);
    const report = dry.json<ConversionReplayReport>();
    expect(report).toMatchObject({ dryRun: true, matched: 1, resent: 1, destinations: { [first]: { already_credited: 1, would_send: 0 } } });
    expect(report.groupId).toMatch(new RegExp(`^sas-replay-${integrationId}-`));
    expect(report.conversions[0]).toMatchObject({ orderId, kind: 'SALE_FIRST', destinations: { [first]: 'already_credited' } });
    expect(await p.endOffsets('conversionsDue')).toBe(before);

    const real = await sas('replay', 'conversions', integrationId, '--from', since);
    expect(real.code, real.stderr).toBe(0);
    expect(real.stdout).toMatch(/1 re-sent/);
    expect(real.stdout).toMatch(new RegExp(`${first}: 1 already credited`));
    expect(await p.endOffsets('conversionsDue')).not.toBe(before);
    // The dispatcher read it again and its ledger answered duplicate: the stub saw no second request.
    await waitFor(() => duplicatesAt(first), { what: 'duplicate outcome', timeoutMs: 20_000 });
    expect(await p.ledgerStatus(integrationId, first, orderId)).toBe('sent');
    expect(p.deliveriesOf(orderId)).toBe(1);
    expect(p.stub.book.deduped).toBe(0);
  });

  it('a destination added afterwards is sent the sale once', async () => {
    await p.addDestination(integrationId, added);
    const dry = (await sas('--json', 'replay', 'conversions', integrationId, '--from', since, '--destination', added, '--dry-run')).json<ConversionReplayReport>();
    expect(dry.destinations).toEqual({ [added]: expect.objectContaining({ would_send: 1 }) });
    const r = await sas('--json', 'replay', 'conversions', integrationId, '--from', since, '--destination', added);
    expect(r.code, r.stderr).toBe(0);
    await waitFor(async () => ((await p.ledgerStatus(integrationId, added, orderId)) === 'sent' ? true : undefined), { what: 'added destination credited', timeoutMs: 20_000 });
    expect(p.deliveriesOf(orderId)).toBe(2); // one per destination
  });

  it('replaying raw events re-emits the same conversion ids, and nothing is credited twice', async () => {
    const ev = await sas('--json', 'replay', 'events', integrationId, '--from', since);
    expect(ev.code, ev.stderr).toBe(0);
    const report = ev.json<EventReplayReport>();
    expect(report).toMatchObject({ matched: 1, resent: 1, eventTypes: { 'invoice.paid': { events: 1, handled: 1 } } });
    // The mapper drops duplicates (MAPPER_DUPLICATE_EVENTS=drop) but re-emits a replayed event:
    // the same conversion id reaches the dispatcher again, whose ledger answers duplicate.
    await waitFor(() => (duplicatesAt(first)! >= 2 && duplicatesAt(added) ? true : undefined), { what: 're-emitted conversion answered duplicate', timeoutMs: 20_000 });
    expect(p.deliveriesOf(orderId)).toBe(2);
    expect(p.stub.book.deduped).toBe(0);
    // The same records by offset, as read off the report: the first replay's copy (same
    // partition, after the original) is left out, and a dry run writes nothing.
    const { partition, from } = report.ranges.find((r) => BigInt(r.from) < BigInt(r.to))!;
    const before = await p.endOffsets('stripeEvents');
    const again = await sas('--json', 'replay', 'events', integrationId, '--partition', String(partition), '--from-offset', from, '--dry-run');
    expect(again.code, again.stderr).toBe(0);
    expect(again.json<EventReplayReport>()).toMatchObject({
      matched: 2, resent: 1, skipped: { 'written by an earlier replay': 1 },
      // Mapped read-only as the mapper would: the sale, which both destinations' ledgers have.
      preview: { conversions: 1, deadLetters: {}, destinations: { [first]: { already_credited: 1, would_send: 0 }, [added]: { already_credited: 1, would_send: 0 } } },
    });
    expect(await p.endOffsets('stripeEvents')).toBe(before);
  });

  it('a held conversion is re-sent only once the scheduler released it: one an operator cancelled is never sent', async () => {
    // Its own integration, made per try, and a range from now: no earlier test's records (nor
    // a previous try's) are in it.
    const own = uniqueId('int_rpl_held_');
    const [ownFirst, ownAdded] = [`${own}_a`, `${own}_b`];
    await p.createIntegration(own, [ownFirst, ownAdded]);
    const { rows } = await p.pool.query<{ frame: Buffer }>(
      `SELECT conversion_frame AS frame FROM dispatch_ledger WHERE integration_id = $1 AND destination_id = $2`, [integrationId, first]);
    const sale = await p.decode(rows[0]!.frame);
    // Two sales of a held kind whose hold is over (the scheduler is not running here: its rows are written as it would).
    const now = Date.now();
    const held = (tag: string) => ({
      ...sale, integrationId: own, conversionId: uniqueId(`cnv_${tag}_`), orderId: uniqueId(`in_${tag}_`), receivedAt: now - 7_200_000, notBefore: now - 3_600_000,
    });
    const cancelled = held('cancelled');
    const released = held('released');
    const from = new Date().toISOString();
    const frames = await p.sendConversions([cancelled, released]);
    for (const [c, state, i] of [[cancelled, 'cancelled', 0], [released, 'released', 1]] as const) {
      await p.pool.query(
        `INSERT INTO held_conversions (namespace, conversion_id, integration_id, customer_id, not_before, record_key, record_value, state, lane, release_after)
         VALUES ($1, $2, $3, $4, to_timestamp($5 / 1000.0), 'k', $6, $7, 0, now())`,
        [p.prefix, c.conversionId, own, c.customerId, c.notBefore, frames[i], state]);
    }
    const r = await sas('--json', 'replay', 'conversions', own, '--from', from);
    expect(r.code, r.stderr).toBe(0);
    expect(r.json<ConversionReplayReport>()).toMatchObject({ matched: 2, resent: 1, skipped: { 'cancelled in the scheduler: never sent': 1 } });
    await waitFor(async () => ((await p.ledgerStatus(own, ownAdded, released.orderId)) === 'sent' && (await p.ledgerStatus(own, ownFirst, released.orderId)) === 'sent' ? true : undefined),
      { what: 'released sale credited', timeoutMs: 20_000 });
    expect(p.deliveriesOf(released.orderId)).toBe(2);
    expect(p.deliveriesOf(cancelled.orderId)).toBe(0);
    expect(await p.ledgerStatus(own, ownFirst, cancelled.orderId)).toBeUndefined();
  });
});
