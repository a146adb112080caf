/**
 * A circuit breaker per destination. Closed: requests flow; `threshold` retriable failures in
 * a row open it. Open: nothing is sent until `openMs` has passed. Half-open: one probe; its
 * success closes the circuit, its failure opens it again. Pure: state in, state out.
 */
export type Breaker =
  | { readonly state: 'closed'; readonly failures: number }
  | { readonly state: 'open'; readonly until: number }
  | { readonly state: 'half_open'; readonly probing: boolean };

export interface BreakerConfig {
  readonly threshold: number;
  readonly openMs: number;
}

export const closedBreaker: Breaker = { state: 'closed', failures: 0 };

/** How many requests may start now (the half-open circuit lets one probe through). */
export const admit = (b: Breaker, now: number, want: number): { breaker: Breaker; allowed: number } => {
  switch (b.state) {
    case 'closed':
      return { breaker: b, allowed: want };
    case 'open':
      if (now < b.until) return { breaker: b, allowed: 0 };
      return want > 0 ? { breaker: { state: 'half_open', probing: true }, allowed: 1 } : { breaker: { state: 'half_open', probing: false }, allowed: 0 };
    case 'half_open':
      return b.probing || want === 0 ? { breaker: b, allowed: 0 } : { breaker: { state: 'half_open', probing: true }, allowed: 1 };
    default: {
      const _exhaustive: never = b;
      return _exhaustive;
    }
  }
};

/** `healthy`: the partner answered (2xx or a 4xx about the request); not: 5xx, 429, timeout, network. */
export const recordResult = (b: Breaker, healthy: boolean, now: number, cfg: BreakerConfig): Breaker => {
  if (healthy) return closedBreaker;
  switch (b.state) {
    case 'closed':
      return b.failures + 1 >= cfg.threshold ? { state: 'open', until: now + cfg.openMs } : { state: 'closed', failures: b.failures + 1 };
    case 'half_open':
      return { state: 'open', until: now + cfg.openMs };
    case 'open':
      return { state: 'open', until: Math.max(b.until, now + cfg.openMs) };
    default: {
      const _exhaustive: never = b;
      return _exhaustive;
    }
  }
};

/** When the breaker next lets a request through (0: now). */
export const msUntilAdmitted = (b: Breaker, now: number): number => (b.state === 'open' ? Math.max(0, b.until - now) : 0);
