/** Delay before each retry (attempt 1 is the first try); past the end, dead-letter. Full jitter. */
export const nextDelayMs = (schedule: readonly number[], attempt: number, random: number): number | undefined => {
  const base = schedule[attempt - 1];
  return base === undefined ? undefined : Math.round(base * random);
};

export type RetryDecision = { readonly retryInMs: number } | { readonly giveUp: true };

/**
 * After a retriable failure of `attempt`: the next try waits the schedule's delay with full
 * jitter (AWS "full jitter": uniform in [0, base]), but never less than the partner's
 * Retry-After. Past the schedule's end, give up (dead-letter).
 */
export const decideRetry = (schedule: readonly number[], attempt: number, random: number, retryAfterMs: number | null): RetryDecision => {
  const jittered = nextDelayMs(schedule, attempt, random);
  if (jittered === undefined) return { giveUp: true };
  return { retryInMs: Math.max(jittered, retryAfterMs ?? 0) };
};
