import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * Faults a stub injects before it looks at a request (so a faulted request is never
 * credited): 5xx, 429 with Retry-After (at random or in storms), timeouts (no answer).
 */
export interface Faults {
  /** Probability of a 5xx (500/502/503). */
  readonly errorRate?: number;
  /** Answer the next N requests with a 5xx, then none: a fault a test can time exactly. */
  readonly failNext?: number;
  /** Probability of a 429 with Retry-After. */
  readonly rateLimitRate?: number;
  /** Retry-After seconds on 429 (and on 503 when set). */
  readonly retryAfterSec?: number;
  /** Probability of never answering (the client times out). */
  readonly timeoutRate?: number;
  /** Answer every request with 429 while a storm lasts: storms of `stormMs` every `stormEveryMs`. */
  readonly stormEveryMs?: number;
  readonly stormMs?: number;
  /** Added latency per request. */
  readonly latencyMs?: number;
}

export interface StubStats {
  requests: number;
  faults5xx: number;
  faults429: number;
  timeouts: number;
}

export interface StubRequest {
  readonly method: string;
  readonly url: URL;
  readonly headers: IncomingMessage['headers'];
  readonly body: string;
}

export interface StubReply {
  readonly status: number;
  readonly body?: unknown;
  readonly headers?: Record<string, string>;
}

const readBody = (req: IncomingMessage) =>
  new Promise<string>((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });

/** Credits as the partner would record them, keyed by the partner's own identity of a credit. */
export class CreditBook {
  /** key → times credited (more than 1 is a double credit). */
  readonly counts = new Map<string, number>();
  readonly amounts = new Map<string, number>();
  /** Resends the partner recognised and did not credit again. */
  deduped = 0;
  credit(key: string, amount: number): void {
    this.counts.set(key, (this.counts.get(key) ?? 0) + 1);
    if (!this.amounts.has(key)) this.amounts.set(key, amount);
  }
  has(key: string): boolean {
    return this.counts.has(key);
  }
  doubleCredits(): string[] {
    return [...this.counts].filter(([, n]) => n > 1).map(([k]) => k);
  }
}

/** The 429 a stub answers when a fault injects one: Retry-After unless the partner documents other headers. */
export type RateLimitedReply = (retryAfterSec: number) => StubReply;
const retryAfterReply: RateLimitedReply = (sec) => ({ status: 429, body: { message: 'rate limit exceeded' }, headers: { 'retry-after': String(sec) } });

/** An HTTP server for one partner stub, with fault injection in front of the partner logic. */
export const startStubServer = async (
  handle: (r: StubRequest) => StubReply | Promise<StubReply>, initialFaults: Faults = {}, rateLimited: RateLimitedReply = retryAfterReply,
) => {
  let faults: Faults = initialFaults;
  const startedAt = Date.now();
  const stats: StubStats = { requests: 0, faults5xx: 0, faults429: 0, timeouts: 0 };
  const hanging = new Set<ServerResponse>();
  const server = createServer(async (req, res) => {
    stats.requests++;
    const body = await readBody(req);
    if (faults.latencyMs) await new Promise((r) => setTimeout(r, faults.latencyMs));
    const send = (r: StubReply) => {
      const payload = r.body === undefined ? '' : typeof r.body === 'string' ? r.body : JSON.stringify(r.body);
      res.writeHead(r.status, {
        ...(payload && typeof r.body !== 'string' ? { 'content-type': 'application/json' } : {}),
        ...r.headers,
      }).end(payload);
    };
    const retryAfter = String(faults.retryAfterSec ?? 1);
    const inStorm = faults.stormEveryMs && faults.stormMs ? (Date.now() - startedAt) % faults.stormEveryMs < faults.stormMs : false;
    if (inStorm || Math.random() < (faults.rateLimitRate ?? 0)) {
      stats.faults429++;
      return send(rateLimited(faults.retryAfterSec ?? 1));
    }
    const failThis = (faults.failNext ?? 0) > 0;
    if (failThis) faults = { ...faults, failNext: (faults.failNext ?? 0) - 1 };
    if (failThis || Math.random() < (faults.errorRate ?? 0)) {
      stats.faults5xx++;
      const status = [500, 502, 503][Math.floor(Math.random() * 3)]!;
      return send({ status, body: { message: 'injected failure' }, ...(status === 503 && faults.retryAfterSec ? { headers: { 'retry-after': retryAfter } } : {}) });
    }
    if (Math.random() < (faults.timeoutRate ?? 0)) {
      stats.timeouts++;
      hanging.add(res);
      res.on('close', () => hanging.delete(res));
      return; // never answered; the client gives up
    }
    try {
      send(await handle({ method: req.method ?? 'GET', url: new URL(req.url ?? '/', 'http://stub'), headers: req.headers, body }));
    } catch (err) {
      send({ status: 500, body: { message: String(err) } });
    }
  });
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}`,
    stats,
    setFaults: (f: Faults) => { faults = f; },
    close: () =>
      new Promise<void>((r) => {
        for (const res of hanging) res.destroy();
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
};

export const basicAuthOf = (user: string, pass: string): string => `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`;
export const DECIMAL = /^-?\d+(\.\d+)?$/;
export const CURRENCY = /^[A-Z]{3}$/;
