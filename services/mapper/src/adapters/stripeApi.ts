import Stripe from 'stripe';
import type { LineItem } from '@sas/contracts';
import type { Logger } from '@sas/runtime';
import { lineItemFromApi } from '../core/checkoutSale.js';
import { refundFacts } from '../core/chargeEvents.js';
import type { OrderLink, RefundFact } from '../core/facts.js';
import { enrichmentDelayMs } from '../core/retrySchedule.js';
import { idOf, obj, path, str } from '../core/stripeRead.js';
import { MapperError } from '../errors.js';

/**
 * Reads from the Stripe API with an integration's read-only key, for what a webhook does not
 * carry. Every answer is cached (line items, promotion codes and the order behind a payment
 * never change; a charge's refund list is cached per refunded total, so a new refund is a new
 * read). Network errors, 429 and 5xx are retried with backoff until Stripe answers or the
 * mapper stops; a 4xx (missing object, revoked key) is logged and mapped without the enrichment.
 */
export interface StripeTarget {
  readonly integrationId: string;
  readonly apiKey: string;
  /** Connected account (Stripe Connect) the event belongs to. */
  readonly account: string | null;
}

export interface Enricher {
  checkoutLineItems(t: StripeTarget, sessionId: string): Promise<LineItem[] | null>;
  promotionCode(t: StripeTarget, promoId: string): Promise<string | null>;
  invoicePromoCodes(t: StripeTarget, invoiceId: string): Promise<string[] | null>;
  orderOfPayment(t: StripeTarget, p: { paymentIntent: string | null; chargeId: string }): Promise<OrderLink | null>;
  refundsOfCharge(t: StripeTarget, chargeId: string, refundedTotal: number): Promise<RefundFact[] | null>;
  /** An invoice's billing_reason, for the refund of an invoice linked without it. */
  invoiceBillingReason(t: StripeTarget, invoiceId: string): Promise<string | null>;
  readonly stats: { calls: number; cacheHits: number; retries: number };
}

export interface EnricherOptions {
  readonly apiBase: string;
  readonly timeoutMs: number;
  readonly cacheMs: number;
  readonly cacheMax: number;
  readonly log: Logger;
  /** Called while waiting between retries (eachBatch's heartbeat keeps the group membership). */
  readonly onWait?: () => Promise<void>;
  /** True once the mapper is stopping: a retry loop gives up so the batch is redelivered later. */
  readonly isStopping?: () => boolean;
  readonly sleep?: (ms: number) => Promise<void>;
}

/** Stripe (and stripe-mock) may quote the key in an error message; logs never carry it. */
export const safeMessage = (err: unknown): string =>
  (err instanceof Error ? err.message : String(err)).replace(/\b(sk|rk|pk)_(test|live)_[A-Za-z0-9_]+/g, '$1_$2_[redacted]');

const isRetriable = (err: unknown): boolean => {
  if (err instanceof Stripe.errors.StripeConnectionError || err instanceof Stripe.errors.StripeRateLimitError) return true;
  if (err instanceof Stripe.errors.StripeAPIError) return true;
  if (err instanceof Stripe.errors.StripeError) return (err.statusCode ?? 500) >= 500 || err.statusCode === 409;
  return false;
};

