import { ConsumerGroups } from '@sas/contracts';
import { z } from 'zod';
import { baseEnv, port, registryEnv } from '@sas/runtime';

export const mapperEnv = z.object({
  ...baseEnv,
  ...registryEnv,
  MAPPER_HEALTH_PORT: port(3001),
  MAPPER_GROUP_ID: z.string().default(ConsumerGroups.mapper),
  SETTINGS_CACHE_MS: z.coerce.number().int().nonnegative().default(10_000),
  /** Opens integrations' Stripe keys; without it the mapper maps without API enrichment. */
  SECRETS_KEY: z.string().min(1).optional(),
  SECRETS_KEY_PREVIOUS: z.string().min(1).optional(),
  STRIPE_API_BASE: z.string().url().default('https://api.stripe.com'),
  STRIPE_TIMEOUT_MS: z.coerce.number().int().positive().default(10_000),
  ENRICHMENT_CACHE_MS: z.coerce.number().int().nonnegative().default(3_600_000),
  ENRICHMENT_CACHE_MAX: z.coerce.number().int().positive().default(100_000),
  ENRICHMENT_CONCURRENCY: z.coerce.number().int().positive().default(8),
  /** Consumer session timeout: how long a dead instance holds its partitions before the group moves them. */
  MAPPER_SESSION_TIMEOUT_MS: z.coerce.number().int().min(6_000).default(30_000),
  /** Partitions mapped at once by one instance (KafkaJS partitionsConsumedConcurrently). */
  MAPPER_PARTITIONS_CONCURRENCY: z.coerce.number().int().positive().default(6),
  /** Bytes fetched per partition per request: the batch size, over which PostgreSQL and Kafka round trips are shared. */
  MAPPER_FETCH_BYTES_PER_PARTITION: z.coerce.number().int().positive().default(8 * 1024 * 1024),
  /** Bytes per fetch over all partitions: with the batches in flight, what the mapper's memory follows. */
  MAPPER_FETCH_MAX_BYTES: z.coerce.number().int().positive().default(32 * 1024 * 1024),
  /**
   * A Stripe event id already handled never changes state again; 'reemit' maps it again
   * read-only and produces the same conversion ids (downstream ledgers answer "duplicate"),
   * 'drop' produces nothing for it.
   */
  MAPPER_DUPLICATE_EVENTS: z.enum(['reemit', 'drop']).default('drop'),
  /** Handled event ids are kept this long for dedupe: past Stripe's 30-day event retention no replay can bring them back. */
  DEDUPE_RETENTION_DAYS: z.coerce.number().int().positive().default(35),
});
export type MapperConfig = z.infer<typeof mapperEnv>;
