import { describe, expect, it } from 'vitest';
import { batchOutcomeCounts, countBy } from './metrics.js';

const conv = (eventId: string, integrationId = 'int_1') => ({ integrationId, sourceEventIds: [eventId] });

describe('batchOutcomeCounts', () => {
  it.each([
    ['all mapped', 3, [conv('e1'), conv('e2'), conv('e3')], 0, 0, 'drop', { mapped: 3, duplicate: 0, unhandled: 0, dead_lettered: 0 }],
    ['one event, two conversions (sale and identity)', 1, [conv('e1'), conv('e1')], 0, 0, 'drop', { mapped: 1, duplicate: 0, unhandled: 0, dead_lettered: 0 }],
    ['ignored types are unhandled', 4, [conv('e1')], 0, 0, 'drop', { mapped: 1, duplicate: 0, unhandled: 3, dead_lettered: 0 }],
    ['duplicates dropped, poison dead-lettered', 5, [conv('e1')], 2, 1, 'drop', { mapped: 1, duplicate: 2, unhandled: 1, dead_lettered: 1 }],
    ['reemitted duplicates are not mapped', 3, [conv('e1'), conv('e2'), conv('e3')], 2, 0, 'reemit', { mapped: 1, duplicate: 2, unhandled: 0, dead_lettered: 0 }],
    ['same event id in two integrations', 2, [conv('e1', 'a'), conv('e1', 'b')], 0, 0, 'drop', { mapped: 2, duplicate: 0, unhandled: 0, dead_lettered: 0 }],
    ['a reemitted duplicate that fails is dead-lettered and duplicate: never negative', 1, [], 1, 1, 'reemit', { mapped: 0, duplicate: 1, unhandled: 0, dead_lettered: 1 }],
  ] as const)('%s', (_name, events, conversions, duplicates, dead, mode, expected) => {
    expect(batchOutcomeCounts(events, { conversions, deadLetters: Array.from({ length: dead }), duplicates }, mode)).toEqual(expected);
  });
});

describe('countBy', () => {
  it('counts per key', () => {
    expect([...countBy(['SALE_FIRST', 'REFUND_FULL', 'SALE_FIRST'], (k) => k)]).toEqual([['SALE_FIRST', 2], ['REFUND_FULL', 1]]);
  });
});
