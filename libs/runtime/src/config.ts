import { z } from 'zod';

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/**
 * Validate the environment against a schema at start; one message lists every problem,
 * naming the variable, so an operator fixes them all at once.
 */
export const loadConfig = <S extends z.ZodTypeAny>(schema: S, env: NodeJS.ProcessEnv = process.env): z.infer<S> => {
  const result = schema.safeParse(env);
  if (result.success) return result.data;
  const lines = result.error.issues.map((i) => {
    const name = i.path.join('.') || '(environment)';
    const missing = i.code === 'invalid_type' && i.received === 'undefined';
    return `  ${name}: ${missing ? 'is required but not set' : i.message}`;
  });
  throw new ConfigError(`invalid configuration:\n${lines.join('\n')}`);
};

const csv = z
  .string()
  .min(1)
  .transform((s) => s.split(',').map((x) => x.trim()).filter(Boolean));

/** Variables every service reads. */
export const baseEnv = {
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  KAFKA_BROKERS: csv.describe('comma-separated host:port list, e.g. 127.0.0.1:9092'),
  KAFKA_TOPIC_PREFIX: z.string().regex(/^[a-zA-Z0-9._-]*$/, 'only letters, digits, . _ -').default(''),
  KAFKA_CLIENT_ID: z.string().optional(),
  DATABASE_URL: z.string().url('must be a postgres:// URL'),
};

export const registryEnv = {
  SCHEMA_REGISTRY_URL: z.string().url('must be the registry base URL, e.g. http://127.0.0.1:8081/apis/ccompat/v7'),
};

export const port = (fallback: number) => z.coerce.number().int().min(0).max(65535).default(fallback);
