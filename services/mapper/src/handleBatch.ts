import type { Conversion, MapperDeadLetter, StripeEventEnvelope } from '@sas/contracts';
import type { LineItem } from '@sas/contracts';
import type { SecretBox } from '@sas/runtime';
import type { Enricher, StripeTarget } from './adapters/stripeApi.js';
import { processedKey, type BatchState, type MapperSettings, type MapperStore } from './adapters/mapperStore.js';
import { isCapturedSuccess, isUncaptured, legacyInvoiceOfCharge, refundsNeedApi } from './core/chargeEvents.js';
import { checkoutLineItemsNeeded } from './core/checkoutSale.js';
import { MappingError } from './core/conversionBase.js';
import type { Effect } from './core/effects.js';
import { NO_FACTS, type MapFacts, type OrderLink, type RefundFact } from './core/facts.js';
import type { MapContext } from './core/mapContext.js';
import { checkoutPromoRefs, invoicePromoRefs } from './core/promo.js';
import { idOf, int, str, type Json } from './core/stripeRead.js';
import { attributionKeysOf, decide } from './core/toConversions.js';
import { parseRawEvent, type RawHeaders } from './handleRawEvent.js';

export interface RawRecord {
  readonly value: Buffer | null;
  readonly headers: RawHeaders;
  readonly offset: string;
}

export interface BatchDeps {
  readonly store: MapperStore;
  readonly settingsOf: (integrationId: string) => Promise<MapperSettings | null>;
  readonly enricher: Enricher;
  /** Opens an integration's sealed Stripe key; null when the mapper has no SECRETS_KEY. */
  readonly box: SecretBox | null;
  readonly now: () => number;
  /** Enrichment calls in flight at once within a batch. */
  readonly enrichConcurrency: number;
  /**
   * An event id already handled never changes state again. 'reemit': it is mapped again,
   * read-only, and what comes out (same deterministic ids) is produced again, so downstream
   * ledgers answer "duplicate"; 'drop': it produces nothing (except for records carrying the
   * replay header, which are always re-emitted: an operator asked for them).
   */
  readonly duplicates: 'reemit' | 'drop';
}

export interface BatchOutcome {
  readonly conversions: Conversion[];
  readonly deadLetters: MapperDeadLetter[];
  readonly effects: { integrationId: string; effect: Effect }[];
  /** Events to mark handled once the output is acknowledged (mapped, unhandled or dead-lettered). */
  readonly handled: { integrationId: string; eventId: string }[];
  duplicates: number;
}

interface Parsed {
  readonly duplicate: boolean;
  /** A record of `sas replay events`: a duplicate of it is re-emitted even when duplicates are dropped. */
  readonly replay: boolean;
  readonly integrationId: string;
  readonly event: StripeEventEnvelope;
  readonly receivedAt: number;
  readonly record: RawRecord;
  readonly settings: MapperSettings;
  readonly target: StripeTarget | null;
}

interface Enrichment {
  lineItems: LineItem[] | null;
  promoCodes: Record<string, string>;
  invoicePromoCodes: string[] | null;
  order: OrderLink | null;
  refunds: RefundFact[] | null;
  /** The refunded invoice's billing_reason from the API, when our links lack it. */
  billingReason: string | null;
}

/** Opened keys by ciphertext: one decryption per key, not per event. */
const openedKeys = new Map<string, string>();
const openKey = (box: SecretBox, sealed: string): string => {
  let k = openedKeys.get(sealed);
  if (k === undefined) {
    k = box.open(sealed);
    if (openedKeys.size > 10_000) openedKeys.clear();
    openedKeys.set(sealed, k);
  }
  return k;
};

const CHARGE_TYPES = new Set(['charge.succeeded', 'charge.captured', 'charge.updated', 'charge.refunded', 'charge.failed']);

/** Run `fn` over `items` with at most `n` in flight. */
const mapLimit = async <T, R>(items: readonly T[], n: number, fn: (t: T) => Promise<R>): Promise<R[]> => {
  const out = new Array<R>(items.length);
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(n, items.length) }, async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!);
    }
  }));
  return out;
};

const linkRefsOf = (e: StripeEventEnvelope): string[] => {
  if (!CHARGE_TYPES.has(e.type)) return [];
  const o = e.data.object;
  const legacy = legacyInvoiceOfCharge(o);
  return [str(o.id), idOf(o.payment_intent), legacy.invoiceId].filter((x): x is string => Boolean(x));
};

