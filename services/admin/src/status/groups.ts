import { topicName, type TopicId } from '@sas/contracts';

/** One service's consumer group and the topics it reads. */
export interface ConsumerGroupSpec {
  readonly service: 'mapper' | 'scheduler' | 'dispatcher';
  readonly groupId: string;
  readonly topics: readonly string[];
}

/**
 * The services' consumer groups as their configuration names them (same variables, same
 * defaults: services/mapper/src/config.ts, scheduler, dispatcher). Only the scheduler puts
 * the topic prefix in front of its group id.
 */
export const consumerGroups = (env: {
  KAFKA_TOPIC_PREFIX: string; MAPPER_GROUP_ID?: string; SCHEDULER_GROUP_ID?: string; DISPATCHER_GROUP_ID?: string;
}): ConsumerGroupSpec[] => {
  const t = (id: TopicId) => topicName(id, env.KAFKA_TOPIC_PREFIX);
  return [
    { service: 'mapper', groupId: env.MAPPER_GROUP_ID ?? 'mapper', topics: [t('stripeEvents')] },
    { service: 'scheduler', groupId: `${env.KAFKA_TOPIC_PREFIX}${env.SCHEDULER_GROUP_ID ?? 'scheduler'}`, topics: [t('conversions')] },
    { service: 'dispatcher', groupId: env.DISPATCHER_GROUP_ID ?? 'dispatcher', topics: [t('conversions'), t('conversionsDue')] },
  ];
};
