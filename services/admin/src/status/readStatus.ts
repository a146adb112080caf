import type { Kafka } from 'kafkajs';
import { topicName } from '@sas/contracts';
import type { Pool } from '@sas/runtime';
import { readDeadLetters } from '../dlq/readDeadLetters.js';
import type { ConsumerGroupSpec } from './groups.js';
import { fetchGroupLags } from './lag.js';
import { dispatchByDestination, heldOf, integrationExists } from './queries.js';
import { withRates, type StatusReport } from './report.js';
import { scrapeMetrics } from './scrape.js';

export interface StatusDeps {
  readonly kafka: Kafka;
  readonly pool: Pool;
  /** The deployment's KAFKA_TOPIC_PREFIX: topic names, the ledger's scope, the scheduler's namespace. */
  readonly prefix: string;
  readonly groups: readonly ConsumerGroupSpec[];
  readonly now: () => number;
  /** Services' /metrics to add to the report (optional). */
  readonly metricsUrls?: readonly string[];
}

/** Everything `sas status` shows for one integration; null when there is no such integration. */
export const readStatus = async (deps: StatusDeps, integrationId: string): Promise<StatusReport | null> => {
  const integration = await integrationExists(deps.pool, integrationId);
  if (!integration) return null;
  const admin = deps.kafka.admin();
  await admin.connect();
  try {
    // Before any service has started, the dead-letter topics do not exist yet: nothing is open.
    const topics = new Set(await admin.listTopics());
    const dlqTopics = [topicName('mapperDeadLetters', deps.prefix), topicName('dispatchDeadLetters', deps.prefix)];
    const none = { open: 0, requeued: 0, dropped: 0 };
    const [consumerLag, dispatch, heldRefunds, dead] = await Promise.all([
      fetchGroupLags(admin, deps.groups),
      dispatchByDestination(deps.pool, integrationId, deps.prefix),
      heldOf(deps.pool, integrationId, deps.prefix),
      dlqTopics.every((t) => topics.has(t))
        ? readDeadLetters({ kafka: deps.kafka, pool: deps.pool, prefix: deps.prefix }, { integrationId })
        : { counts: { mapper: none, dispatcher: none } },
    ]);
    const metrics = deps.metricsUrls?.length ? await scrapeMetrics(deps.metricsUrls, dispatch.map((d) => d.destinationId)) : undefined;
    return {
      integration: { id: integrationId, ...integration }, topicPrefix: deps.prefix, generatedAt: new Date(deps.now()).toISOString(),
      consumerLag, dispatch: withRates(dispatch), heldRefunds, deadLetters: dead.counts, ...(metrics ? { metrics } : {}),
    };
  } finally {
    await admin.disconnect();
  }
};
