import { describe, expect, it } from 'vitest';
import { ENRICHMENT_RETRY_MS, enrichmentDelayMs } from './retrySchedule.js';
import { safeMessage } from '../adapters/stripeApi.js';

describe('enrichmentDelayMs', () => {
  it.each([
    { attempt: 0, random: 0.5, then: 250 },
    { attempt: 3, random: 0.5, then: 2_000 },
    { attempt: 6, random: 0.5, then: 30_000 },
    // past the schedule the last delay repeats: the event is never given up on
    { attempt: 50, random: 0.5, then: 30_000 },
    { attempt: 0, random: 0, then: 188 },
    { attempt: 0, random: 1, then: 313 },
  ])('attempt $attempt, jitter $random → $then ms', ({ attempt, random, then }) => {
    expect(enrichmentDelayMs(attempt, ENRICHMENT_RETRY_MS, random)).toBe(then);
  });
});

describe('safeMessage', () => {
  it.each([
    { given: "Authorization was 'Bearer sk_test_ReadOnly123'.", then: "Authorization was 'Bearer sk_test_[redacted]'." },
    { given: 'Invalid API Key provided: rk_live_abc_DEF0', then: 'Invalid API Key provided: rk_live_[redacted]' },
    { given: 'No such checkout.session: cs_test_123', then: 'No such checkout.session: cs_test_123' },
  ])('$given', ({ given, then }) => {
    expect(safeMessage(new Error(given))).toBe(then);
  });
});
