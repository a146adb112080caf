/** Defensive readers over untyped Stripe JSON: a missing or odd field reads as null. */
export type Json = Readonly<Record<string, unknown>>;

export const obj = (v: unknown): Json | null =>
  typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Json) : null;
export const str = (v: unknown): string | null => (typeof v === 'string' && v.length > 0 ? v : null);
export const int = (v: unknown): number | null => (typeof v === 'number' && Number.isSafeInteger(v) ? v : null);
export const arr = (v: unknown): readonly unknown[] => (Array.isArray(v) ? v : []);
/** An expandable field: either an id string or the expanded object with an id. */
export const idOf = (v: unknown): string | null => str(v) ?? str(obj(v)?.id);
export const path = (v: unknown, ...keys: string[]): unknown =>
  keys.reduce<unknown>((acc, k) => obj(acc)?.[k], v);
