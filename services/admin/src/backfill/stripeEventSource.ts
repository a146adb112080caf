import Stripe from 'stripe';
import type { StripeEventEnvelope } from '@sas/contracts';
import type { Page, PageQuery, RetryAdvice } from './backfillLoop.js';

/** An event as listed, with the bytes written to Kafka. */
export interface ListedStripeEvent {
  readonly id: string;
  readonly created: number;
  readonly event: StripeEventEnvelope;
  readonly raw: Buffer;
}

/**
 * A listed event as a webhook would carry it. A Connect account's webhook names the account
 * in `account`; an event listed with the Stripe-Account header is given it when it lacks it,
 * so the key, the headers and what the mapper reads are those of the webhook.
 */
export const asDelivered = (e: Record<string, unknown>, account: string | null): ListedStripeEvent => {
  const { lastResponse: _ignored, ...plain } = e as Record<string, unknown> & { lastResponse?: unknown };
  const event = (account && !plain.account ? { ...plain, account } : plain) as unknown as StripeEventEnvelope;
  return { id: event.id, created: event.created, event, raw: Buffer.from(JSON.stringify(event)) };
};

/** Stripe and stripe-mock quote keys in some messages; nothing printed carries one. */
export const redactKeys = (s: string): string => s.replace(/\b(sk|rk|pk)_(test|live)_[A-Za-z0-9_]+/g, '$1_$2_[redacted]');

/**
 * Rate limited (429), Stripe's 5xx, 409 (lock timeout) and the network are worth another
 * try; any other 4xx (revoked key, bad request) is not. Stripe's Retry-After is honoured.
 */
export const adviseStripeError = (err: unknown): RetryAdvice => {
  if (!(err instanceof Stripe.errors.StripeError)) return { retry: false };
  const retryAfterSec = Number((err.headers as Record<string, string> | undefined)?.['retry-after']);
  const afterMs = Number.isFinite(retryAfterSec) && retryAfterSec > 0 ? retryAfterSec * 1000 : undefined;
  if (err instanceof Stripe.errors.StripeRateLimitError || err instanceof Stripe.errors.StripeConnectionError) {
    return { retry: true, ...(afterMs ? { afterMs } : {}) };
  }
  if (err.headers && (err.headers as Record<string, string>)['stripe-should-retry'] === 'false') return { retry: false };
  const status = err.statusCode ?? 0;
  return { retry: status >= 500 || status === 409 || status === 429, ...(afterMs ? { afterMs } : {}) };
};

export interface StripeEventSourceOptions {
  readonly apiKey: string;
  /** https://api.stripe.com, or stripe-mock in tests. */
  readonly apiBase: string;
  readonly timeoutMs: number;
}

/**
 * GET /v1/events through the stripe package: created[gte]/created[lte], 100 a page,
 * starting_after the cursor, delivery_success=false for events whose webhooks are still
 * pending or failed. The package's own retries cover dropped connections and what Stripe
 * marks Stripe-Should-Retry; the loop's backoff covers the rest (429 above all).
 */
export const createStripeEventSource = (o: StripeEventSourceOptions) => {
  const base = new URL(o.apiBase);
  const stripe = new Stripe(o.apiKey, {
    host: base.hostname,
    port: Number(base.port || (base.protocol === 'https:' ? 443 : 80)),
    protocol: base.protocol === 'http:' ? 'http' : 'https',
    maxNetworkRetries: 2,
    timeout: o.timeoutMs,
    telemetry: false,
    appInfo: { name: 'stripe-affiliate-stream backfill' },
  });
  return async (q: PageQuery): Promise<Page<ListedStripeEvent>> => {
    const list = await stripe.events.list(
      {
        limit: q.limit,
        created: { gte: q.fromSec, lte: q.toSec },
        ...(q.onlyFailed ? { delivery_success: false } : {}),
        ...(q.startingAfter ? { starting_after: q.startingAfter } : {}),
      },
      q.account ? { stripeAccount: q.account } : undefined,
    );
    return {
      events: list.data.map((e) => asDelivered(e as unknown as Record<string, unknown>, q.account)),
      hasMore: list.has_more,
    };
  };
};
