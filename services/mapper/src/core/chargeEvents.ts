import type { Conversion } from '@sas/contracts';
import { attributionOf, firstOf, hintsFromMetadata, type Hints } from './attribution.js';
import { conversionOf, MappingError } from './conversionBase.js';
import { conversionIdOf } from './conversionId.js';
import type { Effect } from './effects.js';
import type { MapFacts, OrderLink, RefundFact, StoredAttribution } from './facts.js';
import type { MapContext } from './mapContext.js';
import { refundedSale } from './refundSale.js';
import { arr, idOf, int, obj, path, str, type Json } from './stripeRead.js';

/** Hints of a charge: its metadata (PartnerStack puts customer_key, partner_key and product_key there), then the payer's email. */
export const chargeHints = (ch: Json): Hints =>
  firstOf(hintsFromMetadata(ch.metadata), { email: str(path(ch, 'billing_details', 'email')) ?? str(ch.receipt_email) });

/**
 * Before 2025-03-31.basil a charge names its invoice (`charge.invoice`, null when it pays none);
 * from basil on the field is gone and the invoice is found through invoice payments.
 */
export const legacyInvoiceOfCharge = (ch: Json): { readonly known: boolean; readonly invoiceId: string | null } =>
  'invoice' in ch ? { known: true, invoiceId: idOf(ch.invoice) } : { known: false, invoiceId: null };

/** The order a charge pays: what the shell found, else the legacy field. */
export const orderOfCharge = (ch: Json, facts: MapFacts): OrderLink | null => {
  if (facts.chargeOrder) return facts.chargeOrder;
  const legacy = legacyInvoiceOfCharge(ch);
  return legacy.invoiceId ? { orderId: legacy.invoiceId, kind: 'invoice', subscriptionId: null, customerId: idOf(ch.customer) } : null;
};

/**
 * A charge that took money, in every shape: status `succeeded`; `paid`, what a successful charge
 * said before 2015-02-18 (https://docs.stripe.com/changelog/2015-02-18/charges-succeed-have-succeeded-status);
 * in the oldest payloads no status at all, only `paid: true`. `paid` is also true for an
 * authorisation awaiting capture (https://docs.stripe.com/api/charges/object), so `captured: false`
 * is never money yet.
 */
export const isCapturedSuccess = (ch: Json): boolean => {
  const succeeded = ch.status === 'succeeded' || ch.status === 'paid' || ((ch.status === undefined || ch.status === null) && ch.paid === true);
  return succeeded && ch.captured !== false && ch.paid !== false;
};

const chargeBasics = (ch: Json) => {
  const chargeId = str(ch.id);
  const currency = str(ch.currency);
  const amount = int(ch.amount);
  if (!chargeId || !currency || amount === null) throw new MappingError('CNV_ERR_CHARGE', 'charge without id, currency or integer amount');
  return { chargeId, currency, amount };
};

export const transactionId = (integrationId: string, chargeId: string): string => conversionIdOf(integrationId, 'transaction', chargeId);

/**
 * charge.succeeded / captured / updated → at most one TRANSACTION per charge, for integrations
 * that track charges. An uncaptured authorisation is not money yet; a charge that pays an
 * invoice is left to the invoice sale when the integration counts invoices ('non_invoice').
 */
export const chargeTransaction = (
  ch: Json, ctx: MapContext, facts: MapFacts, hints: Hints, stored: readonly StoredAttribution[],
): { conversions: Conversion[]; effects: Effect[] } => {
  const tracking = ctx.chargeTracking ?? 'off';
  if (tracking === 'off' || !isCapturedSuccess(ch) || facts.transaction) return { conversions: [], effects: [] };
  const { chargeId, currency, amount } = chargeBasics(ch);
  const order = orderOfCharge(ch, facts);
  if (tracking === 'non_invoice' && order?.kind === 'invoice') return { conversions: [], effects: [] };
  const amountMinor = capturedAmountOf(ch, amount);
  const conversion = conversionOf({
    conversionId: transactionId(ctx.integrationId, chargeId),
    kind: 'TRANSACTION',
    occurredSec: int(ch.created) ?? ctx.eventCreatedSec,
    orderId: chargeId,
    customerId: idOf(ch.customer) ?? order?.customerId ?? null,
    subscriptionId: order?.subscriptionId ?? null,
    chargeId,
    ...attributionOf(hints, stored),
    currency,
    amountMinor,
  }, ctx);
  return {
    conversions: [conversion],
    effects: [{
      type: 'transaction', chargeId, status: 'recorded', conversionId: conversion.conversionId, orderId: chargeId,
      amountMinor, currency: conversion.currency, sourceEventId: ctx.eventId,
    }],
  };
};