/**
 * One batch of raw records of one partition → conversions, dead letters and state effects.
 * Records are mapped in order (a customer's events share a partition), each seeing the state
 * left by the ones before it; lookups are made once per batch, Stripe API calls concurrently.
 * Nothing is written here: the service produces the output, then commits the effects.
 */
export const handleBatch = async (
  deps: BatchDeps, topic: string, partition: number, records: readonly RawRecord[],
): Promise<BatchOutcome> => {
  const out: BatchOutcome = { conversions: [], deadLetters: [], effects: [], handled: [], duplicates: 0 };
  const dead = (r: RawRecord, p: { code: string; reason: string; integrationId: string | null; eventId: string | null; eventType: string | null }) => {
    out.deadLetters.push({
      ...p, topic, partition, offset: r.offset, at: deps.now(), rawBase64: r.value ? r.value.toString('base64') : null,
    });
    if (p.integrationId && p.eventId) out.handled.push({ integrationId: p.integrationId, eventId: p.eventId });
  };

  // 1. Parse; poison goes to the dead-letter topic.
  const parsed: Parsed[] = [];
  const seen = new Set<string>();
  // One settings read (and key opening) per integration per batch, not per record.
  const settingsOf = new Map<string, Promise<MapperSettings | null>>();
  for (const r of records) {
    const p = parseRawEvent(r);
    if (!p.ok) {
      dead(r, p);
      continue;
    }
    const key = processedKey(p.integrationId, p.event.id);
    const inBatchDuplicate = seen.has(key);
    seen.add(key);
    let pending = settingsOf.get(p.integrationId);
    if (!pending) settingsOf.set(p.integrationId, (pending = deps.settingsOf(p.integrationId)));
    const settings = await pending;
    if (!settings) {
      dead(r, { code: 'RAW_ERR_UNKNOWN_INTEGRATION', reason: `unknown integration ${p.integrationId}`, integrationId: p.integrationId, eventId: p.event.id, eventType: p.event.type });
      continue;
    }
    const apiKey = settings.stripeKeyCiphertext && deps.box ? openKey(deps.box, settings.stripeKeyCiphertext) : null;
    parsed.push({
      duplicate: inBatchDuplicate, replay: p.replay,
      integrationId: p.integrationId, event: p.event, receivedAt: p.receivedAt, record: r, settings,
      target: apiKey ? { integrationId: p.integrationId, apiKey, account: p.event.account ?? null } : null,
    });
  }

  // 2. Dedupe by Stripe event id against what earlier batches handled, and 3. the state of
  // everything the batch touches, per integration: one round trip for both.
  const byIntegration = new Map<string, Parsed[]>();
  for (const p of parsed) {
    const list = byIntegration.get(p.integrationId);
    if (list) list.push(p);
    else byIntegration.set(p.integrationId, [p]);
  }
  const states = new Map<string, BatchState>();
  const [done] = await Promise.all([
    deps.store.processed(parsed.map((p) => ({ integrationId: p.integrationId, eventId: p.event.id }))),
    ...[...byIntegration].map(async ([integrationId, ps]) => {
      states.set(integrationId, await deps.store.loadState(integrationId, {
        attributionKeys: ps.flatMap((p) => attributionKeysOf(p.event)),
        chargeIds: ps.flatMap((p) => (CHARGE_TYPES.has(p.event.type) && str(p.event.data.object.id) ? [str(p.event.data.object.id)!] : [])),
        linkRefs: ps.flatMap((p) => linkRefsOf(p.event)),
      }));
    }),
  ]);
  const todo = parsed
    .map((p) => (done.has(processedKey(p.integrationId, p.event.id)) ? { ...p, duplicate: true } : p))
    .filter((p) => {
      if (p.duplicate) out.duplicates++;
      return !p.duplicate || deps.duplicates === 'reemit' || p.replay;
    });

  // 4. Stripe API enrichment, concurrently (cached; retried until it answers).
  const enrichments = await mapLimit(todo, deps.enrichConcurrency, (p) => enrich(deps.enricher, p, states.get(p.integrationId)!));

  // 5. Map in order; each event's effects are visible to the next.
  todo.forEach((p, i) => {
    const state = states.get(p.integrationId)!;
    const e = enrichments[i]!;
    const o = p.event.data.object;
    const chargeId = CHARGE_TYPES.has(p.event.type) ? str(o.id) : null;
    const linkedOrder = chargeId ? chargeOrderOf(o, state, e.order) : null;
    const chargeOrder = withBillingReason(linkedOrder, e.billingReason);
    const ctx: MapContext = {
      integrationId: p.integrationId, eventId: p.event.id, eventCreatedSec: p.event.created, stripeAccount: p.event.account ?? null,
      livemode: p.event.livemode, receivedAt: p.receivedAt, saleTrigger: p.settings.saleTrigger,
      refundHoldSeconds: p.settings.refundHoldSeconds, chargeTracking: p.settings.chargeTracking,
    };
    const facts: MapFacts = {
      ...NO_FACTS,
      stored: Object.fromEntries(attributionKeysOf(p.event).flatMap((k) => (state.attribution.has(k) ? [[k, state.attribution.get(k)!]] : []))),
      lineItems: e.lineItems,
      promoCodes: e.promoCodes,
      invoicePromoCodes: e.invoicePromoCodes,
      chargeOrder,
      transaction: chargeId ? state.transactions.get(chargeId) ?? null : null,
      refunds: e.refunds,
      knownRefundKeys: chargeId ? state.refundKeys.get(chargeId) ?? new Set() : new Set(),
    };
    let decision;
    try {
      decision = decide(p.event, ctx, facts);
    } catch (err) {
      // decide is pure: whatever it throws is about this event, and retrying cannot help.
      const code = err instanceof MappingError ? err.code : 'CNV_ERR_UNEXPECTED';
      const reason = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
      dead(p.record, { code, reason, integrationId: p.integrationId, eventId: p.event.id, eventType: p.event.type });
      return;
    }
    out.conversions.push(...decision.conversions);
    if (p.duplicate) return; // state is changed once per event id
    const effects = [...decision.effects];
    // What the API told us about the charge's order is kept, so later events need no call.
    if (chargeId && e.order && !state.links.has(chargeId)) effects.push({ type: 'orderLink', ref: chargeId, ...e.order });
    // So is an invoice's billing_reason, on the invoice's own link (every charge of it leads there).
    if (chargeOrder && chargeOrder !== linkedOrder) effects.push({ type: 'orderLink', ref: chargeOrder.orderId, ...chargeOrder });
    for (const effect of effects) applyToState(state, effect);
    out.effects.push(...effects.map((effect) => ({ integrationId: p.integrationId, effect })));
    out.handled.push({ integrationId: p.integrationId, eventId: p.event.id });
  });
  out.deadLetters.sort((a, b) => (BigInt(a.offset) < BigInt(b.offset) ? -1 : BigInt(a.offset) > BigInt(b.offset) ? 1 : 0));
  return out;
};

