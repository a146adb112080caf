import http from 'node:http';
import https from 'node:https';
import type { PartnerAnswer } from '../core/classifyResponse.js';
import type { PartnerRequest } from '../core/partnerRequest.js';

/** A request that got no answer. `mayHaveReached`: it was (perhaps) delivered before failing. */
export class SendError extends Error {
  override readonly name = 'SendError';
  constructor(message: string, readonly mayHaveReached: boolean, options?: ErrorOptions) {
    super(message, options);
  }
}

export type Send = (r: PartnerRequest, destinationId: string) => Promise<PartnerAnswer>;

const NOT_SENT = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH']);

/**
 * Sends described requests over keep-alive connections, one agent per destination (its
 * socket cap is the destination's concurrency), with a hard timeout; a network error or
 * timeout throws SendError (retriable).
 */
export const createHttpSender = (p: { timeoutMs: number; maxSocketsOf: (destinationId: string) => number }) => {
  const agents = new Map<string, http.Agent>();
  const agentFor = (destinationId: string, secure: boolean): http.Agent => {
    const key = `${secure ? 's' : 'p'}:${destinationId}`;
    let a = agents.get(key);
    if (!a) {
      const opts = { keepAlive: true, maxSockets: p.maxSocketsOf(destinationId), maxFreeSockets: 256 };
      a = secure ? new https.Agent(opts) : new http.Agent(opts);
      agents.set(key, a);
    }
    return a;
  };
  const send: Send = (r, destinationId) =>
    new Promise<PartnerAnswer>((resolve, reject) => {
      const url = new URL(r.url);
      const secure = url.protocol === 'https:';
      const body = r.body === null ? null : Buffer.from(r.body, 'utf8');
      let written = false;
      const req = (secure ? https : http).request(
        url,
        {
          method: r.method,
          agent: agentFor(destinationId, secure),
          headers: { ...r.headers, ...(body ? { 'content-length': String(body.length) } : {}) },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            clearTimeout(timer);
            const ra = res.headers['retry-after'];
            const reset = res.headers['x-ratelimit-reset'];
            resolve({
              status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8'),
              retryAfter: Array.isArray(ra) ? ra[0] ?? null : ra ?? null,
              rateLimitReset: Array.isArray(reset) ? reset[0] ?? null : reset ?? null,
            });
          });
          res.on('error', (err) => {
            clearTimeout(timer);
            reject(new SendError(`response failed: ${err.message}`, true, { cause: err }));
          });
        },
      );
      const timer = setTimeout(() => {
        req.destroy(new SendError(`timed out after ${p.timeoutMs} ms`, true));
      }, p.timeoutMs);
      req.on('finish', () => { written = true; });
      req.on('error', (err) => {
        clearTimeout(timer);
        if (err instanceof SendError) return reject(err);
        const code = (err as NodeJS.ErrnoException).code ?? '';
        reject(new SendError(`${code || err.name}: ${err.message}`, written && !NOT_SENT.has(code), { cause: err }));
      });
      req.end(body ?? undefined);
    });
  return {
    send,
    close: () => {
      for (const a of agents.values()) a.destroy();
      agents.clear();
    },
  };
};
