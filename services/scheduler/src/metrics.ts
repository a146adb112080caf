import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export interface HoldStats {
  readonly held: number;
  readonly oldestDue: number | null;
  readonly releasing: number;
  readonly unknown: number;
}

/** The scheduler's Prometheus metrics, on a registry of its own (several instances may share a process in tests). */
export const createSchedulerMetrics = (stats: () => Promise<HoldStats>, now: () => number = Date.now) => {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'scheduler_' });
  // One query per scrape feeds all three gauges.
  let pending: Promise<HoldStats> | null = null;
  const snapshot = () => {
    pending ??= stats().finally(() => setTimeout(() => { pending = null; }, 0));
    return pending;
  };
  return {
    registry,
    held: new Gauge({
      name: 'scheduler_held_conversions', help: 'Conversions held, waiting for their notBefore', registers: [registry],
      async collect() { this.set((await snapshot()).held); },
    }),
    releasing: new Gauge({
      name: 'scheduler_releasing_conversions', help: 'Conversions claimed by a lane whose release transaction is not confirmed yet', registers: [registry],
      async collect() { this.set((await snapshot()).releasing); },
    }),
    unknown: new Gauge({
      name: 'scheduler_unknown_conversions', help: 'Conversions whose release is unknown (release marker lost), waiting for an operator', registers: [registry],
      async collect() { this.set((await snapshot()).unknown); },
    }),
    oldestDue: new Gauge({
      name: 'scheduler_oldest_due_timestamp_seconds', help: 'When the oldest held conversion is due (epoch seconds; 0 when none is held)', registers: [registry],
      async collect() { const s = await snapshot(); this.set(s.oldestDue === null ? 0 : s.oldestDue / 1000); },
    }),
    overdue: new Gauge({
      name: 'scheduler_oldest_overdue_seconds', help: 'How long the oldest held conversion is past due (0 when none is)', registers: [registry],
      async collect() { const s = await snapshot(); this.set(s.oldestDue === null ? 0 : Math.max(0, (now() - s.oldestDue) / 1000)); },
    }),
    lateness: new Histogram({
      name: 'scheduler_release_lateness_seconds', help: 'Release transaction committed minus notBefore',
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300, 3600], registers: [registry],
    }),
    released: new Counter({ name: 'scheduler_released_total', help: 'Conversions released to conversions.due.v1', registers: [registry] }),
    holds: new Counter({ name: 'scheduler_holds_total', help: 'Held conversions read from conversions.v1, new or already known (replay, redelivery)', labelNames: ['result'], registers: [registry] }),
    skipped: new Counter({ name: 'scheduler_skipped_records_total', help: 'Records on conversions.v1 that are not a decodable conversion', registers: [registry] }),
    recoveries: new Counter({ name: 'scheduler_lane_recoveries_total', help: 'Batches found half-done by a lane, by outcome', labelNames: ['outcome'], registers: [registry] }),
    purged: new Counter({ name: 'scheduler_purged_total', help: 'Released and cancelled rows deleted after the retention', registers: [registry] }),
    lanesOwned: new Gauge({ name: 'scheduler_lanes_owned', help: 'Release lanes this instance holds', registers: [registry] }),
    operatorActions: new Counter({ name: 'scheduler_operator_actions_total', help: 'Operator actions by action and outcome', labelNames: ['action', 'outcome'], registers: [registry] }),
    consumerLag: new Gauge({
      name: 'scheduler_consumer_lag', help: 'Records of conversions.v1 not yet read by the hold consumer (high watermark - 1 - last offset of the latest batch), per partition',
      labelNames: ['topic', 'partition'], registers: [registry],
    }),
  };
};
export type SchedulerMetrics = ReturnType<typeof createSchedulerMetrics>;
