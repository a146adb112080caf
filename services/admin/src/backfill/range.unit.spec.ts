import { describe, expect, it } from 'vitest';
import { parseTimeArg, resolveRange } from './range.js';

const NOW = Date.parse('2026-11-25T12:00:00Z');
const sec = (iso: string) => Date.parse(iso) / 1000;

describe('parseTimeArg', () => {
  it.each([
    { input: 'now', then: NOW },
    { input: '-7d', then: NOW - 7 * 86_400_000 },
    { input: '-12h', then: NOW - 12 * 3_600_000 },
    { input: '-30m', then: NOW - 30 * 60_000 },
    { input: '-90s', then: NOW - 90_000 },
    { input: '2026-11-20T08:00:00Z', then: Date.parse('2026-11-20T08:00:00Z') },
    { input: '2026-11-20T08:00:00+01:00', then: Date.parse('2026-11-20T07:00:00Z') },
    { input: '2026-11-20', then: Date.parse('2026-11-20T00:00:00Z') },
    { input: '7d', then: null },
    { input: '-7w', then: null },
    { input: 'yesterday', then: null },
    { input: '2026-13-45', then: null },
    { input: '1764000000', then: null },
  ])('$input', ({ input, then }) => expect(parseTimeArg(input, NOW)).toBe(then));
});

describe('resolveRange', () => {
  it.each([
    { why: 'relative start, to now', from: '-7d', to: undefined, then: { fromSec: sec('2026-11-18T12:00:00Z'), toSec: sec('2026-11-25T12:00:00Z'), clampedTo: false } },
    { why: 'exactly 30 days back is allowed', from: '-30d', to: '-29d', then: { fromSec: sec('2026-10-26T12:00:00Z'), toSec: sec('2026-10-27T12:00:00Z'), clampedTo: false } },
    { why: 'a future end is clamped to now', from: '2026-11-24T00:00:00Z', to: '2026-12-01T00:00:00Z', then: { fromSec: sec('2026-11-24T00:00:00Z'), toSec: sec('2026-11-25T12:00:00Z'), clampedTo: true } },
    { why: 'milliseconds round inwards', from: '2026-11-24T00:00:00.400Z', to: '2026-11-24T01:00:00.900Z', then: { fromSec: sec('2026-11-24T00:00:01Z'), toSec: sec('2026-11-24T01:00:00Z'), clampedTo: false } },
  ])('$why', ({ from, to, then }) => expect(resolveRange({ from, to, nowMs: NOW })).toEqual({ ok: true, range: then }));

  it.each([
    { why: 'older than Stripe keeps events', from: '-31d', to: undefined, says: /more than 30 days ago: Stripe keeps events for 30 days, so the earliest start is 2026-10-26T12:00:00.000Z/ },
    { why: 'an ISO start 30 days and a second back', from: '2026-10-26T11:59:59Z', to: undefined, says: /more than 30 days ago/ },
    { why: 'start after end', from: '-1d', to: '-2d', says: /is after --to/ },
    { why: 'not a time', from: 'last week', to: undefined, says: /--from "last week" is not a time/ },
    { why: 'a bad end', from: '-1d', to: 'soon', says: /--to "soon" is not a time/ },
  ])('refuses $why', ({ from, to, says }) => {
    const r = resolveRange({ from, to, nowMs: NOW });
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.message).toMatch(says);
  });
});
