import { z } from 'zod';
import { baseEnv, port } from '@sas/runtime';

export const ingestEnv = z.object({
  ...baseEnv,
  INGEST_HOST: z.string().default('127.0.0.1'),
  INGEST_PORT: port(3000),
  /** Public base URL Stripe posts to; printed at start. */
  PUBLIC_BASE_URL: z.string().url().optional(),
  SECRETS_KEY: z.string().min(1, 'set SECRETS_KEY to 32 random bytes in base64 (openssl rand -base64 32)'),
  SECRETS_KEY_PREVIOUS: z.string().optional(),
  WEBHOOK_TOLERANCE_SECONDS: z.coerce.number().int().positive().default(300),
  MAX_BODY_BYTES: z.coerce.number().int().positive().default(1024 * 1024),
  PUBLISH_TIMEOUT_MS: z.coerce.number().int().positive().default(5_000),
  PRODUCE_MAX_BATCH: z.coerce.number().int().positive().default(500),
  /** Events waiting for Kafka beyond which ingest sheds load with 503 instead of growing memory. */
  MAX_PENDING_EVENTS: z.coerce.number().int().positive().default(5_000),
  SECRETS_CACHE_MS: z.coerce.number().int().nonnegative().default(10_000),
  /**
   * The Kafka client that writes events, both idempotent with acks=all. kafkajs is the default;
   * platformatic (~20 % less ingest CPU per event in bench/ingest) is experimental: see
   * services/ingest/README.md for the defects a review found in its 1.22 release.
   */
  INGEST_KAFKA_CLIENT: z.enum(['kafkajs', 'platformatic']).default('kafkajs'),
});
export type IngestConfig = z.infer<typeof ingestEnv>;
