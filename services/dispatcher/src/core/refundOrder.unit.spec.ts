import { describe, expect, it } from 'vitest';
import { aConversion, aDestination } from './testConversion.js';
import { refundsSetTotal } from './buildRequest.js';
import { attemptMayHaveLanded, decideOrderAction, decideRefundOrder, refundRank, reversalMayHaveLanded, type SaleRow, type SiblingRefund } from './refundOrder.js';

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

describe('decideRefundOrder: every partial refund sends the order\'s highest known refunded total', () => {
  const me = { action: 'refund:re_1', rank: 900 };
  const send = (total: number | null) => ({ go: 'send', refundedTotalMinor: total, saleCredited: true });
  it.each([
    { why: 'alone', siblings: [sib(me)], then: send(900) },
    { why: 'itself resent after a crash (same action, sending)', siblings: [sib({ ...me, status: 'sending', attempts: 1, leaseAlive: false })], then: send(900) },
    { why: 'a later refund already sent: the same higher total again, never back up', siblings: [sib(me), sib({ action: 'refund:re_2', rank: 1_900, status: 'sent', attempts: 1 })], then: send(1_900) },
    { why: 'a later refund attempted, retry pending', siblings: [sib(me), sib({ action: 'refund:re_2', rank: 1_900, status: 'pending', attempts: 1 })], then: send(1_900) },
    { why: 'a later refund given up after timeouts (it may have landed): still its total', siblings: [sib(me), sib({ action: 'refund:re_2', rank: 1_900, status: 'failed', attempts: 5 })], then: send(1_900) },
    { why: 'a later refund not attempted yet: its total is already the truth', siblings: [sib(me), sib({ action: 'refund:re_2', rank: 1_900 })], then: send(1_900) },
    { why: 'a later refund being sent now: the same total, no race on the amount', siblings: [sib(me), sib({ action: 'refund:re_2', rank: 1_900, status: 'sending', attempts: 1, leaseAlive: true })], then: send(1_900) },
    { why: 'the full refund already sent: the order is reversed', siblings: [sib(me), sib({ action: 'refund:re_9', rank: FULL, status: 'sent', attempts: 1 })], then: 'skip' },
    { why: 'the full refund attempted', siblings: [sib(me), sib({ action: 'refund:re_9', rank: FULL, status: 'failed', attempts: 3 })], then: 'skip' },
    { why: 'the full refund not attempted yet (it follows; this one is not lost if it dead-letters)', siblings: [sib(me), sib({ action: 'refund:re_9', rank: FULL })], then: send(900) },
    { why: 'an earlier refund being sent now', siblings: [sib(me), sib({ action: 'refund:re_0', rank: 500, status: 'sending', attempts: 1, leaseAlive: true })], then: 'wait' },
    { why: 'an earlier refund left sending by a dead instance (lease over)', siblings: [sib(me), sib({ action: 'refund:re_0', rank: 500, status: 'sending', attempts: 1, leaseAlive: false })], then: send(900) },
    { why: 'an earlier refund already sent', siblings: [sib(me), sib({ action: 'refund:re_0', rank: 500, status: 'sent', attempts: 1 })], then: send(900) },
    { why: 'a dry-run sibling does not count', siblings: [sib(me), sib({ action: 'refund:re_2', rank: 1_900, status: 'dry_run', attempts: 1 })], then: send(900) },
  ] as const)('$why', ({ siblings, then }) => {
    const d = decideRefundOrder(me, siblings);
    if (typeof then === 'string') expect(d.go).toBe(then);
    else expect(d).toEqual(then);
  });

  it('a full refund is sent as itself, after a partial one on the wire', () => {
    const full = { action: 'refund:re_9', rank: FULL };
    expect(decideRefundOrder(full, [sib(full), sib({ action: 'refund:re_2', rank: 1_900, status: 'sent', attempts: 1 })])).toEqual(send(null));
    expect(decideRefundOrder(full, [sib(full), sib({ action: 'refund:re_2', rank: 1_900, status: 'sending', attempts: 1, leaseAlive: true })]).go).toBe('wait');
  });

  it('says which reversal supersedes it', () => {
    const d = decideRefundOrder(me, [sib(me), sib({ action: 'refund:re_9', rank: FULL, status: 'sent', attempts: 1 })]);
    expect(d).toEqual({ go: 'skip', reason: expect.stringContaining('superseded by refund:re_9 (full refund)') });
  });
});

