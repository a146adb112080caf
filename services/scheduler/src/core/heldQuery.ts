/** The operator's filter over held conversions, parsed from a query string. */
export const HeldStates = ['held', 'releasing', 'released', 'cancelled', 'unknown'] as const;
export type HeldState = (typeof HeldStates)[number];

export interface HeldFilter {
  readonly integrationId: string | null;
  readonly customerId: string | null;
  /** Due (notBefore) at or after, epoch ms. */
  readonly dueFrom: number | null;
  /** Due (notBefore) before, epoch ms. */
  readonly dueTo: number | null;
  readonly state: HeldState;
  readonly limit: number;
  /** Keyset cursor: continue after this (notBefore, conversionId). */
  readonly after: { readonly notBefore: number; readonly conversionId: string } | null;
}

export type Parsed<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: string };

const MAX_LIMIT = 500;

const time = (v: string): number | null => {
  if (/^\d+$/.test(v)) return Number(v);
  const t = Date.parse(v);
  return Number.isNaN(t) ? null : t;
};

/** Cursor: `<notBefore ms>:<conversionId>`, as returned in `nextCursor`. */
export const encodeCursor = (notBefore: number, conversionId: string): string => `${notBefore}:${conversionId}`;

export const parseHeldQuery = (q: Readonly<Record<string, string | undefined>>): Parsed<HeldFilter> => {
  const str = (k: string) => (q[k] !== undefined && q[k] !== '' ? q[k]! : null);
  const state = str('state') ?? 'held';
  if (!(HeldStates as readonly string[]).includes(state)) return { ok: false, error: `state must be one of ${HeldStates.join(', ')}` };
  const limitRaw = str('limit');
  const limit = limitRaw === null ? 100 : Number(limitRaw);
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIMIT) return { ok: false, error: `limit must be an integer from 1 to ${MAX_LIMIT}` };
  const bounds: Record<'dueFrom' | 'dueTo', number | null> = { dueFrom: null, dueTo: null };
  for (const k of ['dueFrom', 'dueTo'] as const) {
    const v = str(k);
    if (v === null) continue;
    const t = time(v);
    if (t === null) return { ok: false, error: `${k} must be an ISO 8601 time or epoch milliseconds` };
    bounds[k] = t;
  }
  let after: HeldFilter['after'] = null;
  const cursor = str('after');
  if (cursor !== null) {
    const m = /^(\d+):(.+)$/.exec(cursor);
    if (!m) return { ok: false, error: 'after must be a nextCursor value' };
    after = { notBefore: Number(m[1]), conversionId: m[2]! };
  }
  return {
    ok: true,
    value: { integrationId: str('integrationId'), customerId: str('customerId'), ...bounds, state: state as HeldState, limit, after },
  };
};
