import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { baseEnv, createConversionCodec, createFrameRewriter, createKafka, createLogger, createPool, createSecretBox, parseKey, registryEnv, type ConversionCodec, type FrameRewriter, type Pool, type SecretBox } from '@sas/runtime';
import type { Kafka } from 'kafkajs';

/** What replay and dead-letter commands need: the stack, the deployment's topic prefix, the key to open destinations. */
export const operateEnv = z.object({
  ...baseEnv,
  ...registryEnv,
  SECRETS_KEY: z.string().min(1, 'set SECRETS_KEY (the services\' key) to read destinations'),
  SECRETS_KEY_PREVIOUS: z.string().optional(),
  /** Stripe API base for a dry run of `sas replay events` (maps events as the mapper does, reading what it reads). */
  STRIPE_API_BASE: z.string().url().default('https://api.stripe.com'),
  /** Who acts, for the dead-letter audit trail. */
  USER: z.string().optional(),
});
export type OperateEnv = z.infer<typeof operateEnv>;

export interface Connections {
  readonly kafka: Kafka;
  readonly pool: Pool;
  readonly codec: ConversionCodec;
  /** Rewrites a frame under its own schema id (a replayed conversion of an erased customer loses the email hash). */
  readonly frames: FrameRewriter;
  readonly box: SecretBox;
  readonly prefix: string;
  readonly stripeApiBase: string;
  close(): Promise<void>;
}

/**
 * Kafka, PostgreSQL and the registry for one command. The Kafka client's log is silent:
 * stdout is the command's output, and a failure reaches the user as the command's error.
 */
export const connect = (env: OperateEnv): Connections => {
  const log = createLogger('sas', 'silent');
  const pool = createPool(env.DATABASE_URL, 4);
  return {
    kafka: createKafka({ brokers: env.KAFKA_BROKERS, clientId: env.KAFKA_CLIENT_ID ?? 'sas', log }),
    pool,
    codec: createConversionCodec(env.SCHEMA_REGISTRY_URL),
    frames: createFrameRewriter(env.SCHEMA_REGISTRY_URL),
    box: createSecretBox(parseKey(env.SECRETS_KEY), env.SECRETS_KEY_PREVIOUS ? [parseKey(env.SECRETS_KEY_PREVIOUS, 'SECRETS_KEY_PREVIOUS')] : []),
    prefix: env.KAFKA_TOPIC_PREFIX,
    stripeApiBase: env.STRIPE_API_BASE,
    close: () => pool.end(),
  };
};

/** A short random id, for replay ids and throwaway consumer groups. */
export const shortId = (): string => randomBytes(4).toString('hex');