/**
 * The order behind a charge: our links (charge, then payment intent; subscription, billing_reason
 * and the sale's basis from the invoice's own link, or from the payment intent's link that its
 * Checkout session left, when the charge's link lacks them), then the API.
 */
const chargeOrderOf = (ch: Json, state: BatchState, fromApi: OrderLink | null): OrderLink | null => {
  const legacy = legacyInvoiceOfCharge(ch);
  const pi = idOf(ch.payment_intent);
  const found = state.links.get(str(ch.id) ?? '') ?? (pi ? state.links.get(pi) : undefined) ??
    (legacy.invoiceId ? { orderId: legacy.invoiceId, kind: 'invoice' as const, subscriptionId: null, customerId: idOf(ch.customer) } : undefined) ??
    fromApi ?? null;
  if (!found) return null;
  if (found.kind === 'invoice' && (!found.subscriptionId || !found.billingReason || found.saleNetMinor == null)) {
    const inv = state.links.get(found.orderId);
    if (inv) {
      return {
        ...found, subscriptionId: found.subscriptionId ?? inv.subscriptionId, billingReason: found.billingReason ?? inv.billingReason ?? null,
        saleNetMinor: found.saleNetMinor ?? inv.saleNetMinor ?? null,
      };
    }
  }
  if (found.kind === 'checkout' && found.saleNetMinor == null && pi) {
    const session = state.links.get(pi);
    if (session?.orderId === found.orderId && session.saleNetMinor != null) return { ...found, saleNetMinor: session.saleNetMinor };
  }
  return found;
};

