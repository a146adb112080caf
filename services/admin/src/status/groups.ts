import { ConsumerGroups, consumerGroupId, topicName, type TopicId } from '@sas/contracts';

/** One service's consumer group and the topics it reads. */
export interface ConsumerGroupSpec {
  readonly service: 'mapper' | 'scheduler' | 'dispatcher';
  readonly groupId: string;
  readonly topics: readonly string[];
}

/**
 * The services' consumer groups as their configuration names them (same variables, same
 * defaults: services/mapper/src/config.ts, scheduler, dispatcher), each prefixed with
 * KAFKA_TOPIC_PREFIX like the topics (libs/contracts consumerGroupId).
 */
export const consumerGroups = (env: {
  KAFKA_TOPIC_PREFIX: string; MAPPER_GROUP_ID?: string; SCHEDULER_GROUP_ID?: string; DISPATCHER_GROUP_ID?: string;
}): ConsumerGroupSpec[] => {
  const t = (id: TopicId) => topicName(id, env.KAFKA_TOPIC_PREFIX);
  const g = (name: string) => consumerGroupId(name, env.KAFKA_TOPIC_PREFIX);
  return [
    { service: 'mapper', groupId: g(env.MAPPER_GROUP_ID ?? ConsumerGroups.mapper), topics: [t('stripeEvents')] },
    { service: 'scheduler', groupId: g(env.SCHEDULER_GROUP_ID ?? ConsumerGroups.scheduler), topics: [t('conversions')] },
    { service: 'dispatcher', groupId: g(env.DISPATCHER_GROUP_ID ?? ConsumerGroups.dispatcher), topics: [t('conversions'), t('conversionsDue')] },
  ];
};
