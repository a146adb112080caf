import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** Ingest's Prometheus metrics, on a registry of its own (several instances may share a process in tests). */
export const createIngestMetrics = (pending: () => number) => {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'ingest_' });
  return {
    registry,
    requests: new Counter({ name: 'ingest_requests_total', help: 'Webhook requests by HTTP status', labelNames: ['status'], registers: [registry] }),
    verifyFailures: new Counter({ name: 'ingest_verify_failures_total', help: 'Rejected webhooks by reason', labelNames: ['reason'], registers: [registry] }),
    produceLatency: new Histogram({
      name: 'ingest_produce_latency_seconds', help: 'Time for Kafka to acknowledge one batch (acks=all)', labelNames: ['outcome'],
      buckets: [0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5], registers: [registry],
    }),
    batchSize: new Histogram({ name: 'ingest_produce_batch_size', help: 'Records per produce request', buckets: [1, 2, 5, 10, 25, 50, 100, 250, 500], registers: [registry] }),
    producerRenewals: new Counter({ name: 'ingest_producer_renewals_total', help: 'Idempotent producers replaced after a failed send', registers: [registry] }),
    pending: new Gauge({ name: 'ingest_pending_events', help: 'Events waiting for a Kafka acknowledgement', registers: [registry], collect() { this.set(pending()); } }),
  };
};
export type IngestMetrics = ReturnType<typeof createIngestMetrics>;
