import Stripe from 'stripe';
import { describe, expect, it } from 'vitest';
import { adviseStripeError, asDelivered, redactKeys } from './stripeEventSource.js';

const listed = (extra: Record<string, unknown> = {}) => ({
  id: 'evt_1', object: 'event', type: 'invoice.paid', api_version: '2025-03-31.basil', created: 1_764_000_000, livemode: false,
  data: { object: { id: 'in_1', object: 'invoice', customer: 'cus_1' } }, ...extra,
});

describe('asDelivered', () => {
  it('keeps a platform event as listed, serialized', () => {
    const e = asDelivered(listed(), null);
    expect(e).toMatchObject({ id: 'evt_1', created: 1_764_000_000 });
    expect(JSON.parse(e.raw.toString('utf8'))).toEqual(listed());
    expect(e.event.account).toBeUndefined();
  });
  it('names the Connect account a listed event left out, in the event and its bytes, as its webhook would', () => {
    const e = asDelivered(listed(), 'acct_9');
    expect(e.event.account).toBe('acct_9');
    expect(JSON.parse(e.raw.toString('utf8')).account).toBe('acct_9');
  });
  it('keeps the account an event already names', () => {
    expect(asDelivered(listed({ account: 'acct_1' }), 'acct_9').event.account).toBe('acct_1');
  });
});

const stripeError = (Cls: new (raw: Stripe.StripeRawError) => Error, statusCode: number | undefined, headers: Record<string, string> = {}) =>
  new Cls({ type: 'api_error', message: 'x', ...(statusCode ? { statusCode } : {}), headers });

describe('adviseStripeError', () => {
  it.each([
    { why: '429 with Retry-After', err: stripeError(Stripe.errors.StripeRateLimitError, 429, { 'retry-after': '3' }), then: { retry: true, afterMs: 3_000 } },
    { why: '429 without', err: stripeError(Stripe.errors.StripeRateLimitError, 429), then: { retry: true } },
    { why: 'network', err: stripeError(Stripe.errors.StripeConnectionError, undefined), then: { retry: true } },
    { why: '500', err: stripeError(Stripe.errors.StripeAPIError, 500), then: { retry: true } },
    { why: '409 lock timeout', err: stripeError(Stripe.errors.StripeInvalidRequestError, 409), then: { retry: true } },
    { why: '5xx Stripe says not to retry', err: stripeError(Stripe.errors.StripeAPIError, 500, { 'stripe-should-retry': 'false' }), then: { retry: false } },
    { why: '401 revoked key', err: stripeError(Stripe.errors.StripeAuthenticationError, 401), then: { retry: false } },
    { why: '403 missing permission', err: stripeError(Stripe.errors.StripePermissionError, 403), then: { retry: false } },
    { why: '400 bad request', err: stripeError(Stripe.errors.StripeInvalidRequestError, 400), then: { retry: false } },
    { why: 'not a Stripe error', err: new TypeError('bug'), then: { retry: false } },
  ])('$why', ({ err, then }) => expect(adviseStripeError(err)).toEqual(then));
});

describe('redactKeys', () => {
  it('hides API keys quoted in a message', () => {
    expect(redactKeys('Invalid API Key provided: rk_live_51Habc123 (or sk_test_xyz)')).toBe('Invalid API Key provided: rk_live_[redacted] (or sk_test_[redacted])');
  });
});
