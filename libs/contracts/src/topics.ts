/** Every Kafka topic of the system. Nothing else in the repo spells a topic name. */
export const Topics = {
  /** Stripe's webhook bodies, byte for byte, as verified by ingest. */
  stripeEvents: 'stripe.events.v1',
  /** Partner-agnostic conversions (Avro, Confluent wire format). */
  conversions: 'conversions.v1',
  /** Conversions whose hold has ended, released by the scheduler. */
  conversionsDue: 'conversions.due.v1',
  /** One record per dispatch attempt. */
  dispatchOutcomes: 'dispatch.outcomes.v1',
  /** Conversions a destination would not take after the last try. */
  dispatchDeadLetters: 'dispatch.dlq.v1',
  /** Raw events the mapper could not map (poison), with the reason. */
  mapperDeadLetters: 'mapper.dlq.v1',
  /** Dispatch attempts waiting for their next try, so a failing partner blocks no partition. */
  dispatchRetries: 'dispatch.retry.v1',
} as const;

export type TopicId = keyof typeof Topics;

export interface TopicSpec {
  readonly name: string;
  readonly partitions: number;
  readonly config: Readonly<Record<string, string>>;
}

/**
 * Partition counts are fixed at creation (keys hash onto them), so they are picked for the
 * largest consumer group expected: one partition per consumer instance at most.
 */
const partitionsOf: Record<TopicId, number> = {
  stripeEvents: 12,
  conversions: 12,
  conversionsDue: 12,
  dispatchOutcomes: 6,
  dispatchDeadLetters: 3,
  mapperDeadLetters: 3,
  dispatchRetries: 6,
};

/**
 * A prefix lets several deployments (or test runs) share one cluster without sharing topics.
 * It is the only way a topic name varies.
 */
export const topicName = (id: TopicId, prefix = ''): string => `${prefix}${Topics[id]}`;

export const topicSpecs = (prefix = '', retentionMs = 30 * 24 * 3600 * 1000): TopicSpec[] =>
  (Object.keys(Topics) as TopicId[]).map((id) => ({
    name: topicName(id, prefix),
    partitions: partitionsOf[id],
    config: {
      // Stripe keeps events 30 days; replay and backfill are promised over the same window.
      'retention.ms': String(retentionMs),
      'cleanup.policy': 'delete',
      // A mapper dead letter carries the raw event (up to ingest's 1 MiB body) in base64: room
      // for it, so a poison event can always be parked and the partition move on.
      ...(id === 'mapperDeadLetters' ? { 'max.message.bytes': String(4 * 1024 * 1024) } : {}),
    },
  }));

/** The services' consumer groups: the name a deployment may override, and the id used on the cluster. */
export const ConsumerGroups = { mapper: 'mapper', scheduler: 'scheduler', dispatcher: 'dispatcher' } as const;

/**
 * Like topics, group ids carry the deployment's prefix: two deployments sharing a cluster with
 * different prefixes must not join one group (members subscribed to different topics would
 * be handed each other's partitions).
 */
export const consumerGroupId = (name: string, prefix = ''): string => `${prefix}${name}`;
