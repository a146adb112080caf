import { ConsumerGroups } from '@sas/contracts';
import { z } from 'zod';
import { baseEnv, port, registryEnv } from '@sas/runtime';

const int = (fallback: number, min = 0) => z.coerce.number().int().min(min).default(fallback);

export const dispatcherEnv = z.object({
  ...baseEnv,
  ...registryEnv,
  DISPATCHER_HEALTH_PORT: port(3003),
  DISPATCHER_GROUP_ID: z.string().default(ConsumerGroups.dispatcher),
  SECRETS_KEY: z.string().min(1, 'set SECRETS_KEY to 32 random bytes in base64 (openssl rand -base64 32)'),
  SECRETS_KEY_PREVIOUS: z.string().optional(),
  PARTNER_TIMEOUT_MS: int(10_000, 1),
  /**
   * Milliseconds before retry 1, 2, ... (exponential; each is the ceiling of a full-jitter
   * draw, and never less than a partner's Retry-After); past the last, dead-letter.
   */
  RETRY_SCHEDULE_MS: z
    .string()
    .default('2000,8000,32000,128000,512000,1800000,3600000')
    .transform((s) => s.split(',').map((x) => Number(x.trim())))
    .refine((a) => a.every((n) => Number.isInteger(n) && n >= 0), 'comma-separated non-negative integers'),
  SETTINGS_CACHE_MS: int(10_000),
  /** How long a row taken by this instance stays its own before another may take it over (crash recovery time). */
  DISPATCH_LEASE_MS: int(30_000, 100),
  /** How often due retries and orphaned rows are looked for. */
  DISPATCH_POLL_MS: int(250, 10),
  /** Per destination, unless its settings say otherwise (`concurrency`, `rateLimitPerSecond`/`rateLimitPerHour`). */
  DEFAULT_CONCURRENCY: int(16, 1),
  DEFAULT_RATE_PER_SEC: z.coerce.number().positive().default(50),
  BREAKER_THRESHOLD: int(5, 1),
  BREAKER_OPEN_MS: int(10_000, 0),
  CONSUMER_SESSION_TIMEOUT_MS: int(30_000, 6_000),
  PARTITIONS_CONSUMED_CONCURRENTLY: int(4, 1),
});
export type DispatcherConfig = z.infer<typeof dispatcherEnv>;
