import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { Conversion, MapperDeadLetter } from '@sas/contracts';

export const EventOutcomes = ['mapped', 'duplicate', 'unhandled', 'dead_lettered'] as const;
export type EventOutcome = (typeof EventOutcomes)[number];

/**
 * What one batch did with its events: mapped (produced at least one conversion), duplicate
 * (an event id already handled), unhandled (nothing to produce: a type or state the mapper
 * ignores) and dead_lettered. Conversions carry their source event id, so an event with
 * output is counted without touching the per-event path. With 'reemit', duplicates produce
 * output too and are taken off the mapped count.
 */
export const batchOutcomeCounts = (
  events: number,
  out: { readonly conversions: readonly Pick<Conversion, 'integrationId' | 'sourceEventIds'>[]; readonly deadLetters: readonly unknown[]; readonly duplicates: number },
  duplicatesMode: 'reemit' | 'drop',
): Record<EventOutcome, number> => {
  // An event's conversions are pushed together (handleBatch maps events in order), so events
  // with output are the runs of equal source event ids: no set, no string keys.
  let producing = 0;
  let prev: Pick<Conversion, 'integrationId' | 'sourceEventIds'> | null = null;
  for (const c of out.conversions) {
    if (!prev || prev.sourceEventIds[0] !== c.sourceEventIds[0] || prev.integrationId !== c.integrationId) producing++;
    prev = c;
  }
  const rest = Math.max(0, events - out.deadLetters.length - out.duplicates);
  const mapped = Math.min(rest, Math.max(0, producing - (duplicatesMode === 'reemit' ? out.duplicates : 0)));
  return { mapped, duplicate: out.duplicates, unhandled: rest - mapped, dead_lettered: out.deadLetters.length };
};

/** Counts per value of one field, so a batch makes one counter call per label value. */
export const countBy = <T>(items: readonly T[], keyOf: (t: T) => string): Map<string, number> => {
  const counts = new Map<string, number>();
  for (const t of items) {
    const k = keyOf(t);
    counts.set(k, (counts.get(k) ?? 0) + 1);
  }
  return counts;
};

/** The mapper's Prometheus metrics, on a registry of its own (several instances may share a process in tests). */
export const createMapperMetrics = () => {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'mapper_' });
  const events = new Counter({ name: 'mapper_events_total', help: 'Raw Stripe events consumed, by outcome', labelNames: ['outcome'], registers: [registry] });
  const conversions = new Counter({ name: 'mapper_conversions_total', help: 'Conversions produced to conversions.v1, by kind', labelNames: ['kind'], registers: [registry] });
  const deadLetters = new Counter({ name: 'mapper_dead_letters_total', help: 'Raw events written to mapper.dlq.v1, by error code', labelNames: ['code'], registers: [registry] });
  const batchDuration = new Histogram({
    name: 'mapper_batch_duration_seconds', help: 'One batch of one partition: map, produce, commit',
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30], registers: [registry],
  });
  const lag = new Gauge({
    name: 'mapper_consumer_lag', help: 'Records of the partition not yet consumed by this instance (high watermark - 1 - last offset of the latest batch)',
    labelNames: ['topic', 'partition'], registers: [registry],
  });
  for (const o of EventOutcomes) events.inc({ outcome: o }, 0);
  return {
    registry,
    /** One call per batch, after its offsets are resolved. */
    batch: (p: {
      events: number; seconds: number; duplicatesMode: 'reemit' | 'drop';
      conversions: readonly Conversion[]; deadLetters: readonly MapperDeadLetter[]; duplicates: number;
    }) => {
      for (const [outcome, n] of Object.entries(batchOutcomeCounts(p.events, p, p.duplicatesMode))) if (n > 0) events.inc({ outcome }, n);
      for (const [kind, n] of countBy(p.conversions, (c) => c.kind)) conversions.inc({ kind }, n);
      for (const [code, n] of countBy(p.deadLetters, (d) => d.code)) deadLetters.inc({ code }, n);
      batchDuration.observe(p.seconds);
    },
    lag: (topic: string, partition: number, offsetLag: string) => lag.set({ topic, partition: String(partition) }, Number(offsetLag)),
    /** After a rebalance: partitions this instance no longer reads must not keep reporting their last lag. */
    resetLag: () => lag.reset(),
  };
};
export type MapperMetrics = ReturnType<typeof createMapperMetrics>;