/** charge.failed → the reversal of that charge's transaction, if one was recorded. */
export const chargeReversal = (
  ch: Json, ctx: MapContext, facts: MapFacts, hints: Hints, stored: readonly StoredAttribution[],
): { conversions: Conversion[]; effects: Effect[] } => {
  const { chargeId, currency, amount } = chargeBasics(ch);
  const t = facts.transaction;
  if (!t) {
    // Delivered before its charge.succeeded (Stripe does not order events): remember the failure,
    // so the late success is not counted.
    if ((ctx.chargeTracking ?? 'off') === 'off') return { conversions: [], effects: [] };
    return {
      conversions: [],
      effects: [{ type: 'transaction', chargeId, status: 'failed', conversionId: null, orderId: null, amountMinor: null, currency: null, sourceEventId: ctx.eventId }],
    };
  }
  if (t.status !== 'recorded') return { conversions: [], effects: [] };
  const order = orderOfCharge(ch, facts);
  const conversion = conversionOf({
    conversionId: conversionIdOf(ctx.integrationId, 'reversal', chargeId),
    kind: 'REVERSAL',
    occurredSec: ctx.eventCreatedSec,
    orderId: t.orderId ?? chargeId,
    customerId: idOf(ch.customer) ?? order?.customerId ?? null,
    subscriptionId: order?.subscriptionId ?? null,
    chargeId,
    ...attributionOf(hints, stored),
    currency: t.currency ?? currency,
    amountMinor: t.amountMinor ?? amount,
    orderAmountMinor: t.amountMinor ?? amount,
  }, ctx);
  return {
    conversions: [conversion],
    effects: [{ type: 'transaction', chargeId, status: 'reversed', conversionId: t.conversionId, orderId: t.orderId, amountMinor: t.amountMinor, currency: t.currency, sourceEventId: ctx.eventId }],
  };
};

/** Refunds listed in the charge itself (API versions before 2022-11-15, or an expanded `refunds`). */
export const refundsInPayload = (ch: Json): RefundFact[] | null => {
  const list = obj(ch.refunds);
  if (!list || !Array.isArray(list.data)) return null;
  // A partial list (has_more) is not the whole truth: ask the API.
  if (list.has_more === true) return null;
  return refundFacts(list.data);
};

export const refundFacts = (raw: readonly unknown[]): RefundFact[] =>
  raw.flatMap((r) => {
    const o = obj(r);
    const id = str(o?.id);
    const amount = int(o?.amount);
    return o && id && amount !== null ? [{ id, amountMinor: amount, createdSec: int(o.created) ?? 0, status: str(o.status) }] : [];
  });

export const refundId = (integrationId: string, refundKey: string): string => conversionIdOf(integrationId, 'refund', refundKey);

/**
 * A charge that was never captured moved no money: refunding it releases the authorisation, and
 * one left uncaptured expires "marked as refunded" (https://docs.stripe.com/api/charges/capture,
 * refund reason `expired_uncaptured_charge`: https://docs.stripe.com/api/refunds/object).
 */
export const isUncaptured = (ch: Json): boolean => ch.captured === false;

/**
 * The money a captured charge took: `amount_captured` ("can be less than the amount attribute on
 * the charge if a partial capture was made", https://docs.stripe.com/api/charges/object), else
 * `amount` (versions before the field existed, where a capture was of the whole amount as far as
 * the payload can tell).
 */
export const capturedAmountOf = (ch: Json, amount: number): number => {
  const captured = int(ch.amount_captured);
  return captured !== null && captured > 0 ? captured : amount;
};

/**
 * charge.refunded → one refund conversion per refund not emitted before, with its exact amount,
 * the running refunded total, the original order and its billing_reason; held for the integration's hold so the
 * sale reaches partners first. With the charge's refund list (payload or API), each refund is
 * its own action keyed by re_...; without one, the event's own delta (amount_refunded minus
 * previous_attributes.amount_refunded) is one refund keyed by the charge and the new total,
 * so both ways are order-independent and replay to the same ids.
 *
 * Only captured money is refunded to a partner. An uncaptured charge maps to nothing (skipped,
 * with the reason). After a partial capture Stripe releases the rest of the authorisation as a
 * refund of the uncaptured remainder (`amount − amount_captured`, counted in `amount_refunded`;
 * https://docs.stripe.com/payments/place-a-hold-on-a-payment-method): it is made at capture,
 * before any refund of captured money can exist, so the first `amount − amount_captured` of the
 * refunded total (refunds in creation order) is the remainder and is not emitted.
 */