/** An invoice order our links know without its billing_reason takes the API's (links written before migration 0006). */
const withBillingReason = (order: OrderLink | null, fromApi: string | null): OrderLink | null =>
  order?.kind === 'invoice' && !order.billingReason && fromApi ? { ...order, billingReason: fromApi } : order;

const applyToState = (state: BatchState, e: Effect): void => {
  switch (e.type) {
    case 'attribution': state.attribution.set(e.key, e.row); break;
    case 'orderLink': {
      const old = state.links.get(e.ref);
      state.links.set(e.ref, {
        orderId: e.orderId, kind: e.kind, subscriptionId: e.subscriptionId ?? old?.subscriptionId ?? null, customerId: e.customerId,
        billingReason: e.billingReason ?? old?.billingReason ?? null, saleNetMinor: e.saleNetMinor ?? old?.saleNetMinor ?? null,
      });
      break;
    }
    case 'transaction': {
      const old = state.transactions.get(e.chargeId);
      state.transactions.set(e.chargeId, {
        status: e.status, conversionId: e.conversionId ?? old?.conversionId ?? null, orderId: e.orderId ?? old?.orderId ?? null,
        amountMinor: e.amountMinor ?? old?.amountMinor ?? null, currency: e.currency ?? old?.currency ?? null, sourceEventId: e.sourceEventId,
      });
      break;
    }
    case 'refund': {
      const set = state.refundKeys.get(e.chargeId) ?? new Set<string>();
      set.add(e.refundKey);
      state.refundKeys.set(e.chargeId, set);
      break;
    }
    default: { const _exhaustive: never = e; void _exhaustive; }
  }
};

/** The Stripe API reads one event needs, skipped when the integration has no key. */
const enrich = async (api: Enricher, p: Parsed, state: BatchState): Promise<Enrichment> => {
  const e: Enrichment = { lineItems: null, promoCodes: {}, invoicePromoCodes: null, order: null, refunds: null, billingReason: null };
  const t = p.target;
  if (!t) return e;
  const o = p.event.data.object;
  const type = p.event.type;
  const promoIds: string[] = [];
  if (type.startsWith('checkout.session.')) {
    if (checkoutLineItemsNeeded(o) && (p.settings.chargeTracking === 'off')) e.lineItems = await api.checkoutLineItems(t, str(o.id)!);
    promoIds.push(...checkoutPromoRefs(o).ids);
  } else if (type === 'invoice.paid' || type === 'invoice.payment_succeeded') {
    const refs = invoicePromoRefs(o);
    promoIds.push(...refs.ids);
    if (refs.bareDiscounts && str(o.id)) e.invoicePromoCodes = await api.invoicePromoCodes(t, str(o.id)!);
  } else if (CHARGE_TYPES.has(type)) {
    const chargeId = str(o.id);
    if (!chargeId) return e;
    // The refund of an uncaptured charge maps to nothing: no order or refund list to ask for.
    if (type === 'charge.refunded' && isUncaptured(o)) return e;
    const pi = idOf(o.payment_intent);
    const legacy = legacyInvoiceOfCharge(o);
    const known = state.links.has(chargeId) || (pi !== null && state.links.has(pi)) || legacy.invoiceId !== null;
    // A refund wants its order (invoice or checkout); a transaction only needs to know whether
    // the charge pays an invoice, which a pre-basil charge says itself.
    const needsOrder = type === 'charge.refunded' ||
      (p.settings.chargeTracking === 'non_invoice' && !legacy.known && type !== 'charge.failed' && isCapturedSuccess(o) && !state.transactions.has(chargeId));
    if (needsOrder && !known) e.order = await api.orderOfPayment(t, { paymentIntent: pi, chargeId });
    if (type === 'charge.refunded' && refundsNeedApi(o)) e.refunds = await api.refundsOfCharge(t, chargeId, int(o.amount_refunded) ?? 0);
    // A refund names the kind of sale it undoes (impact's tracker per kind): an invoice our links
    // know without its billing_reason (linked before migration 0006, or never mapped) is asked.
    if (type === 'charge.refunded') {
      const order = chargeOrderOf(o, state, e.order);
      if (order?.kind === 'invoice' && !order.billingReason) e.billingReason = await api.invoiceBillingReason(t, order.orderId);
    }
  }
  for (const id of promoIds) {
    const code = await api.promotionCode(t, id);
    if (code) e.promoCodes[id] = code;
  }
  return e;
};