describe('decideOrderAction: a refund or reversal goes out only after its sale is credited', () => {
  const sale = (o: Partial<SaleRow> & { status: SaleRow['status'] }): SaleRow => ({ dueInMs: 0, lastError: null, ...o });
  const full = { action: 'refund:re_9', rank: FULL };
  it.each([
    { why: 'sale sent: send, the sale is credited', sale: sale({ status: 'sent' }), then: { go: 'send', refundedTotalMinor: null, saleCredited: true } },
    { why: 'sale still pending (queued or retrying): wait until it is due, no attempt', sale: sale({ status: 'pending', dueInMs: 8_000 }), then: { go: 'wait', delayMs: 8_500 } },
    { why: 'sale being sent: wait', sale: sale({ status: 'sending' }), then: { go: 'wait', delayMs: 500 } },
    // impact answered the sale QUEUED and has not processed it: its PUT/DELETE on the action would 404, so the refund is not sent yet.
    { why: 'sale queued at impact, its submission not settled: not credited, wait for its next check', sale: sale({ status: 'pending', dueInMs: 10_000, queuedAtPartner: true }),
      then: { go: 'wait', delayMs: 10_500, reason: 'the sale of order in_1 is not credited yet (queued at the partner, not processed yet)' } },
    { why: 'sale queued at impact, its status being checked now: wait', sale: sale({ status: 'sending', queuedAtPartner: true }), then: { go: 'wait', delayMs: 500 } },
    { why: 'sale rejected by impact after queueing: dead-letter with impact\'s reason', sale: sale({ status: 'failed', lastError: 'impact rejected submission /Advertisers/s/APISubmissions/A-1: Contract Error: CONTRACT_NOT_FOUND' }),
      then: { go: 'dead', reason: expect.stringContaining('was never credited to this destination (impact rejected submission /Advertisers/s/APISubmissions/A-1: Contract Error: CONTRACT_NOT_FOUND)') } },
    { why: 'sale far in its retry schedule: polled at most a minute apart', sale: sale({ status: 'pending', dueInMs: 3_600_000 }), then: { go: 'wait', delayMs: 60_000 } },
    { why: 'sale dead-lettered: nothing to refund, dead-letter with the sale\'s error', sale: sale({ status: 'failed', lastError: 'HTTP 401: no' }), then: { go: 'dead', reason: expect.stringMatching(/sale of order in_1 was never credited .*HTTP 401: no.*nothing to refund/) } },
    { why: 'no sale row (credited before this ledger, or not read yet): send, but the sale is not known to be credited', sale: null, then: { go: 'send', refundedTotalMinor: null, saleCredited: false } },
  ] as const)('$why', ({ sale: s, then }) => {
    expect(decideOrderAction({ orderId: 'in_1', sale: s, setsTotal: true, mine: full, siblings: [sib(full)] })).toMatchObject(then);
  });

  it('a reversal (no rank) or a partner taking deltas is not ordered among refunds, only after the sale', () => {
    const partialOnWire = sib({ action: 'refund:re_1', rank: 900, status: 'sending', attempts: 1, leaseAlive: true });
    expect(decideOrderAction({ orderId: 'in_1', sale: sale({ status: 'sent' }), setsTotal: false, mine: full, siblings: [sib(full), partialOnWire] }))
      .toEqual({ go: 'send', refundedTotalMinor: null, saleCredited: true });
    expect(decideOrderAction({ orderId: 'in_1', sale: sale({ status: 'sent' }), setsTotal: true, mine: full, siblings: [sib(full), partialOnWire] }).go).toBe('wait');
    expect(decideOrderAction({ orderId: 'in_1', sale: sale({ status: 'pending' }), setsTotal: false, mine: null, siblings: [] }).go).toBe('wait');
  });
});

describe('a 404 to a reversal means "already done" only after our own attempt may have landed, on a credited sale', () => {
  it.each([
    { landed: true, credited: true, then: true },
    { landed: false, credited: true, then: false }, // earlier attempts all got definite answers (404: not processed yet)
    { landed: true, credited: false, then: false }, // the ledger never credited the sale: the order may never have been there
    { landed: false, credited: false, then: false },
  ])('may have landed $landed, sale credited $credited → $then', ({ landed, credited, then }) => expect(reversalMayHaveLanded(landed, credited)).toBe(then));
  it.each([
    { status: null, then: true }, { status: 500, then: true }, { status: 503, then: true },
    { status: 404, then: false }, { status: 429, then: false }, { status: 408, then: false },
  ])('an attempt answered $status may have landed: $then', ({ status, then }) => expect(attemptMayHaveLanded(status)).toBe(then));
});

describe('refundsSetTotal: which partners get their refunds in order', () => {
  it('only impact (Actions API Amount is the new total); PartnerStack refunds are deltas, a dry run sends nothing', () => {
    const types = ['impact', 'partnerstack', 'everflow', 'tracknow', 'webhook', 'dry_run'] as const;
    expect(types.filter((t) => refundsSetTotal(aDestination(t, t === 'dry_run' ? { target: 'impact' } : {})))).toEqual(['impact']);
  });
});
