import { describe, expect, it } from 'vitest';
import { RawEventHeaders, type StripeEventEnvelope } from '@sas/contracts';
import { customerOf, rawEventRecord } from './rawEventRecord.js';

const event = (o: Record<string, unknown>, extra: Partial<StripeEventEnvelope> = {}): StripeEventEnvelope => ({
  id: 'evt_1', object: 'event', type: 'invoice.paid', api_version: '2025-03-31.basil', created: 1_764_000_000, livemode: false,
  data: { object: o }, ...extra,
});

describe('customerOf', () => {
  it.each([
    { why: 'a customer id field', o: { id: 'in_1', object: 'invoice', customer: 'cus_1' }, then: 'cus_1' },
    { why: 'an expanded customer', o: { id: 'ch_1', object: 'charge', customer: { id: 'cus_2' } }, then: 'cus_2' },
    { why: 'a customer object is its own', o: { id: 'cus_3', object: 'customer' }, then: 'cus_3' },
    { why: 'no customer', o: { id: 'plan_1', object: 'plan' }, then: null },
    { why: 'an empty customer', o: { id: 'in_2', object: 'invoice', customer: '' }, then: null },
  ])('$why', ({ o, then }) => expect(customerOf(event(o))).toBe(then));
});

describe('rawEventRecord', () => {
  const raw = Buffer.from('{"id":"evt_1"}');
  it('keys by integration, account and customer, keeps the bytes and labels the event', () => {
    const r = rawEventRecord({ integrationId: 'int_1', raw, event: event({ id: 'in_1', customer: 'cus_1' }, { account: 'acct_9' }), receivedAtMs: 42 });
    expect(r.key).toBe('int_1:acct_9:cus_1');
    expect(r.value).toBe(raw);
    expect(r.headers).toEqual({
      [RawEventHeaders.integrationId]: 'int_1', [RawEventHeaders.eventId]: 'evt_1', [RawEventHeaders.eventType]: 'invoice.paid',
      [RawEventHeaders.apiVersion]: '2025-03-31.basil', [RawEventHeaders.livemode]: 'false', [RawEventHeaders.account]: 'acct_9',
      [RawEventHeaders.receivedAt]: '42',
    });
  });
  it('falls back to the object id when there is no customer, and "-" for the platform account', () => {
    expect(rawEventRecord({ integrationId: 'int_1', raw, event: event({ id: 'plan_1' }), receivedAtMs: 1 }).key).toBe('int_1:-:plan_1');
  });
  it('names the backfill run only when there is one', () => {
    const e = event({ id: 'in_1', customer: 'cus_1' });
    expect(rawEventRecord({ integrationId: 'i', raw, event: e, receivedAtMs: 1, backfillRunId: 'bf_1' }).headers[RawEventHeaders.backfillRun]).toBe('bf_1');
    expect(RawEventHeaders.backfillRun in rawEventRecord({ integrationId: 'i', raw, event: e, receivedAtMs: 1 }).headers).toBe(false);
  });
});
