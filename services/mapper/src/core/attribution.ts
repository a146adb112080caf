import { hasAttribution, type Attribution } from '@sas/contracts';
import { sha256Email } from './conversionId.js';
import type { StoredAttribution } from './facts.js';
import { obj, str, type Json } from './stripeRead.js';

/** What one Stripe object says about who brought the customer. */
export interface Hints {
  readonly clickId: string | null;
  readonly partnerKey: string | null;
  readonly customerKey: string | null;
  readonly productKey: string | null;
  readonly promoCode: string | null;
  /** Plain email: the dispatcher needs it for PartnerStack/Everflow; the stream carries only its hash. */
  readonly email: string | null;
}

export const NO_HINTS: Hints = { clickId: null, partnerKey: null, customerKey: null, productKey: null, promoCode: null, email: null };

/** Metadata keys read as a click id, in this order (impact.com, Tracknow); case-insensitive. */
const CLICK_KEYS = ['impact_click_id', 'irclickid', 'click_id', 'tn_click_id'];

const lowerKeys = (m: Json | null): Record<string, unknown> => {
  const out: Record<string, unknown> = {};
  if (!m) return out;
  for (const [k, v] of Object.entries(m)) {
    const lk = k.toLowerCase();
    if (!(lk in out)) out[lk] = typeof v === 'string' ? v.trim() : v;
  }
  return out;
};

/** Hints in a metadata object; the seeds spell impact's key `impact_Click_Id` too, so keys are compared lower-cased. */
export const hintsFromMetadata = (metadata: unknown): Hints => {
  const m = lowerKeys(obj(metadata));
  let clickId: string | null = null;
  for (const k of CLICK_KEYS) {
    clickId = str(m[k]);
    if (clickId) break;
  }
  return {
    clickId,
    partnerKey: str(m.partner_key),
    customerKey: str(m.customer_key),
    productKey: str(m.product_key),
    promoCode: null,
    email: null,
  };
};

/** Field by field, the first source that has a value wins: sources are given most specific first. */
export const firstOf = (...sources: readonly Partial<Hints>[]): Hints => {
  const pick = (k: keyof Hints): string | null => {
    for (const s of sources) {
      const v = s[k];
      if (typeof v === 'string' && v.trim().length > 0) return v.trim();
    }
    return null;
  };
  return {
    clickId: pick('clickId'), partnerKey: pick('partnerKey'), customerKey: pick('customerKey'),
    productKey: pick('productKey'), promoCode: pick('promoCode'), email: pick('email'),
  };
};

const hasAnyHint = (h: Hints): boolean => Object.values(h).some((v) => v !== null);

/**
 * The attribution store's new row for a customer after an event with these hints.
 * Sales, checkouts and charges only fill gaps (first touch: a later click does not take the
 * customer from the partner who referred them). A customer.* event is the merchant's own
 * record of the customer and overwrites what it carries, unless an even newer customer event
 * was already applied (Stripe delivers out of order). Returns null when nothing changes.
 */
export const mergeStored = (old: StoredAttribution | null, h: Hints, identityAtSec: number | null): StoredAttribution | null => {
  if (!hasAnyHint(h) && identityAtSec === null) return null;
  const authoritative = identityAtSec !== null && (old?.identityAt == null || identityAtSec >= old.identityAt);
  const field = (k: keyof Hints): string | null => (authoritative ? h[k] ?? old?.[k] ?? null : old?.[k] ?? h[k]);
  const next: StoredAttribution = {
    clickId: field('clickId'), partnerKey: field('partnerKey'), customerKey: field('customerKey'),
    productKey: field('productKey'), promoCode: field('promoCode'), email: field('email'),
    identityAt: authoritative ? identityAtSec : old?.identityAt ?? null,
  };
  if (old && (Object.keys(next) as (keyof StoredAttribution)[]).every((k) => next[k] === old[k])) return null;
  return next;
};

/**
 * A conversion's attribution: the event's own hints first, then what the store learned from
 * earlier events of the customer. productKey is never taken from the store: it names what was
 * sold in this sale, not who the customer is.
 */
export const attributionOf = (own: Hints, stored: readonly StoredAttribution[]): { attribution: Attribution; attributed: boolean } => {
  const h = firstOf(own, ...stored.map((s) => ({ ...s, productKey: null })));
  const attribution: Attribution = {
    clickId: h.clickId, partnerKey: h.partnerKey, customerKey: h.customerKey, promoCode: h.promoCode,
    emailSha256: sha256Email(h.email), productKey: h.productKey,
  };
  return { attribution, attributed: hasAttribution(attribution) };
};
