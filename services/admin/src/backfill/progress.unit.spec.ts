import { describe, expect, it } from 'vitest';
import { coveredFraction, runFraction } from './progress.js';

describe('coveredFraction', () => {
  it.each([
    { why: 'nothing written yet', oldest: null, done: false, then: 0 },
    { why: 'walked back a quarter of the range', oldest: 1_750, done: false, then: 0.25 },
    { why: 'reached the start', oldest: 1_000, done: false, then: 1 },
    { why: 'an event older than the range (stripe-mock ignores filters) counts as the whole range', oldest: 10, done: false, then: 1 },
    { why: 'an event newer than the end counts as nothing', oldest: 2_500, done: false, then: 0 },
    { why: 'done, whatever was seen', oldest: null, done: true, then: 1 },
  ])('$why', ({ oldest, done, then }) => expect(coveredFraction({ oldestCreated: oldest, done }, 1_000, 2_000)).toBe(then));

  it('an empty range is all or nothing', () => {
    expect(coveredFraction({ oldestCreated: 5, done: false }, 5, 5)).toBe(0);
    expect(coveredFraction({ oldestCreated: null, done: true }, 5, 5)).toBe(1);
  });
});

describe('runFraction', () => {
  it('averages the accounts', () => {
    expect(runFraction([{ oldestCreated: null, done: true }, { oldestCreated: 1_500, done: false }, { oldestCreated: null, done: false }], 1_000, 2_000)).toBeCloseTo(0.5);
  });
  it('a run without accounts is complete', () => expect(runFraction([], 0, 1)).toBe(1));
});
