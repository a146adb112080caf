import { z } from 'zod';
import { baseEnv, port, registryEnv } from '@sas/runtime';

export const schedulerEnv = z.object({
  ...baseEnv,
  ...registryEnv,
  SCHEDULER_HEALTH_PORT: port(3002),
  SCHEDULER_GROUP_ID: z.string().default('scheduler'),
  RELEASE_INTERVAL_MS: z.coerce.number().int().positive().default(250),
  RELEASE_BATCH: z.coerce.number().int().positive().default(500),
});
export type SchedulerConfig = z.infer<typeof schedulerEnv>;
