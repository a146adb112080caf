/**
 * Client-side pace for Stripe requests: at most `ratePerSec` starts per second, evenly
 * spaced, so a backfill leaves the merchant's own API budget alone (Stripe counts every
 * request against the account's rate limit, whoever makes it).
 */
export const createPacer = (ratePerSec: number, now: () => number, sleep: (ms: number) => Promise<void>) => {
  const intervalMs = 1000 / ratePerSec;
  let nextAt = -Infinity;
  return async (): Promise<void> => {
    const t = now();
    const at = Math.max(t, nextAt);
    nextAt = at + intervalMs;
    if (at > t) await sleep(at - t);
  };
};

export type Pace = ReturnType<typeof createPacer>;
