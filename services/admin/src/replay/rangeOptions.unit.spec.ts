import { describe, expect, it } from 'vitest';
import { CliError } from '../cli/context.js';
import { rangeOf } from './rangeOptions.js';

describe('replay range options', () => {
  it.each([
    [{ from: '2026-11-25T10:00:00Z' }, { by: 'time', fromMs: Date.parse('2026-11-25T10:00:00Z'), toMs: null }],
    [{ from: '1000', to: '2000' }, { by: 'time', fromMs: 1000, toMs: 2000 }],
    [{ partition: '3', fromOffset: '10' }, { by: 'offset', partition: 3, fromOffset: '10', toOffset: null }],
    [{ partition: '0', fromOffset: '10', toOffset: '10' }, { by: 'offset', partition: 0, fromOffset: '10', toOffset: '10' }],
  ])('%j → %j', (o, expected) => {
    expect(rangeOf(o)).toEqual(expected);
  });

  it.each([
    [{}, /say what to replay/],
    [{ from: 'yesterday-ish' }, /not a time/],
    [{ from: '2000', to: '1000' }, /before --from/],
    [{ from: '1000', partition: '1', fromOffset: '0' }, /not both/],
    [{ partition: '1' }, /needs --partition and --from-offset/],
    [{ partition: '1', fromOffset: '5', toOffset: '4' }, /before --from-offset/],
    [{ partition: '1', fromOffset: '-5' }, /not an offset/],
  ])('%j is a usage error', (o, message) => {
    expect(() => rangeOf(o)).toThrow(message);
    try { rangeOf(o); } catch (err) { expect((err as CliError).exitCode).toBe(2); }
  });
});
