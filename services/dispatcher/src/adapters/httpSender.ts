import type { PartnerRequest } from '../core/partnerRequest.js';

export interface PartnerResponse {
  readonly status: number;
  readonly body: string;
  readonly retryAfter: string | null;
}

export type Send = (r: PartnerRequest) => Promise<PartnerResponse>;

/** Send a described request with a timeout; a network error or timeout throws (retriable). */
export const createHttpSender = (timeoutMs: number): Send => async (r) => {
  const res = await fetch(r.url, {
    method: r.method,
    headers: r.headers,
    body: r.body,
    signal: AbortSignal.timeout(timeoutMs),
  });
  return { status: res.status, body: await res.text(), retryAfter: res.headers.get('retry-after') };
};
