import { userInfo } from 'node:os';
import { z } from 'zod';
import { CliError, type CliContext } from './context.js';

/** Where the admin API runs and the token it wants (commands that go through the API). */
export const apiEnv = z.object({
  SAS_API_URL: z.string().url().default('http://127.0.0.1:3004'),
  SAS_ADMIN_TOKEN: z.string().min(1, 'set SAS_ADMIN_TOKEN to the admin API\'s ADMIN_TOKEN'),
  USER: z.string().optional(),
});

export interface ApiClient {
  /** The parsed JSON answer of a 2xx; otherwise a CliError carrying the API's code, message and details. */
  readonly call: <T>(method: 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE', path: string, body?: unknown) => Promise<T>;
}

/** The API's error body: {error, message, details?, problems?}. */
export class ApiError extends CliError {
  constructor(readonly status: number, readonly code: string, message: string, details?: unknown) {
    // A request the API found malformed, or a refused token, is a usage/configuration problem (2).
    super(message, status === 400 || status === 401 ? 2 : 1, details);
  }
}

export const createApiClient = (ctx: CliContext): ApiClient => {
  const env = ctx.env(apiEnv);
  const base = env.SAS_API_URL.replace(/\/+$/, '');
  return {
    call: async <T>(method: string, path: string, body?: unknown): Promise<T> => {
      let res: Response;
      try {
        res = await fetch(`${base}${path}`, {
          method,
          headers: {
            authorization: `Bearer ${env.SAS_ADMIN_TOKEN}`,
            // The audit trail's actor.
            'x-actor': env.USER ?? userInfo().username,
            ...(body === undefined ? {} : { 'content-type': 'application/json' }),
          },
          ...(body === undefined ? {} : { body: JSON.stringify(body) }),
          signal: AbortSignal.timeout(120_000),
        });
      } catch (err) {
        throw new CliError(`cannot reach the admin API at ${base} (SAS_API_URL): ${err instanceof Error ? (err.cause as Error | undefined)?.message ?? err.message : String(err)}`, 1);
      }
      const text = await res.text();
      let json: unknown = null;
      try {
        json = text ? JSON.parse(text) : null;
      } catch {
        // reported below
      }
      if (res.ok) return json as T;
      const e = (json ?? {}) as { error?: string; message?: string; details?: unknown; problems?: unknown };
      if (res.status === 401) throw new ApiError(401, 'unauthorized', `the admin API refused the token (SAS_ADMIN_TOKEN must equal its ADMIN_TOKEN)`);
      throw new ApiError(res.status, e.error ?? `http_${res.status}`, e.message ?? `the admin API answered ${res.status}: ${text.slice(0, 200)}`, e.details ?? e.problems);
    },
  };
};
