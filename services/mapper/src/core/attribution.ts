import { hasAttribution, type Attribution } from '@sas/contracts';
import { sha256Email } from './conversionId.js';
import type { StoredAttribution } from './facts.js';
import { obj, str, type Json } from './stripeRead.js';

/** What one Stripe object says about who brought the customer, each identifier by its source. */
export interface Hints {
  /** A click of unknown source: only on attribution store rows written before the by-source columns. */
  readonly clickId: string | null;
  readonly impactClickId: string | null;
  readonly tracknowClickId: string | null;
  readonly everflowTransactionId: string | null;
  /** Checkout client_reference_id, as sent: merchants put their own user id there too. */
  readonly clientReferenceId: string | null;
  readonly partnerKey: string | null;
  readonly customerKey: string | null;
  readonly productKey: string | null;
  readonly promoCode: string | null;
  /** Plain email: the dispatcher needs it for PartnerStack/Everflow; the stream carries only its hash. */
  readonly email: string | null;
}

export const HINT_FIELDS = [
  'clickId', 'impactClickId', 'tracknowClickId', 'everflowTransactionId', 'clientReferenceId',
  'partnerKey', 'customerKey', 'productKey', 'promoCode', 'email',
] as const satisfies readonly (keyof Hints)[];

export const NO_HINTS: Hints = {
  clickId: null, impactClickId: null, tracknowClickId: null, everflowTransactionId: null, clientReferenceId: null,
  partnerKey: null, customerKey: null, productKey: null, promoCode: null, email: null,
};

/**
 * Metadata keys of each partner's click, in this order; compared lower-cased (the impact.com
 * guide spells `impact_Click_Id` too). impact: `impact_click_id` (seeds 000/001), `irclickid`
 * (its UTT's name). Tracknow: its parameter is `click_id` and its guide stores it as
 * `tn_click_id` (docs.tracknow.io/integrations/supported-parameters, seed 003). Everflow: its
 * click is the transaction id (helpdesk.everflow.io/customer/accessing-editing-s2s-postback-urls);
 * only keys that name Everflow, never a bare `transaction_id` (a payment's id in many shops).
 */
const IMPACT_KEYS = ['impact_click_id', 'irclickid'];
const TRACKNOW_KEYS = ['tn_click_id', 'click_id'];
const EVERFLOW_KEYS = ['ef_transaction_id', '_ef_transaction_id', 'everflow_transaction_id'];

const lowerKeys = (m: Json | null): Record<string, unknown> => {
  const out: Record<string, unknown> = {};
  if (!m) return out;
  for (const [k, v] of Object.entries(m)) {
    const lk = k.toLowerCase();
    if (!(lk in out)) out[lk] = typeof v === 'string' ? v.trim() : v;
  }
  return out;
};

const firstKey = (m: Record<string, unknown>, keys: readonly string[]): string | null => {
  for (const k of keys) {
    const v = str(m[k]);
    if (v) return v;
  }
  return null;
};

/** Hints in a metadata object. */
export const hintsFromMetadata = (metadata: unknown): Hints => {
  const m = lowerKeys(obj(metadata));
  return {
    ...NO_HINTS,
    impactClickId: firstKey(m, IMPACT_KEYS),
    tracknowClickId: firstKey(m, TRACKNOW_KEYS),
    everflowTransactionId: firstKey(m, EVERFLOW_KEYS),
    partnerKey: str(m.partner_key),
    customerKey: str(m.customer_key),
    productKey: str(m.product_key),
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
  return Object.fromEntries(HINT_FIELDS.map((k) => [k, pick(k)])) as unknown as Hints;
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
    ...(Object.fromEntries(HINT_FIELDS.map((k) => [k, field(k)])) as unknown as Hints),
    identityAt: authoritative ? identityAtSec : old?.identityAt ?? null,
  };
  if (old && (Object.keys(next) as (keyof StoredAttribution)[]).every((k) => next[k] === old[k])) return null;
  return next;
};

/**
 * A conversion's attribution: the event's own hints first, then what the store learned from
 * earlier events of the customer, each source on its own (an impact click on the invoice does
 * not hide a Tracknow click stored from the checkout). productKey is never taken from the
 * store: it names what was sold in this sale, not who the customer is. `clickId`, kept for
 * readers of the schema before the by-source fields, is the first metadata click, never
 * client_reference_id; an unsourced click of an old store row stays unsourced.
 */
export const attributionOf = (own: Hints, stored: readonly StoredAttribution[]): { attribution: Attribution; attributed: boolean } => {
  const h = firstOf(own, ...stored.map((s) => ({ ...s, productKey: null })));
  const sourced = h.impactClickId ?? h.tracknowClickId ?? h.everflowTransactionId;
  const attribution: Attribution = {
    clickId: sourced ?? (h.clientReferenceId ? null : h.clickId),
    impactClickId: h.impactClickId, tracknowClickId: h.tracknowClickId, everflowTransactionId: h.everflowTransactionId,
    clientReferenceId: h.clientReferenceId,
    partnerKey: h.partnerKey, customerKey: h.customerKey, promoCode: h.promoCode,
    emailSha256: sha256Email(h.email), productKey: h.productKey,
  };
  return { attribution, attributed: hasAttribution(attribution) };
};
