import { describe, expect, it } from 'vitest';
import { inWriteOrder } from './eventWriter.js';

describe('inWriteOrder', () => {
  it.each([
    { why: 'a page as Stripe lists it (newest first) is written oldest first', page: ['evt_3', 'evt_2', 'evt_1'], then: ['evt_1', 'evt_2', 'evt_3'] },
    { why: 'one event', page: ['evt_1'], then: ['evt_1'] },
    { why: 'an empty page', page: [], then: [] },
  ])('$why', ({ page, then }) => {
    const copy = [...page];
    expect(inWriteOrder(page)).toEqual(then);
    expect(page).toEqual(copy); // the page itself (and so the cursor, its last event) is untouched
  });
});
