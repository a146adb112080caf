import { describe, expect, it } from 'vitest';
import { parseHeldQuery } from './heldQuery.js';

const base = { integrationId: null, customerId: null, dueFrom: null, dueTo: null, state: 'held', limit: 100, after: null };

const cases = [
  { name: 'defaults: held, 100', given: {}, then: { ok: true, value: base } },
  { name: 'by integration and customer', given: { integrationId: 'int_1', customerId: 'cus_1' }, then: { ok: true, value: { ...base, integrationId: 'int_1', customerId: 'cus_1' } } },
  { name: 'due window in ISO and epoch ms', given: { dueFrom: '2025-11-24T16:00:00Z', dueTo: '1764003600000' }, then: { ok: true, value: { ...base, dueFrom: 1_764_000_000_000, dueTo: 1_764_003_600_000 } } },
  { name: 'empty values are ignored', given: { integrationId: '', limit: '' }, then: { ok: true, value: base } },
  { name: 'other state and limit', given: { state: 'cancelled', limit: '500' }, then: { ok: true, value: { ...base, state: 'cancelled', limit: 500 } } },
  { name: 'batches whose release is unknown', given: { state: 'unknown' }, then: { ok: true, value: { ...base, state: 'unknown' } } },
  { name: 'cursor', given: { after: '1764000000000:cnv_a:b' }, then: { ok: true, value: { ...base, after: { notBefore: 1_764_000_000_000, conversionId: 'cnv_a:b' } } } },
  { name: 'unknown state', given: { state: 'gone' }, then: { ok: false, error: 'state must be one of held, releasing, released, cancelled, unknown' } },
  { name: 'limit too large', given: { limit: '501' }, then: { ok: false, error: 'limit must be an integer from 1 to 500' } },
  { name: 'limit not a number', given: { limit: 'ten' }, then: { ok: false, error: 'limit must be an integer from 1 to 500' } },
  { name: 'bad time', given: { dueFrom: 'yesterday' }, then: { ok: false, error: 'dueFrom must be an ISO 8601 time or epoch milliseconds' } },
  { name: 'bad cursor', given: { after: 'cnv_1' }, then: { ok: false, error: 'after must be a nextCursor value' } },
];

describe('parseHeldQuery', () => {
  it.each(cases)('$name', ({ given, then }) => expect(parseHeldQuery(given)).toEqual(then));
});
