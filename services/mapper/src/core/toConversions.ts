import type { Conversion, StripeEventEnvelope } from '@sas/contracts';
import { mergeStored, NO_HINTS, type Hints } from './attribution.js';
import { chargeHints, chargeRefunds, chargeReversal, chargeTransaction, legacyInvoiceOfCharge } from './chargeEvents.js';
import { checkoutHints, checkoutSale, checkoutSaleNet, isCheckoutPaid } from './checkoutSale.js';
import { customerHints, customerIdentity, isIdentitySent, previousAttributes } from './customerIdentity.js';
import type { Effect } from './effects.js';
import { NO_FACTS, type MapFacts, type StoredAttribution } from './facts.js';
import { invoiceHints, invoiceSale, invoiceSaleNet, subscriptionOfInvoice } from './invoiceSale.js';
import type { MapContext } from './mapContext.js';
import { idOf, str, type Json } from './stripeRead.js';

export interface Decision {
  readonly conversions: Conversion[];
  readonly effects: Effect[];
  /**
   * Why a handled event produced no conversion by rule (not merely "nothing new"), e.g. the
   * refund of an uncaptured charge; absent otherwise.
   */
  readonly skipped?: string;
}

/** The event types the mapper reads: the union of what the seeds' platforms listen to. */
export const HandledEventTypes = [
  'invoice.paid', 'invoice.payment_succeeded',
  'checkout.session.completed', 'checkout.session.async_payment_succeeded',
  'charge.succeeded', 'charge.captured', 'charge.updated', 'charge.refunded', 'charge.failed',
  'customer.created', 'customer.updated',
] as const;

/**
 * Where a customer's hints are kept: the customer id, and the payment intent too, so a guest
 * checkout (no customer) still attributes the charge and refund that follow it.
 */
export const attributionKeysOf = (event: StripeEventEnvelope): string[] => {
  const o = event.data.object;
  const keys: string[] = [];
  const customer = event.type.startsWith('customer.') ? str(o.id) : idOf(o.customer);
  if (customer) keys.push(customer);
  const pi = event.type.startsWith('checkout.') || event.type.startsWith('charge.') ? idOf(o.payment_intent) : null;
  if (pi) keys.push(pi);
  return keys;
};

const rowsOf = (keys: readonly string[], facts: MapFacts): StoredAttribution[] =>
  keys.flatMap((k) => (facts.stored[k] ? [facts.stored[k]!] : []));

const storeEffects = (keys: readonly string[], hints: Hints, identityAtSec: number | null, facts: MapFacts, eventId: string): Effect[] =>
  keys.flatMap((key) => {
    const row = mergeStored(facts.stored[key] ?? null, hints, identityAtSec);
    return row ? [{ type: 'attribution' as const, key, row, sourceEventId: eventId }] : [];
  });

/**
 * A Stripe event → conversions and the state changes they imply. Pure: every lookup
 * (attribution store, bookkeeping, Stripe API) arrives in `facts`. An event it does not
 * handle maps to nothing. Attribution precedence (README): the event's own object, most
 * specific first, then the store; the store is filled first-touch, except customer events,
 * which overwrite.
 */
