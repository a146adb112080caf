/**
 * Sends simulated histories to ingest the way Stripe does: each delivery signed at send time
 * (Stripe-Signature over the exact bytes), any non-2xx or connection error retried with
 * exponential backoff and jitter until a 2xx. That retry is what makes an ingest crash or a
 * broker outage survivable, as it is with Stripe. One customer's deliveries go one after the
 * other (their order is the plan's); customers go in parallel, at most `concurrency` at once,
 * optionally capped at `ratePerSec` deliveries per second overall.
 */
import { stripeSignature } from '@sas/testkit';
import type { CustomerHistory } from './history.js';
import { renderEvent } from './render.js';

export interface SendOptions {
  /** The integration's webhook URL: `<ingest>/webhooks/stripe/<integrationId>`. */
  readonly url: string | (() => string);
  /** Where one history goes, when customers belong to several integrations (default: `url`). */
  readonly urlFor?: (h: CustomerHistory) => string;
  readonly secret: string;
  readonly concurrency?: number;
  readonly ratePerSec?: number;
  /** Backoff ceiling; Stripe's own schedule stretches to hours, a test wants seconds. */
  readonly maxBackoffMs?: number;
  /** A delivery still refused after this long is given up (counted, never silently). */
  readonly giveUpAfterMs?: number;
  readonly requestTimeoutMs?: number;
  readonly onDelivered?: (delivered: number) => void;
}

export interface SendStats {
  delivered: number;
  attempts: number;
  retries: number;
  /** Non-2xx answers by status, and 'network' for connection errors/timeouts. */
  failures: Record<string, number>;
  gaveUp: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export const sendHistories = async (histories: readonly CustomerHistory[], o: SendOptions): Promise<SendStats> => {
  const stats: SendStats = { delivered: 0, attempts: 0, retries: 0, failures: {}, gaveUp: 0 };
  const urlOf = typeof o.url === 'function' ? o.url : () => o.url as string;
  const interval = o.ratePerSec ? 1000 / o.ratePerSec : 0;
  let nextSlot = Date.now();
  const paced = async () => {
    if (!interval) return;
    const now = Date.now();
    const slot = Math.max(now, nextSlot);
    nextSlot = slot + interval;
    if (slot > now) await sleep(slot - now);
  };

  const deliver = async (body: string, url: () => string) => {
    const started = Date.now();
    for (let attempt = 0; ; attempt++) {
      stats.attempts++;
      let failure: string;
      try {
        const res = await fetch(url(), {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'stripe-signature': stripeSignature(body, o.secret) },
          body,
          signal: AbortSignal.timeout(o.requestTimeoutMs ?? 15_000),
        });
        await res.arrayBuffer();
        if (res.ok) {
          stats.delivered++;
          o.onDelivered?.(stats.delivered);
          return;
        }
        failure = String(res.status);
      } catch {
        failure = 'network';
      }
      stats.failures[failure] = (stats.failures[failure] ?? 0) + 1;
      if (Date.now() - started > (o.giveUpAfterMs ?? 600_000)) {
        stats.gaveUp++;
        return;
      }
      stats.retries++;
      const ceiling = Math.min(o.maxBackoffMs ?? 2_000, 100 * 2 ** Math.min(attempt, 10));
      await sleep(ceiling / 2 + Math.random() * (ceiling / 2));
    }
  };

  let next = 0;
  const worker = async () => {
    while (next < histories.length) {
      const h = histories[next++]!;
      const url = o.urlFor ? () => o.urlFor!(h) : urlOf;
      for (const e of h.deliveries) {
        await paced();
        await deliver(renderEvent(e), url);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(o.concurrency ?? 32, histories.length) }, worker));
  return stats;
};
