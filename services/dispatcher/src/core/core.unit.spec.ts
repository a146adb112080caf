import { describe, expect, it } from 'vitest';
import { aConversion, aDestination } from './testConversion.js';
import { actionOf, isFullRefund } from './dispatchAction.js';
import { decideRetry } from './retrySchedule.js';
import { fullBucket, msUntilToken, partnerDefaultRatePerSec, rateLimitOf, takeTokens } from './rateLimit.js';
import { admit, closedBreaker, recordResult, type Breaker } from './circuitBreaker.js';
import { buildRequest, inDoubtNote, partnerDedupes, planDispatch, redactRequest } from './buildRequest.js';
import { classifyResponse, partnerWaitMs, retryAfterMs } from './classifyResponse.js';
import { isUnsendable, type PartnerRequest } from './partnerRequest.js';

describe('actionOf: the ledger action key', () => {
  it.each([
    { kind: 'SALE_FIRST', o: {}, then: { action: 'credit', actionKey: 'credit' } },
    { kind: 'TRANSACTION', o: {}, then: { action: 'credit', actionKey: 'credit' } },
    { kind: 'REFUND_PARTIAL', o: { refundId: 're_1' }, then: { action: 'refund', actionKey: 'refund:re_1' } },
    { kind: 'REFUND_PARTIAL', o: { refundId: 're_2' }, then: { action: 'refund', actionKey: 'refund:re_2' } },
    { kind: 'REFUND_FULL', o: { refundId: null, conversionId: 'cnv_r' }, then: { action: 'refund', actionKey: 'refund:cnv_r' } },
    { kind: 'REVERSAL', o: {}, then: { action: 'reverse', actionKey: 'reverse' } },
    { kind: 'CUSTOMER_IDENTITY', o: {}, then: { action: 'identify', actionKey: 'identify' } },
  ] as const)('$kind $o → $then.actionKey', ({ kind, o, then }) => expect(actionOf(aConversion({ kind, ...o }))).toEqual(then));

  it.each([
    { o: { kind: 'REFUND_FULL' }, then: true },
    { o: { kind: 'REFUND_PARTIAL', orderAmountMinor: 4_900, refundedTotalMinor: 4_900 }, then: true },
    { o: { kind: 'REFUND_PARTIAL', orderAmountMinor: 4_900, refundedTotalMinor: 4_899 }, then: false },
    { o: { kind: 'REFUND_PARTIAL', orderAmountMinor: null, refundedTotalMinor: null }, then: false },
  ] as const)('isFullRefund($o) = $then', ({ o, then }) => expect(isFullRefund(aConversion(o))).toBe(then));
});

describe('decideRetry: full jitter, Retry-After, end of schedule', () => {
  const schedule = [1_000, 4_000, 16_000];
  it.each([
    { attempt: 1, random: 0.5, ra: null, then: { retryInMs: 500 } },
    { attempt: 2, random: 1, ra: null, then: { retryInMs: 4_000 } },
    { attempt: 2, random: 0, ra: null, then: { retryInMs: 0 } },
    { attempt: 1, random: 0.1, ra: 30_000, then: { retryInMs: 30_000 } }, // never earlier than the partner asked
    { attempt: 3, random: 0.5, ra: 1_000, then: { retryInMs: 8_000 } },
    { attempt: 4, random: 0.5, ra: null, then: { giveUp: true } },
  ])('attempt $attempt, random $random, Retry-After $ra → $then', ({ attempt, random, ra, then }) =>
    expect(decideRetry(schedule, attempt, random, ra)).toEqual(then));

  it.each([
    { header: '2', then: 2_000 },
    { header: 'Wed, 25 Nov 2026 12:00:10 GMT', then: 10_000 },
    { header: 'soon', then: null },
    { header: null, then: null },
  ])('Retry-After $header → $then ms', ({ header, then }) => expect(retryAfterMs(header, Date.parse('2026-11-25T12:00:00Z'))).toBe(then));
});

