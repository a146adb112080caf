/** Token bucket: `ratePerSec` tokens a second, at most `burst` saved up. Pure: state in, state out. */
export interface Bucket {
  readonly tokens: number;
  readonly at: number;
}

export interface RateLimit {
  readonly ratePerSec: number;
  readonly burst: number;
}

export const fullBucket = (l: RateLimit, now: number): Bucket => ({ tokens: l.burst, at: now });

const refill = (b: Bucket, l: RateLimit, now: number): Bucket => ({
  tokens: Math.min(l.burst, b.tokens + (Math.max(0, now - b.at) * l.ratePerSec) / 1000),
  at: Math.max(now, b.at),
});

/** Take up to `want` whole tokens. */
export const takeTokens = (b: Bucket, l: RateLimit, now: number, want: number): { bucket: Bucket; granted: number } => {
  const r = refill(b, l, now);
  const granted = Math.max(0, Math.min(want, Math.floor(r.tokens)));
  return { bucket: { tokens: r.tokens - granted, at: r.at }, granted };
};

/** Milliseconds until one token is there. */
export const msUntilToken = (b: Bucket, l: RateLimit, now: number): number => {
  const r = refill(b, l, now);
  return r.tokens >= 1 ? 0 : Math.ceil(((1 - r.tokens) * 1000) / l.ratePerSec);
};

/**
 * A partner's default rate, where it documents one: Everflow 30 requests a second. impact's
 * 1,000 requests an hour does not apply to conversions, which are not limited
 * (integrations.impact.com/impact-brand/reference/rate-limits): throttling sales to 1,000/h
 * would delay them for nothing, so impact gets the dispatcher's default and its Actions calls
 * (refunds, limited by the default 1,000/h) are slowed by the 429s and X-RateLimit-Reset impact
 * answers with. A destination can still set rateLimitPerHour.
 */
const PARTNER_DEFAULT_RATE_PER_SEC: Partial<Record<string, number>> = { everflow: 30 };
export const partnerDefaultRatePerSec = (type: string, fallbackPerSec: number): number => PARTNER_DEFAULT_RATE_PER_SEC[type] ?? fallbackPerSec;

/** Rate from destination settings: rateLimitPerSecond, or rateLimitPerHour; else the partner's default. */
export const rateLimitOf = (settings: Readonly<Record<string, unknown>>, fallbackPerSec: number): RateLimit => {
  const perSec = typeof settings.rateLimitPerSecond === 'number' ? settings.rateLimitPerSecond
    : typeof settings.rateLimitPerHour === 'number' ? settings.rateLimitPerHour / 3600
    : fallbackPerSec;
  const ratePerSec = perSec > 0 ? perSec : fallbackPerSec;
  const burst = typeof settings.rateLimitBurst === 'number' && settings.rateLimitBurst >= 1
    ? settings.rateLimitBurst
    // Per-second limits: a second's worth. Hourly limits (a rateLimitPerHour setting): a minute's worth.
    : ratePerSec >= 1 ? Math.min(Math.ceil(ratePerSec), 1000) : Math.max(1, Math.ceil(ratePerSec * 60));
  return { ratePerSec, burst };
};
