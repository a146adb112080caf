import { userInfo } from 'node:os';
import { z } from 'zod';

/** The CLI's view of the admin API: where it is, the token, and who is asking. */
export const apiEnv = z.object({
  SAS_API_URL: z.string().url('must be the admin API base URL, e.g. http://127.0.0.1:3004').default('http://127.0.0.1:3004'),
  SAS_ADMIN_TOKEN: z.string().min(1, 'set it to the admin API token (ADMIN_TOKEN of the admin service)'),
  USER: z.string().optional(),
});
export type ApiEnv = z.infer<typeof apiEnv>;

/** A refusal or failure of the admin API, as one line: the API's own message when it sent one. */
export class ApiError extends Error {
  override readonly name = 'ApiError';
  constructor(message: string, readonly status: number | null, readonly body?: unknown) {
    super(message);
  }
}

export type Method = 'GET' | 'POST' | 'PATCH' | 'PUT';

export interface AdminApi {
  call<T = Record<string, unknown>>(method: Method, path: string, body?: unknown): Promise<T>;
}

/** Who the audit trail names: $USER, else the account's name. */
const actorOf = (env: ApiEnv): string | undefined => {
  if (env.USER) return env.USER;
  try {
    return userInfo().username || undefined;
  } catch {
    return undefined;
  }
};

/** A small fetch client: bearer token, X-Actor (the audit trail's who), JSON in and out. */
export const createAdminApi = (env: ApiEnv, fetchImpl: typeof fetch = fetch): AdminApi => {
  const actor = actorOf(env);
  return {
    async call<T>(method: Method, path: string, body?: unknown): Promise<T> {
      const url = `${env.SAS_API_URL.replace(/\/+$/, '')}${path}`;
      let res: Response;
      try {
        res = await fetchImpl(url, {
          method,
          headers: {
            authorization: `Bearer ${env.SAS_ADMIN_TOKEN}`,
            ...(actor ? { 'x-actor': actor } : {}),
            ...(body === undefined ? {} : { 'content-type': 'application/json' }),
          },
          ...(body === undefined ? {} : { body: JSON.stringify(body) }),
          signal: AbortSignal.timeout(30_000),
        });
      } catch (err) {
        const c = (err as { cause?: { code?: string; message?: string } }).cause;
        const cause = c?.code ?? c?.message ?? (err as Error).message;
        throw new ApiError(`cannot reach the admin API at ${env.SAS_API_URL} (${cause}); is it running? (SAS_API_URL)`, null);
      }
      const text = await res.text();
      let parsed: unknown = undefined;
      try {
        parsed = text ? JSON.parse(text) : undefined;
      } catch {
        parsed = undefined;
      }
      if (!res.ok) {
        const message = (parsed as { message?: unknown } | undefined)?.message;
        throw new ApiError(`${method} ${path}: ${res.status} ${typeof message === 'string' ? message : text.slice(0, 200) || res.statusText}`, res.status, parsed);
      }
      return parsed as T;
    },
  };
};
