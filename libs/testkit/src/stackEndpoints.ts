import { inject } from 'vitest';

/** Where the real stack runs, as the vitest global setup found or started it. */
export interface StackEndpoints {
  readonly kafkaBrokers: string;
  readonly schemaRegistryUrl: string;
  readonly databaseUrl: string;
  readonly stripeApiBase: string;
  readonly source: 'environment' | 'testcontainers' | 'native';
  /** Kafka's jars, when the native stack fetched them: chaos tests start private brokers from them. */
  readonly kafkaLibs: string | null;
}

declare module 'vitest' {
  export interface ProvidedContext {
    stack: StackEndpoints;
  }
}

export const stackEndpoints = (): StackEndpoints => inject('stack');

/** Environment for a service under test: the stack plus a private topic prefix and test secrets. */
export const serviceEnv = (topicPrefix: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv => {
  const s = stackEndpoints();
  return {
    KAFKA_BROKERS: s.kafkaBrokers,
    SCHEMA_REGISTRY_URL: s.schemaRegistryUrl,
    DATABASE_URL: s.databaseUrl,
    STRIPE_API_BASE: s.stripeApiBase,
    KAFKA_TOPIC_PREFIX: topicPrefix,
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'warn',
    SECRETS_KEY: TEST_SECRETS_KEY,
    ...extra,
  };
};

/** A fixed key for tests only; production keys come from the environment. */
export const TEST_SECRETS_KEY = Buffer.alloc(32, 7).toString('base64');

export const uniqueId = (prefix: string): string => `${prefix}${Date.now().toString(36)}${Math.random().toString(36).slice(2, 7)}`;
