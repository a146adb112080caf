import { requiresHold, type Conversion } from '@sas/contracts';
import { createLogger, loadDestinations, type Destination } from '@sas/runtime';
import type { Connections } from './connections.js';
import { Expectations, judgeConversion, type Expectation } from './expectations.js';
import { holdStatesOf, ledgerStatuses, plansOf } from './replayConversions.js';
import type { RangeRecord } from './readRange.js';

export interface MappingPreview {
  /** Conversions the mapper would write (ids as it would write them). */
  conversions: number;
  /** Of those, held kinds the scheduler has held before: it holds a conversion id once, so they are sent nowhere again. */
  heldBefore: number;
  /** Events it would dead-letter, by code. */
  deadLetters: Record<string, number>;
  /** Per destination: what its ledger makes of those conversions. */
  destinations: Record<string, Record<Expectation, number>>;
}

/**
 * A dry run of `sas replay events` maps the events as the mapper will (read-only: its state is
 * read, nothing is committed, so handled events map as on a re-emit) and looks their
 * conversions up in the dispatcher's ledger. Events never handled are mapped batch by batch
 * without the effects of earlier batches: close, not exact, for them.
 */
export const createMappingPreview = async (c: Connections, p: { integrationId: string; stripeApiBase: string; nowMs: number }) => {
  const mapper = await import('@sas/mapper');
  const { planDispatch } = await import('@sas/dispatcher');
  const destinations: Destination[] = await loadDestinations(c.pool, c.box, p.integrationId);
  const store = mapper.createMapperStore(c.pool);
  // A Stripe error ends the dry run (isStopping) instead of retrying without end.
  const enricher = mapper.createEnricher({
    apiBase: p.stripeApiBase, timeoutMs: 10_000, cacheMs: 3_600_000, cacheMax: 10_000, log: createLogger('sas', 'silent'), isStopping: () => true,
  });
  const preview: MappingPreview = {
    conversions: 0, heldBefore: 0, deadLetters: {},
    destinations: Object.fromEntries(destinations.map((d) => [d.id, Object.fromEntries(Expectations.map((e) => [e, 0])) as Record<Expectation, number>])),
  };
  const seen = new Set<string>();
  return {
    preview,
    /** One fetched batch of one partition, the integration's records only. */
    add: async (topic: string, partition: number, records: readonly RangeRecord[]) => {
      if (records.length === 0) return;
      const out = await mapper.handleBatch(
        { store, settingsOf: (id) => store.settingsOf(id), enricher, box: c.box, now: () => p.nowMs, enrichConcurrency: 4, duplicates: 'reemit' },
        topic, partition, records.map((r) => ({ value: r.message.value, headers: r.message.headers ?? {}, offset: r.message.offset })),
      );
      for (const d of out.deadLetters) preview.deadLetters[d.code] = (preview.deadLetters[d.code] ?? 0) + 1;
      const fresh = out.conversions.filter((cv: Conversion) => !seen.has(cv.conversionId) && seen.add(cv.conversionId));
      const held = await holdStatesOf(c, fresh.filter((cv) => requiresHold(cv)).map((cv) => cv.conversionId));
      preview.conversions += fresh.length;
      preview.heldBefore += held.size;
      // A held kind never held before is held, released, then meets the ledger like the others.
      const planned = fresh.filter((cv) => !held.has(cv.conversionId)).map((cv) => ({ cv, plans: plansOf(planDispatch, cv, destinations) }));
      const statuses = await ledgerStatuses(c, p.integrationId, planned.flatMap(({ cv, plans }) =>
        plans.flatMap((pl) => ('actionKey' in pl ? [{ destinationId: pl.destinationId, orderId: cv.orderId, actionKey: pl.actionKey }] : []))));
      for (const { cv, plans } of planned) {
        const v = judgeConversion(cv, plans, (d, o, a) => statuses.get(`${d}\u0000${o}\u0000${a}`), { nowMs: p.nowMs, onlyDestination: null, holdState: 'released' });
        for (const [d, e] of Object.entries(v.destinations)) preview.destinations[d]![e]++;
      }
    },
  };
};