export const createEnricher = (o: EnricherOptions): Enricher => {
  const base = new URL(o.apiBase);
  const clients = new Map<string, Stripe>();
  const clientOf = (key: string): Stripe => {
    let c = clients.get(key);
    if (!c) {
      c = new Stripe(key, {
        host: base.hostname,
        port: Number(base.port || (base.protocol === 'https:' ? 443 : 80)),
        protocol: base.protocol === 'http:' ? 'http' : 'https',
        maxNetworkRetries: 0, // ours, with backoff and heartbeats
        timeout: o.timeoutMs,
        telemetry: false,
      });
      clients.set(key, c);
    }
    return c;
  };
  const cache = new Map<string, { at: number; value: unknown }>();
  const stats = { calls: 0, cacheHits: 0, retries: 0 };
  const sleep = o.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));

  const cached = async <T>(t: StripeTarget, what: string, id: string, load: (s: Stripe, opts: Stripe.RequestOptions) => Promise<T>): Promise<T | null> => {
    const cacheKey = `${t.integrationId}\u0000${t.account ?? ''}\u0000${what}\u0000${id}`;
    const hit = cache.get(cacheKey);
    if (hit && Date.now() - hit.at < o.cacheMs) {
      stats.cacheHits++;
      return hit.value as T | null;
    }
    // stripe-node refuses an empty options object; maxNetworkRetries is always a valid key.
    const opts: Stripe.RequestOptions = t.account ? { stripeAccount: t.account, maxNetworkRetries: 0 } : { maxNetworkRetries: 0 };
    for (let attempt = 0; ; attempt++) {
      try {
        stats.calls++;
        const value = await load(clientOf(t.apiKey), opts);
        if (cache.size >= o.cacheMax) cache.delete(cache.keys().next().value!); // oldest first
        cache.set(cacheKey, { at: Date.now(), value });
        return value;
      } catch (err) {
        if (!isRetriable(err)) {
          o.log.warn({ integrationId: t.integrationId, what, id, status: (err as { statusCode?: number }).statusCode ?? null, err: safeMessage(err) }, 'stripe enrichment refused: mapping without it');
          return null;
        }
        if (o.isStopping?.()) throw new MapperError(`stripe ${what} unavailable while stopping`, true, { cause: err });
        const delay = enrichmentDelayMs(attempt, undefined, Math.random());
        stats.retries++;
        o.log.warn({ integrationId: t.integrationId, what, id, attempt: attempt + 1, nextDelayMs: delay, err: safeMessage(err) }, 'stripe enrichment failed, retrying');
        await o.onWait?.();
        await sleep(delay);
      }
    }
  };

  return {
    stats,
    checkoutLineItems: (t, sessionId) =>
      cached(t, 'line_items', sessionId, async (s, opts) => {
        const items = await s.checkout.sessions.listLineItems(sessionId, { limit: 100, expand: ['data.price.product'] }, opts).autoPagingToArray({ limit: 10_000 });
        return items.map(lineItemFromApi).filter((l): l is LineItem => l !== null);
      }),
    promotionCode: (t, promoId) =>
      cached(t, 'promotion_code', promoId, async (s, opts) => str((await s.promotionCodes.retrieve(promoId, {}, opts)).code)),
    invoicePromoCodes: (t, invoiceId) =>
      cached(t, 'invoice_discounts', invoiceId, async (s, opts) => {
        const inv = await s.invoices.retrieve(invoiceId, { expand: ['discounts.promotion_code'] }, opts);
        return (inv.discounts ?? []).flatMap((d) => {
          const code = str(path(d, 'promotion_code', 'code'));
          return code ? [code] : [];
        });
      }),
    orderOfPayment: (t, p) =>
      cached(t, 'order_of_payment', p.paymentIntent ?? p.chargeId, async (s, opts) => {
        // basil and later: the charge no longer names its invoice; invoice payments do.
        const payment = p.paymentIntent
          ? { type: 'payment_intent' as const, payment_intent: p.paymentIntent }
          : { type: 'charge' as const, charge: p.chargeId };
        const ips = await s.invoicePayments.list({ payment, limit: 1, expand: ['data.invoice'] } as Stripe.InvoicePaymentListParams, opts);
        const ip = ips.data[0];
        if (ip) {
          const inv = obj(ip.invoice);
          const invoiceId = idOf(ip.invoice);
          if (invoiceId) {
            return {
              orderId: invoiceId, kind: 'invoice' as const,
              subscriptionId: idOf(path(inv, 'parent', 'subscription_details', 'subscription')) ?? idOf(inv?.subscription),
              customerId: idOf(inv?.customer),
              billingReason: str(inv?.billing_reason),
            };
          }
        }
        if (!p.paymentIntent) return null;
        const sessions = await s.checkout.sessions.list({ payment_intent: p.paymentIntent, limit: 1 }, opts);
        const cs = sessions.data[0];
        return cs ? { orderId: cs.id, kind: 'checkout' as const, subscriptionId: null, customerId: idOf(cs.customer) } : null;
      }),
    invoiceBillingReason: (t, invoiceId) =>
      cached(t, 'invoice_billing_reason', invoiceId, async (s, opts) => str((await s.invoices.retrieve(invoiceId, {}, opts)).billing_reason)),
    refundsOfCharge: (t, chargeId, refundedTotal) =>
      cached(t, 'refunds', `${chargeId}:${refundedTotal}`, async (s, opts) =>
        refundFacts(await s.refunds.list({ charge: chargeId, limit: 100 }, opts).autoPagingToArray({ limit: 10_000 }))),
  };
};