// Issue 14 item 9: impact answers a 429 with X-RateLimit-Reset, described as seconds until the
// reset with a Unix time as its example (integrations.impact.com/impact-brand/reference/rate-limits).
describe('partner wait', () => {
  const now = Date.parse('2026-11-25T12:00:00Z');
  it.each([
    { name: 'X-RateLimit-Reset in seconds', a: { retryAfter: null, rateLimitReset: '30' }, then: 30_000 },
    { name: 'X-RateLimit-Reset as a Unix time', a: { retryAfter: null, rateLimitReset: String(now / 1000 + 90) }, then: 90_000 },
    { name: 'X-RateLimit-Reset already past', a: { retryAfter: null, rateLimitReset: String(now / 1000 - 5) }, then: 0 },
    { name: 'the later of both headers', a: { retryAfter: '5', rateLimitReset: '20' }, then: 20_000 },
    { name: 'Retry-After alone', a: { retryAfter: '5' }, then: 5_000 },
    { name: 'an unreadable reset', a: { retryAfter: null, rateLimitReset: 'soon' }, then: null },
    { name: 'neither', a: { retryAfter: null, rateLimitReset: null }, then: null },
  ])('$name → $then ms', ({ a, then }) => expect(partnerWaitMs({ status: 429, body: '', ...a }, now)).toBe(then));
});

describe('token bucket', () => {
  it.each([
    { type: 'impact', then: 50 }, // conversions are not limited (reference/rate-limits): the dispatcher's default, not 1,000/h
    { type: 'everflow', then: 30 },
    { type: 'webhook', then: 50 },
  ])('default rate of $type: $then a second', ({ type, then }) => expect(partnerDefaultRatePerSec(type, 50)).toBe(then));

  it('an hourly limit (rateLimitPerHour 1,000) allows a small burst, then one every 3.6 s', () => {
    const l = rateLimitOf({ rateLimitPerHour: 1000 }, 50);
    expect(l.burst).toBe(17);
    let b = fullBucket(l, 0);
    const first = takeTokens(b, l, 0, 100);
    expect(first.granted).toBe(17);
    b = first.bucket;
    expect(takeTokens(b, l, 3_500, 1).granted).toBe(0);
    expect(msUntilToken(b, l, 0)).toBe(3_600);
    expect(takeTokens(b, l, 3_601, 5).granted).toBe(1);
  });
  it.each([
    { settings: { rateLimitPerSecond: 30 }, then: { ratePerSec: 30, burst: 30 } },
    { settings: { rateLimitPerHour: 7_200 }, then: { ratePerSec: 2, burst: 2 } },
    { settings: { rateLimitPerSecond: 10, rateLimitBurst: 50 }, then: { ratePerSec: 10, burst: 50 } },
    { settings: {}, then: { ratePerSec: 50, burst: 50 } },
  ])('rateLimitOf($settings)', ({ settings, then }) => expect(rateLimitOf(settings, 50)).toEqual(then));
});

describe('circuit breaker', () => {
  const cfg = { threshold: 3, openMs: 1_000 };
  const fail = (b: Breaker, now = 0) => recordResult(b, false, now, cfg);
  it('opens after the threshold of failures in a row, lets one probe through after the cool-down', () => {
    let b = fail(fail(closedBreaker));
    expect(b).toEqual({ state: 'closed', failures: 2 });
    b = fail(b, 10);
    expect(b).toEqual({ state: 'open', until: 1_010 });
    expect(admit(b, 500, 5).allowed).toBe(0);
    const probe = admit(b, 1_010, 5);
    expect(probe).toEqual({ breaker: { state: 'half_open', probing: true }, allowed: 1 });
    expect(admit(probe.breaker, 1_011, 5).allowed).toBe(0); // one probe at a time
    expect(recordResult(probe.breaker, true, 1_020, cfg)).toEqual(closedBreaker);
    expect(fail(probe.breaker, 1_020)).toEqual({ state: 'open', until: 2_020 });
  });
  it('a success resets the count', () => {
    expect(recordResult(fail(fail(closedBreaker)), true, 0, cfg)).toEqual(closedBreaker);
  });
});

