/** What a partner's answer means for the ledger and for retrying. */
export type ResponseClass =
  | { readonly ok: true; readonly partnerRef: string | null }
  | { readonly ok: false; readonly retriable: boolean; readonly error: string };

/**
 * 2xx is success unless the body says otherwise (impact answers {"Status":"ERROR"} in some
 * cases); 429 and 5xx are retried; other 4xx cannot be fixed by retrying.
 */
export const classifyResponse = (status: number, body: string): ResponseClass => {
  if (status >= 200 && status < 300) {
    try {
      const json = JSON.parse(body) as { Status?: unknown; QueuedUri?: unknown };
      if (json.Status === 'ERROR') return { ok: false, retriable: false, error: `partner said ERROR: ${body.slice(0, 500)}` };
      return { ok: true, partnerRef: typeof json.QueuedUri === 'string' ? json.QueuedUri : null };
    } catch {
      return { ok: true, partnerRef: null };
    }
  }
  const error = `HTTP ${status}: ${body.slice(0, 500)}`;
  return { ok: false, retriable: status === 429 || status === 408 || status >= 500, error };
};

/** Retry-After in seconds or as an HTTP date → milliseconds from now (clock passed in). */
export const retryAfterMs = (header: string | null, nowMs: number): number | null => {
  if (!header) return null;
  const secs = Number(header);
  if (Number.isFinite(secs)) return Math.max(0, secs * 1000);
  const at = Date.parse(header);
  return Number.isNaN(at) ? null : Math.max(0, at - nowMs);
};
