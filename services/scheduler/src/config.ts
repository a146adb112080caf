import { ConsumerGroups } from '@sas/contracts';
import { z } from 'zod';
import { baseEnv, port, registryEnv } from '@sas/runtime';

/** Steps at which SCHEDULER_CRASH_AT kills the process (tests only; see crashPoint.ts). */
export const CrashPoints = ['after-hold', 'after-claim', 'after-send', 'after-commit', 'after-confirm'] as const;
export type CrashPoint = (typeof CrashPoints)[number];

export const schedulerEnv = z.object({
  ...baseEnv,
  ...registryEnv,
  SCHEDULER_HEALTH_PORT: port(3002),
  SCHEDULER_HOST: z.string().default('127.0.0.1'),
  /** Consumer group reading conversions.v1 (prefixed with KAFKA_TOPIC_PREFIX). */
  SCHEDULER_GROUP_ID: z.string().default(ConsumerGroups.scheduler),
  SCHEDULER_SESSION_TIMEOUT_MS: z.coerce.number().int().min(6_000).default(30_000),
  /** How often an idle lane looks for due conversions. */
  RELEASE_INTERVAL_MS: z.coerce.number().int().positive().default(250),
  /** Conversions per release transaction. */
  RELEASE_BATCH: z.coerce.number().int().positive().max(10_000).default(2_000),
  /** A lane lease; a dead instance's lanes are taken over after at most this long. */
  SCHEDULER_LEASE_MS: z.coerce.number().int().min(500).default(5_000),
  /** Bearer token for /admin/*; unset = operator API disabled (503). */
  SCHEDULER_ADMIN_TOKEN: z.string().min(16, 'use at least 16 characters').optional(),
  /**
   * Released and cancelled rows are deleted this many days after they were held. Must outlive
   * the topics' 30-day retention (and Stripe's 30-day event window, for backfills): a replay
   * must still find a released conversion here, or it would be held and released again.
   */
  SCHEDULER_RETAIN_SETTLED_DAYS: z.coerce.number().int()
    .min(31, 'must be at least 31: released rows must outlive the 30-day retention of conversions.v1, or a replay releases them again')
    .default(35),
  SCHEDULER_PURGE_INTERVAL_MS: z.coerce.number().int().min(1_000).default(3_600_000),
  /** Tests only: SIGKILL the process at this step (see README). */
  SCHEDULER_CRASH_AT: z.enum(CrashPoints).optional(),
  /** Tests only: crash on the n-th time the step is reached. */
  SCHEDULER_CRASH_AFTER: z.coerce.number().int().positive().default(1),
});
export type SchedulerConfig = z.infer<typeof schedulerEnv>;