describe('planDispatch and dry runs', () => {
  it.each([
    { type: 'impact', c: aConversion({ kind: 'TRANSACTION' }), then: { skip: expect.stringMatching(/not sent to impact/) } },
    { type: 'partnerstack', c: aConversion({ kind: 'CUSTOMER_IDENTITY' }), then: { action: 'identify', actionKey: 'identify', needsEmail: true } },
    { type: 'webhook', c: aConversion({ kind: 'REFUND_PARTIAL', refundId: 're_9' }), then: { action: 'refund', actionKey: 'refund:re_9', needsEmail: false } },
    { type: 'dry_run', c: aConversion(), then: { action: 'credit', actionKey: 'credit', needsEmail: false } },
  ] as const)('$type, $c.kind → $then', ({ type, c, then }) => expect(planDispatch(c, aDestination(type))).toEqual(then));

  // Issue 15 class 6: a refund of a sale impact does not send is skipped here, before the ledger,
  // so it never waits for a sale that will not be credited; a misspelt choice is no skip but a
  // config error at build, dead-lettered with the field named.
  const impactSettings = { accountSid: 'IRsid', campaignId: '1', eventTypeId: '2', recurringEventTypeId: '3' };
  it.each([
    { name: 'an upgrade invoice, other invoices skipped', c: aConversion({ kind: 'SALE_OTHER', saleReason: 'subscription_update' }), choice: 'skip',
      then: { skip: 'impact: a subscription_update invoice is not sent (otherInvoiceSales: skip)' } },
    { name: 'its refund', c: aConversion({ kind: 'REFUND_FULL', saleReason: 'subscription_update', refundId: 're_1' }), choice: 'skip',
      then: { skip: 'impact: refund of a subscription_update invoice, whose sale is not sent (otherInvoiceSales: skip)' } },
    { name: 'its refund, other invoices on the first-sale tracker', c: aConversion({ kind: 'REFUND_FULL', saleReason: 'subscription_update', refundId: 're_1' }), choice: 'firstSaleTracker',
      then: { action: 'refund', actionKey: 'refund:re_1', needsEmail: false } },
    // A sale asks for the plain email: impact's CustomerEmail is its SHA-1 (issue 14 item 6).
    { name: 'a misspelt choice (planned, then unsendable at build)', c: aConversion({ kind: 'SALE_OTHER', saleReason: 'manual' }), choice: 'recurring',
      then: { action: 'credit', actionKey: 'credit', needsEmail: true } },
  ] as const)('impact otherInvoiceSales $choice: $name', ({ c, choice, then }) => {
    const d = aDestination('impact', { ...impactSettings, otherInvoiceSales: choice }, { authToken: 't' });
    expect(planDispatch(c, d)).toEqual(then);
    if (choice === 'recurring') {
      const r = buildRequest(c, d, { nowMs: 0, email: null });
      expect(isUnsendable(r) && r.invalid).toBe('destination dst_impact: setting "otherInvoiceSales" must be one of recurringTracker, firstSaleTracker, skip');
    }
  });

  it('a dry run builds its target\'s request with placeholder credentials; the record carries no secret', () => {
    const d = aDestination('dry_run', { target: 'impact', accountSid: 'IRsid', campaignId: '1', eventTypeId: '2', recurringEventTypeId: '3' });
    const r = buildRequest(aConversion(), d, { nowMs: 0, email: null }) as PartnerRequest;
    expect(r.url).toBe('https://api.impact.com/Advertisers/IRsid/Conversions');
    expect(redactRequest(r).headers.authorization).toBe('[redacted]');
  });

  it('redacts tokens and plain emails from a recorded request', () => {
    const r: PartnerRequest = { action: 'credit', method: 'GET', url: 'https://t.example/?email=a%40b.c&verification_token=vt&order_id=1', headers: {}, body: null };
    expect(Object.fromEntries(new URL(redactRequest(r).url).searchParams)).toEqual({ email: '[redacted]', verification_token: '[redacted]', order_id: '1' });
  });

  it('a setting missing or a currency no partner can take: unsendable (dead-lettered with the reason), not thrown', () => {
    const missing = buildRequest(aConversion(), aDestination('webhook'), { nowMs: 0, email: null });
    expect(isUnsendable(missing) && missing.invalid).toMatch(/"url" is required/);
    const badCurrency = buildRequest(aConversion({ currency: 'X1' }), aDestination('tracknow', { namespace: 'n', campaignId: '1' }), { nowMs: 0, email: null });
    expect(isUnsendable(badCurrency) && badCurrency.invalid).toMatch(/CurrencyError/);
  });
});

