import { z } from 'zod';
import { baseEnv, port, registryEnv } from '@sas/runtime';

export const dispatcherEnv = z.object({
  ...baseEnv,
  ...registryEnv,
  DISPATCHER_HEALTH_PORT: port(3003),
  DISPATCHER_GROUP_ID: z.string().default('dispatcher'),
  SECRETS_KEY: z.string().min(1, 'set SECRETS_KEY to 32 random bytes in base64 (openssl rand -base64 32)'),
  SECRETS_KEY_PREVIOUS: z.string().optional(),
  PARTNER_TIMEOUT_MS: z.coerce.number().int().positive().default(10_000),
  /** Milliseconds before retry 1, 2, ...; past the last, the conversion is dead-lettered. */
  RETRY_SCHEDULE_MS: z
    .string()
    .default('1000,5000,30000')
    .transform((s) => s.split(',').map((x) => Number(x.trim())))
    .refine((a) => a.every((n) => Number.isInteger(n) && n >= 0), 'comma-separated non-negative integers'),
  SETTINGS_CACHE_MS: z.coerce.number().int().nonnegative().default(10_000),
});
export type DispatcherConfig = z.infer<typeof dispatcherEnv>;