export const decide = (event: StripeEventEnvelope, ctx: MapContext, facts: MapFacts = NO_FACTS): Decision => {
  const o: Json = event.data.object;
  const keys = attributionKeysOf(event);
  const stored = rowsOf(keys, facts);
  const tracking = ctx.chargeTracking ?? 'off';
  switch (event.type) {
    case 'invoice.paid':
    case 'invoice.payment_succeeded': {
      const hints = invoiceHints(o, facts);
      const invoiceId = str(o.id);
      const link = invoiceId
        ? {
            orderId: invoiceId, kind: 'invoice' as const, subscriptionId: subscriptionOfInvoice(o), customerId: idOf(o.customer), billingReason: str(o.billing_reason),
            saleNetMinor: invoiceSaleNet(o),
          }
        : null;
      // The invoice's own link gives a charge that names it (before basil) or that invoice
      // payments lead to (basil) its subscription and billing_reason (so a refund names the kind
      // of sale it undoes); the charge itself is not linked: before basil it names its invoice,
      // from basil on the invoice does not name it.
      const links: Effect[] = link ? [{ type: 'orderLink', ref: invoiceId!, ...link }] : [];
      // One trigger per integration, so one invoice is never counted from both events; with
      // 'all' charge tracking the invoice's charge is what counts.
      const counts = event.type === ctx.saleTrigger && tracking !== 'all';
      return {
        conversions: counts ? [invoiceSale(o, ctx, facts, hints, stored)] : [],
        effects: [...storeEffects(keys, hints, null, facts, ctx.eventId), ...links],
      };
    }
    case 'checkout.session.completed':
    case 'checkout.session.async_payment_succeeded': {
      const hints = checkoutHints(o, facts);
      const sessionId = str(o.id);
      const pi = idOf(o.payment_intent);
      const links: Effect[] = sessionId && pi && o.mode === 'payment'
        ? [{ type: 'orderLink', ref: pi, orderId: sessionId, kind: 'checkout', subscriptionId: null, customerId: idOf(o.customer), saleNetMinor: checkoutSaleNet(o) }]
        : [];
      // mode=subscription is left to the invoice; its attribution is recorded above for it.
      const counts = o.mode === 'payment' && isCheckoutPaid(o) && tracking === 'off';
      return {
        conversions: counts ? [checkoutSale(o, ctx, facts, hints, stored)] : [],
        effects: [...storeEffects(keys, hints, null, facts, ctx.eventId), ...links],
      };
    }
    case 'charge.succeeded':
    case 'charge.captured':
    case 'charge.updated':
    case 'charge.refunded':
    case 'charge.failed': {
      const hints = chargeHints(o);
      const legacy = legacyInvoiceOfCharge(o);
      const chargeId = str(o.id);
      const links: Effect[] = chargeId && legacy.invoiceId
        ? [{ type: 'orderLink', ref: chargeId, orderId: legacy.invoiceId, kind: 'invoice', subscriptionId: facts.chargeOrder?.subscriptionId ?? null, customerId: idOf(o.customer), billingReason: facts.chargeOrder?.billingReason ?? null }]
        : [];
      const r: { conversions: Conversion[]; effects: Effect[]; skipped?: string } = event.type === 'charge.refunded'
        ? chargeRefunds(o, previousAttributes(event.data), ctx, facts, hints, stored)
        : event.type === 'charge.failed'
          ? chargeReversal(o, ctx, facts, hints, stored)
          : chargeTransaction(o, ctx, facts, hints, stored);
      return {
        conversions: r.conversions,
        effects: [...storeEffects(keys, hints, null, facts, ctx.eventId), ...links, ...r.effects],
        ...(r.skipped ? { skipped: r.skipped } : {}),
      };
    }
    case 'customer.created':
    case 'customer.updated': {
      const hints = customerHints(o);
      const previous = previousAttributes(event.data);
      const sent = isIdentitySent(facts.stored[str(o.id) ?? ''] ?? null, event.created);
      const conversions = customerIdentity(o, event.type, previous, ctx, hints, stored, sent);
      return {
        conversions,
        effects: storeEffects(keys, hints, event.created, facts, ctx.eventId),
        ...(conversions.length === 0 ? { skipped: 'customer.updated changing neither email nor metadata of a customer whose identity was already sent' } : {}),
      };
    }
    default:
      return { conversions: [], effects: [] };
  }
};

/** A Stripe event → zero or more conversions (the effects left aside). */
export const toConversions = (event: StripeEventEnvelope, ctx: MapContext, facts: MapFacts = NO_FACTS): Conversion[] =>
  decide(event, ctx, facts).conversions;

export { NO_HINTS };