describe('classifyResponse (default)', () => {
  it.each([
    { status: 200, body: '{"Status":"QUEUED","QueuedUri":"/q/1"}', then: { ok: true, partnerRef: '/q/1' } },
    { status: 200, body: '{"Status":"ERROR"}', then: { ok: false, retriable: false } },
    { status: 429, body: '', then: { ok: false, retriable: true } },
    { status: 503, body: '', then: { ok: false, retriable: true } },
    { status: 408, body: '', then: { ok: false, retriable: true } },
    { status: 422, body: 'bad', then: { ok: false, retriable: false, error: 'HTTP 422: bad' } },
  ])('$status $body', ({ status, body, then }) => expect(classifyResponse({ status, body, retryAfter: null })).toMatchObject(then));
});

describe('inDoubtNote: resends to a partner that cannot dedupe are flagged', () => {
  it.each([
    { type: 'tracknow', attempt: 1, then: null },
    { type: 'tracknow', attempt: 2, then: 'in doubt: resent after attempt 1 may have reached tracknow, which documents no dedupe; order in_9 may be credited twice there, check it' },
    { type: 'impact', attempt: 2, then: null },
    { type: 'partnerstack', attempt: 3, then: null },
    // Everflow offers allow duplicate conversions by default (seed 004): no dedupe, so flagged; an offer that rejects them dedupes.
    { type: 'everflow', attempt: 2, then: 'in doubt: resent after attempt 1 may have reached everflow, which documents no dedupe; order in_9 may be credited twice there, check it' },
    { type: 'webhook', attempt: 2, then: null },
  ] as const)('$type attempt $attempt', ({ type, attempt, then }) => expect(inDoubtNote(aDestination(type, {}), 'in_9', attempt)).toBe(then));

  it('a resent reversal is never in doubt: it cannot count twice (Everflow\'s voids the whole conversion)', () => {
    expect(inDoubtNote(aDestination('everflow', {}), 'in_9', 2, 'refund')).toBeNull();
    expect(inDoubtNote(aDestination('everflow', {}), 'in_9', 2, 'reverse')).toBeNull();
    expect(inDoubtNote(aDestination('everflow', {}), 'in_9', 2, 'credit')).toMatch(/^in doubt: /);
  });

  it('Tracknow documents no dedupe, nor Everflow under Allow Duplicate Conversions (the default); a dry run follows its target', () => {
    expect(['impact', 'partnerstack', 'everflow', 'tracknow', 'webhook'].filter((t) => !partnerDedupes(aDestination(t as 'impact', {})))).toEqual(['everflow', 'tracknow']);
    expect(partnerDedupes(aDestination('everflow', { allowDuplicateConversions: false }))).toBe(true);
    expect(partnerDedupes(aDestination('dry_run', { target: 'tracknow' }))).toBe(false);
    expect(partnerDedupes(aDestination('dry_run', { target: 'everflow' }))).toBe(false);
  });
});
