import { z } from 'zod';
import { baseEnv, port, registryEnv } from '@sas/runtime';

export const mapperEnv = z.object({
  ...baseEnv,
  ...registryEnv,
  MAPPER_HEALTH_PORT: port(3001),
  MAPPER_GROUP_ID: z.string().default('mapper'),
  SETTINGS_CACHE_MS: z.coerce.number().int().nonnegative().default(10_000),
});
export type MapperConfig = z.infer<typeof mapperEnv>;