export const chargeRefunds = (
  ch: Json, previous: Json | null, ctx: MapContext, facts: MapFacts, hints: Hints, stored: readonly StoredAttribution[],
): { conversions: Conversion[]; effects: Effect[]; skipped?: string } => {
  const { chargeId, currency, amount } = chargeBasics(ch);
  if (isUncaptured(ch)) {
    return {
      conversions: [], effects: [],
      skipped: 'charge.refunded of an uncaptured charge (captured: false): the authorisation was released, no captured money was refunded',
    };
  }
  const capturedMinor = capturedAmountOf(ch, amount);
  const uncapturedRemainder = Math.max(0, amount - capturedMinor);
  const capturedPart = (refundedTotal: number) => Math.max(0, refundedTotal - uncapturedRemainder);
  const order = orderOfCharge(ch, facts);
  // The order id its sale was credited under and what it was credited on (issue 14).
  const sale = refundedSale({ chargeId, capturedMinor, tracking: ctx.chargeTracking ?? 'off', order, transaction: facts.transaction });
  const base = {
    // The refunded invoice's billing_reason: a partner with one tracker per sale kind (impact,
    // seed 001) must reverse the sale on the tracker it was credited on, and only the mapper
    // knows which invoice a charge paid. Null when unknown (the partner then falls back).
    saleReason: order?.kind === 'invoice' ? order.billingReason ?? null : null,
    orderId: sale.orderId,
    saleNetMinor: sale.saleNetMinor,
    customerId: idOf(ch.customer) ?? order?.customerId ?? null,
    subscriptionId: order?.subscriptionId ?? null,
    chargeId,
    ...attributionOf(hints, stored),
    currency,
    hold: true,
    orderAmountMinor: capturedMinor,
  };
  const list = facts.refunds ?? refundsInPayload(ch);
  const items: { key: string; refundId: string | null; amountMinor: number; cumulative: number; createdSec: number }[] = [];
  if (list) {
    const counted = list
      .filter((r) => r.status !== 'failed' && r.status !== 'canceled')
      .slice()
      .sort((a, b) => a.createdSec - b.createdSec || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    let cumulative = 0;
    for (const r of counted) {
      const before = capturedPart(cumulative);
      cumulative += r.amountMinor;
      const capturedCumulative = capturedPart(cumulative);
      items.push({ key: r.id, refundId: r.id, amountMinor: capturedCumulative - before, cumulative: capturedCumulative, createdSec: r.createdSec || ctx.eventCreatedSec });
    }
  } else {
    const total = int(ch.amount_refunded);
    if (total === null) throw new MappingError('CNV_ERR_REFUND', 'charge.refunded without amount_refunded');
    const before = int(previous?.amount_refunded) ?? 0;
    const capturedTotal = capturedPart(total);
    if (total > before) {
      items.push({ key: `${chargeId}:${total}`, refundId: null, amountMinor: capturedTotal - capturedPart(before), cumulative: capturedTotal, createdSec: ctx.eventCreatedSec });
    }
  }
  const conversions: Conversion[] = [];
  const effects: Effect[] = [];
  for (const it of items) {
    if (facts.knownRefundKeys.has(it.key) || it.amountMinor <= 0) continue;
    const c = conversionOf({
      ...base,
      conversionId: refundId(ctx.integrationId, it.key),
      kind: it.cumulative >= capturedMinor ? 'REFUND_FULL' : 'REFUND_PARTIAL',
      occurredSec: it.createdSec,
      amountMinor: it.amountMinor,
      refundId: it.refundId,
      refundedTotalMinor: it.cumulative,
    }, ctx);
    conversions.push(c);
    effects.push({ type: 'refund', refundKey: it.key, chargeId, amountMinor: it.amountMinor, conversionId: c.conversionId, sourceEventId: ctx.eventId });
  }
  // Said only when the remainder is all this event refunded; otherwise nothing new is no rule.
  const onlyRemainder = conversions.length === 0 && uncapturedRemainder > 0 && items.some((it) => it.amountMinor <= 0);
  return onlyRemainder
    ? { conversions, effects, skipped: `refund of the uncaptured remainder (${uncapturedRemainder}) released by a partial capture: not captured money` }
    : { conversions, effects };
};

export const refundsNeedApi = (ch: Json): boolean => refundsInPayload(ch) === null;
