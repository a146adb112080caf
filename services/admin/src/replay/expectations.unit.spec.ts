import { describe, expect, it } from 'vitest';
import { expectationOf, judgeConversion, type DestinationPlan } from './expectations.js';

const now = 1_764_000_000_000;
const plans: DestinationPlan[] = [{ destinationId: 'a', actionKey: 'credit' }, { destinationId: 'b', actionKey: 'credit' }, { destinationId: 'c', skip: 'tracks charges' }];
const ledger = (rows: Record<string, string>) => (d: string, order: string, action: string) => rows[`${d}/${order}/${action}`];

describe('conversion replay expectations', () => {
  it.each([
    [undefined, 'would_send'], ['sent', 'already_credited'], ['dry_run', 'dry_run_recorded'], ['failed', 'dead_lettered'],
    ['pending', 'in_progress'], ['sending', 'in_progress'],
  ] as const)('ledger status %s → %s', (status, expected) => {
    expect(expectationOf(status)).toBe(expected);
  });

  it.each([
    ['credited everywhere: re-sent, the ledger answers duplicate', { notBefore: now - 1, receivedAt: now - 1 }, { 'a/in_1/credit': 'sent', 'b/in_1/credit': 'sent' }, null,
      { resend: true, skipped: null, destinations: { a: 'already_credited', b: 'already_credited', c: 'skipped_by_destination' } }],
    ['one destination added since', { notBefore: now - 1, receivedAt: now - 1 }, { 'a/in_1/credit': 'sent' }, null,
      { resend: true, skipped: null, destinations: { a: 'already_credited', b: 'would_send', c: 'skipped_by_destination' } }],
    ['still on hold', { notBefore: now + 60_000, receivedAt: now - 1 }, {}, null,
      { resend: false, skipped: `on hold until ${new Date(now + 60_000).toISOString()}: the scheduler releases it`, destinations: { a: 'would_send', b: 'would_send', c: 'skipped_by_destination' } }, 'held'],
    ['hold over, released by the scheduler', { notBefore: now - 1, receivedAt: now - 3_600_000 }, { 'a/in_1/credit': 'failed' }, null,
      { resend: true, skipped: null, destinations: { a: 'dead_lettered', b: 'would_send', c: 'skipped_by_destination' } }, 'released'],
    ['hold over, not released yet', { notBefore: now - 1, receivedAt: now - 3_600_000 }, {}, null,
      { resend: false, skipped: 'held in the scheduler: the scheduler releases it', destinations: { a: 'would_send', b: 'would_send', c: 'skipped_by_destination' } }, 'held'],
    ['hold over, the scheduler has not read it yet', { notBefore: now - 1, receivedAt: now - 3_600_000 }, {}, null,
      { resend: false, skipped: 'not held by the scheduler yet: the scheduler releases it', destinations: { a: 'would_send', b: 'would_send', c: 'skipped_by_destination' } }, null],
    ['cancelled by an operator: never sent', { notBefore: now - 1, receivedAt: now - 3_600_000 }, {}, null,
      { resend: false, skipped: 'cancelled in the scheduler: never sent', destinations: { a: 'would_send', b: 'would_send', c: 'skipped_by_destination' } }, 'cancelled'],
    ['release state unknown', { notBefore: now - 1, receivedAt: now - 3_600_000 }, {}, null,
      { resend: false, skipped: 'release state unknown in the scheduler: resolve it there first', destinations: { a: 'would_send', b: 'would_send', c: 'skipped_by_destination' } }, 'unknown'],
    ['--destination with nothing to send there', { notBefore: now - 1, receivedAt: now - 1 }, { 'a/in_1/credit': 'sent' }, 'a',
      { resend: false, skipped: 'nothing to send to a', destinations: { a: 'already_credited' } }],
    ['--destination with something to send there', { notBefore: now - 1, receivedAt: now - 1 }, { 'a/in_1/credit': 'sent' }, 'b',
      { resend: true, skipped: null, destinations: { b: 'would_send' } }],
  ] as [string, { notBefore: number; receivedAt: number }, Record<string, string>, string | null, unknown, (string | null)?][])('%s', (_what, times, rows, only, expected, holdState = null) => {
    expect(judgeConversion({ ...times, orderId: 'in_1' }, plans, ledger(rows), { nowMs: now, onlyDestination: only, holdState })).toEqual(expected);
  });
});
