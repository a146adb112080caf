import { topicName } from '@sas/contracts';
import { chunkTopicMessages, rawEventRecord, type DurableProducer } from '@sas/runtime';
import type { ListedStripeEvent } from './stripeEventSource.js';

/**
 * Stripe lists newest first; a page is written oldest first, so the events of one customer
 * that share a page (customer, checkout, first invoice) reach the mapper in the order they
 * happened. Pages still go from the newest to the oldest, as Stripe hands them out: across
 * pages the mapper takes events in any order, as it does webhooks (Stripe orders neither).
 */
export const inWriteOrder = <E>(page: readonly E[]): E[] => [...page].reverse();

/** Sends stay well under the broker's 1 MiB message.max.bytes, as the mapper's do. */
const MAX_SEND_BYTES = 512 * 1024;

/**
 * Writes a page of listed events to stripe.events.v1 exactly as ingest writes verified
 * webhooks (same record builder: key, bytes, headers), plus the run's header. Resolves only
 * once the broker acknowledged every record (idempotent producer, acks from all replicas).
 */
export const createEventWriter = (p: { producer: DurableProducer; topicPrefix: string; integrationId: string; runId: string; now?: () => number }) => {
  const topic = topicName('stripeEvents', p.topicPrefix);
  const now = p.now ?? Date.now;
  return async (events: readonly ListedStripeEvent[]): Promise<number> => {
    const receivedAtMs = now();
    const messages = inWriteOrder(events).map((e) => rawEventRecord({ integrationId: p.integrationId, raw: e.raw, event: e.event, receivedAtMs, backfillRunId: p.runId }));
    for (const chunk of chunkTopicMessages([{ topic, messages }], MAX_SEND_BYTES)) {
      await p.producer.sendBatch({ topicMessages: chunk, acks: -1 });
    }
    return messages.length;
  };
};
