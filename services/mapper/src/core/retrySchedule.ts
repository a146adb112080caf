/**
 * Backoff for Stripe API enrichment. The schedule is data indexed by attempt; past its end the
 * last delay repeats, because an event is never dropped for want of enrichment: the partition
 * waits (its later events depend on this one) until Stripe answers or the mapper stops.
 */
export const ENRICHMENT_RETRY_MS = [250, 500, 1_000, 2_000, 5_000, 10_000, 30_000] as const;

export const enrichmentDelayMs = (attempt: number, schedule: readonly number[] = ENRICHMENT_RETRY_MS, random = 0.5): number => {
  const base = schedule[Math.min(attempt, schedule.length - 1)] ?? 1_000;
  return Math.round(base * (0.75 + random * 0.5)); // ±25 % jitter
};
