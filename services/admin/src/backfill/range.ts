/** Stripe keeps events for 30 days; nothing older can be listed. */
export const STRIPE_EVENT_RETENTION_MS = 30 * 24 * 3600 * 1000;

const UNIT_MS = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/**
 * A point in time as an operator types it: `now`, a relative time back from now (`-7d`,
 * `-12h`, `-30m`, `-90s`) or an ISO 8601 date or date-time (`2026-11-20`, `2026-11-20T08:00:00Z`).
 */
export const parseTimeArg = (input: string, nowMs: number): number | null => {
  const s = input.trim();
  if (s === 'now') return nowMs;
  const rel = /^-(\d+)([smhd])$/.exec(s);
  if (rel) return nowMs - Number(rel[1]) * UNIT_MS[rel[2] as keyof typeof UNIT_MS];
  if (!/^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$/.test(s)) return null;
  const ms = Date.parse(s);
  return Number.isNaN(ms) ? null : ms;
};

export interface BackfillRange {
  /** Unix seconds, inclusive both ends (Stripe's created[gte] / created[lte]). */
  readonly fromSec: number;
  readonly toSec: number;
  /** True when --to was in the future and was brought back to now. */
  readonly clampedTo: boolean;
}

/**
 * The range a backfill lists: --from must lie within Stripe's 30-day retention (an older
 * start would silently miss events, so it is refused), --to defaults to now and a future
 * --to is clamped to now.
 */
export const resolveRange = (p: { from: string; to?: string | undefined; nowMs: number }): { ok: true; range: BackfillRange } | { ok: false; message: string } => {
  const fromMs = parseTimeArg(p.from, p.nowMs);
  if (fromMs === null) return { ok: false, message: `--from ${JSON.stringify(p.from)} is not a time: use an ISO date-time (2026-11-20T08:00:00Z) or a relative time (-7d, -12h)` };
  const toMs = p.to === undefined ? p.nowMs : parseTimeArg(p.to, p.nowMs);
  if (toMs === null) return { ok: false, message: `--to ${JSON.stringify(p.to)} is not a time: use an ISO date-time, a relative time (-1h) or now` };
  const oldest = p.nowMs - STRIPE_EVENT_RETENTION_MS;
  if (fromMs < oldest) {
    return { ok: false, message: `--from ${new Date(fromMs).toISOString()} is more than 30 days ago: Stripe keeps events for 30 days, so the earliest start is ${new Date(oldest).toISOString()}` };
  }
  const clampedTo = toMs > p.nowMs;
  const end = Math.min(toMs, p.nowMs);
  if (fromMs > end) return { ok: false, message: `--from ${new Date(fromMs).toISOString()} is after --to ${new Date(end).toISOString()}` };
  return { ok: true, range: { fromSec: Math.ceil(fromMs / 1000), toSec: Math.floor(end / 1000), clampedTo } };
};
