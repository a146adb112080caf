import { describe, expect, it } from 'vitest';
import { aConversion, aDestination } from './testConversion.js';
import { refundsSetTotal } from './buildRequest.js';
import { decideRefundOrder, refundRank, type SiblingRefund } from './refundOrder.js';

const sib = (o: Partial<SiblingRefund> & { action: string; rank: number }): SiblingRefund =>
  ({ status: 'pending', attempts: 0, leaseAlive: false, ...o });
const FULL = Number.MAX_SAFE_INTEGER;

describe('refundRank: how far a refund brings its order', () => {
  it.each([
    { o: { kind: 'SALE_FIRST' }, then: null },
    { o: { kind: 'REFUND_PARTIAL', orderAmountMinor: 4_900, refundedTotalMinor: 900 }, then: 900 },
    { o: { kind: 'REFUND_PARTIAL', orderAmountMinor: 4_900, refundedTotalMinor: 4_900 }, then: FULL },
    { o: { kind: 'REFUND_PARTIAL', orderAmountMinor: null, refundedTotalMinor: null }, then: null },
    { o: { kind: 'REFUND_FULL', refundedTotalMinor: null }, then: FULL },
  ] as const)('$o → $then', ({ o, then }) => expect(refundRank(aConversion(o))).toBe(then));
});

describe('decideRefundOrder: the totals sent for one order only go down', () => {
  const me = { action: 'refund:re_1', rank: 900 };
  it.each([
    { why: 'alone', siblings: [sib(me)], then: 'send' },
    { why: 'itself resent after a crash (same action, sending)', siblings: [sib({ ...me, status: 'sending', attempts: 1, leaseAlive: false })], then: 'send' },
    { why: 'a later refund already sent', siblings: [sib(me), sib({ action: 'refund:re_2', rank: 1_900, status: 'sent', attempts: 1 })], then: 'skip' },
    { why: 'a later refund attempted, retry pending (it may have reached the partner)', siblings: [sib(me), sib({ action: 'refund:re_2', rank: 1_900, status: 'pending', attempts: 1 })], then: 'skip' },
    { why: 'a later refund being sent now', siblings: [sib(me), sib({ action: 'refund:re_2', rank: 1_900, status: 'sending', attempts: 1, leaseAlive: true })], then: 'skip' },
    { why: 'the full refund already sent', siblings: [sib(me), sib({ action: 'refund:re_9', rank: FULL, status: 'sent', attempts: 1 })], then: 'skip' },
    { why: 'a later refund not attempted yet (it will follow)', siblings: [sib(me), sib({ action: 'refund:re_2', rank: 1_900 })], then: 'send' },
    { why: 'a later refund given up (dead-lettered: never applied)', siblings: [sib(me), sib({ action: 'refund:re_2', rank: 1_900, status: 'failed', attempts: 5 })], then: 'send' },
    { why: 'an earlier refund being sent now', siblings: [sib(me), sib({ action: 'refund:re_0', rank: 500, status: 'sending', attempts: 1, leaseAlive: true })], then: 'wait' },
    { why: 'an earlier refund left sending by a dead instance (lease over)', siblings: [sib(me), sib({ action: 'refund:re_0', rank: 500, status: 'sending', attempts: 1, leaseAlive: false })], then: 'send' },
    { why: 'an earlier refund already sent', siblings: [sib(me), sib({ action: 'refund:re_0', rank: 500, status: 'sent', attempts: 1 })], then: 'send' },
  ] as const)('$why → $then', ({ siblings, then }) => expect(decideRefundOrder(me, siblings).go).toBe(then));

  it('says which refund supersedes it', () => {
    const d = decideRefundOrder(me, [sib(me), sib({ action: 'refund:re_2', rank: 1_900, status: 'sent', attempts: 1 })]);
    expect(d).toEqual({ go: 'skip', reason: expect.stringContaining('superseded by refund:re_2 (refunded total 1900 > 900)') });
  });
});

describe('refundsSetTotal: which partners get their refunds in order', () => {
  it('only impact (Actions API Amount is the new total); PartnerStack refunds are deltas, a dry run sends nothing', () => {
    const types = ['impact', 'partnerstack', 'everflow', 'tracknow', 'webhook', 'dry_run'] as const;
    expect(types.filter((t) => refundsSetTotal(aDestination(t, t === 'dry_run' ? { target: 'impact' } : {})))).toEqual(['impact']);
  });
});
