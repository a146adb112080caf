import { arr, idOf, obj, str, type Json } from './stripeRead.js';

/**
 * Promotion codes behind discounts, in every shape Stripe sends them: a discount object whose
 * `promotion_code` is an id or an expanded object with its `code`, or a bare discount id
 * (di_...) that takes an API call to open.
 */
export interface PromoRefs {
  /** Codes readable from the payload itself. */
  readonly codes: readonly string[];
  /** promo_... ids to look up. */
  readonly ids: readonly string[];
  /** Discounts sent as bare ids (di_...): the object must be fetched to find its promotion code. */
  readonly bareDiscounts: boolean;
}

const fromDiscount = (d: unknown, acc: { codes: string[]; ids: string[]; bare: boolean }) => {
  if (typeof d === 'string') {
    acc.bare = true;
    return;
  }
  const o = obj(d);
  if (!o) return;
  const pc = o.promotion_code;
  const code = str(obj(pc)?.code);
  if (code) acc.codes.push(code);
  else if (idOf(pc)) acc.ids.push(idOf(pc)!);
};

/** Invoice: `discount` (before basil) and `discounts` (ids or expanded). */
export const invoicePromoRefs = (inv: Json): PromoRefs => {
  const acc = { codes: [] as string[], ids: [] as string[], bare: false };
  if (inv.discount) fromDiscount(inv.discount, acc);
  for (const d of arr(inv.discounts)) fromDiscount(d, acc);
  return { codes: acc.codes, ids: acc.ids, bareDiscounts: acc.bare && acc.codes.length === 0 && acc.ids.length === 0 };
};

/** Checkout session: `discounts[]` of {coupon, promotion_code}, and the expanded `total_details.breakdown` (the seed's place). */
export const checkoutPromoRefs = (s: Json): PromoRefs => {
  const acc = { codes: [] as string[], ids: [] as string[], bare: false };
  for (const d of arr(s.discounts)) fromDiscount(d, acc);
  const breakdown = arr(obj(obj(s.total_details)?.breakdown)?.discounts);
  for (const b of breakdown) fromDiscount(obj(b)?.discount, acc);
  return { codes: acc.codes, ids: acc.ids, bareDiscounts: false };
};

/** The first code found: typed codes first, then looked-up ids, then codes of bare discounts. */
export const firstPromoCode = (refs: PromoRefs, lookedUp: Readonly<Record<string, string>>, extra: readonly string[] | null): string | null =>
  refs.codes[0] ?? refs.ids.map((id) => lookedUp[id]).find((c): c is string => Boolean(c)) ?? extra?.[0] ?? null;
