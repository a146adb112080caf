import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import type { DeadLetter, DispatchOutcome } from '@sas/contracts';

export interface LaneStats {
  readonly type: string;
  /** Queued plus in flight. */
  readonly held: number;
  readonly inFlight: number;
  readonly room: number;
  readonly open: boolean;
}

/**
 * The dispatcher's Prometheus metrics, on a registry of its own (several instances may share a
 * process in tests). Outcomes are counted per destination, type and status: a destination's
 * success rate is sent+duplicate over everything but skipped and dry_run (see README, Metrics).
 */
export const createDispatcherMetrics = (lanes: () => Record<string, LaneStats>) => {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'dispatcher_' });
  const outcomes = new Counter({
    name: 'dispatcher_outcomes_total', help: 'Dispatch outcomes written to dispatch.outcomes.v1, by destination, destination type and status',
    labelNames: ['destination', 'destination_type', 'status'], registers: [registry],
  });
  const deadLetters = new Counter({
    name: 'dispatcher_dead_letters_total', help: 'Conversions written to dispatch.dlq.v1, by destination',
    labelNames: ['destination'], registers: [registry],
  });
  const lag = new Gauge({
    name: 'dispatcher_consumer_lag', help: 'Records of the partition not yet consumed by this instance (high watermark - 1 - last offset of the latest batch)',
    labelNames: ['topic', 'partition'], registers: [registry],
  });
  // One scrape reads the lanes once for the three lane gauges.
  let snapshot: Record<string, LaneStats> | null = null;
  const lanesNow = () => {
    if (!snapshot) {
      snapshot = lanes();
      setTimeout(() => { snapshot = null; }, 0);
    }
    return snapshot;
  };
  const laneGauge = (name: string, help: string, value: (s: LaneStats) => number) => new Gauge({
    name, help, labelNames: ['destination', 'destination_type'], registers: [registry],
    collect() {
      this.reset();
      for (const [destination, s] of Object.entries(lanesNow())) this.set({ destination, destination_type: s.type }, value(s));
    },
  });
  laneGauge('dispatcher_lane_queued', 'Jobs waiting in the destination\'s lane (in memory, this instance)', (s) => s.held - s.inFlight);
  laneGauge('dispatcher_lane_in_flight', 'Requests to the destination in flight (this instance)', (s) => s.inFlight);
  laneGauge('dispatcher_lane_breaker_open', '1 while the destination\'s circuit breaker is open', (s) => (s.open ? 1 : 0));

  // Labelled children cached: one map lookup per outcome on the hot path instead of prom-client's label hashing.
  const outcomeChildren = new Map<string, Counter.Internal>();
  return {
    registry,
    outcome: (o: Pick<DispatchOutcome, 'destinationId' | 'destinationType' | 'status'>) => {
      const k = `${o.destinationId}\u0000${o.status}`;
      let child = outcomeChildren.get(k);
      if (!child) {
        child = outcomes.labels({ destination: o.destinationId, destination_type: o.destinationType, status: o.status });
        outcomeChildren.set(k, child);
      }
      child.inc();
    },
    deadLetter: (d: Pick<DeadLetter, 'destinationId'>) => deadLetters.inc({ destination: d.destinationId }),
    lag: (topic: string, partition: number, offsetLag: string) => lag.set({ topic, partition: String(partition) }, Number(offsetLag)),
    /** After a rebalance: partitions this instance no longer reads must not keep reporting their last lag. */
    resetLag: () => lag.reset(),
  };
};
export type DispatcherMetrics = ReturnType<typeof createDispatcherMetrics>;
