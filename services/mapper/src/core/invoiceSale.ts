import { hasAttribution, normalizeCurrency, type Attribution, type Conversion, type ConversionKind, type LineItem } from '@sas/contracts';
import { conversionIdOf, sha256Email } from './conversionId.js';
import { arr, idOf, int, obj, path, str, type Json } from './stripeRead.js';
import type { MapContext } from './mapContext.js';

const kindOf = (billingReason: string | null): ConversionKind => {
  switch (billingReason) {
    case 'subscription_create': return 'SALE_FIRST';
    case 'subscription_cycle': return 'SALE_RECURRING';
    default: return 'SALE_OTHER'; // never silently lost: the reason is kept in saleReason
  }
};

/** Subscription id in both API shapes: `invoice.subscription` (before 2025-03-31.basil) and `invoice.parent.subscription_details.subscription`. */
export const subscriptionOfInvoice = (inv: Json): string | null =>
  idOf(inv.subscription) ?? idOf(path(inv, 'parent', 'subscription_details', 'subscription'));

const subscriptionMetadataOf = (inv: Json): Json | null =>
  obj(path(inv, 'subscription_details', 'metadata')) ?? obj(path(inv, 'parent', 'subscription_details', 'metadata'));

/** Price id of an invoice line in both shapes: `line.price` and basil's `line.pricing.price_details.price`. */
const priceOfLine = (line: Json): string | null =>
  idOf(line.price) ?? idOf(path(line, 'pricing', 'price_details', 'price'));
const productOfLine = (line: Json): string | null =>
  idOf(path(line, 'price', 'product')) ?? idOf(path(line, 'pricing', 'price_details', 'product'));

const lineItemsOf = (inv: Json): LineItem[] =>
  arr(path(inv, 'lines', 'data')).flatMap((l) => {
    const line = obj(l);
    if (!line) return [];
    const quantity = int(line.quantity) ?? 1;
    const amount = int(line.amount) ?? 0;
    const unit = int(path(line, 'price', 'unit_amount')) ?? int(path(line, 'pricing', 'unit_amount_decimal')) ??
      (quantity > 0 ? Math.round(amount / quantity) : amount);
    const priceId = priceOfLine(line);
    const productId = productOfLine(line);
    return [{
      sku: priceId ?? productId ?? str(line.id) ?? 'line',
      description: str(line.description),
      productId,
      priceId,
      quantity,
      unitAmountMinor: unit,
      amountMinor: amount,
    }];
  });

/** Click id precedence: first line's metadata (the seed's place), then subscription, then invoice metadata. */
const clickIdOf = (inv: Json): string | null => {
  const firstLine = obj(arr(path(inv, 'lines', 'data'))[0]);
  const sources = [obj(firstLine?.metadata), subscriptionMetadataOf(inv), obj(inv.metadata)];
  for (const m of sources) {
    const v = str(m?.impact_click_id) ?? str(m?.irclickid) ?? str(m?.click_id);
    if (v) return v;
  }
  return null;
};

const taxOf = (inv: Json): number => {
  const tax = int(inv.tax);
  if (tax !== null) return tax;
  return arr(inv.total_taxes).reduce<number>((sum, t) => sum + (int(obj(t)?.amount) ?? 0), 0);
};

/** A paid invoice → one subscription sale (first, recurring or other, by billing_reason). */
export const invoiceSale = (inv: Json, ctx: MapContext): Conversion | null => {
  const invoiceId = str(inv.id);
  const currency = str(inv.currency);
  const amountPaid = int(inv.amount_paid);
  if (!invoiceId || !currency || amountPaid === null) return null;
  const billingReason = str(inv.billing_reason);
  const attribution: Attribution = {
    clickId: clickIdOf(inv),
    partnerKey: null,
    customerKey: null,
    promoCode: null,
    emailSha256: sha256Email(str(inv.customer_email)),
    productKey: null,
  };
  // When the sale happened: paid_at; the seed's finalized_at can precede payment by days.
  const occurredSec = int(path(inv, 'status_transitions', 'paid_at')) ?? int(path(inv, 'status_transitions', 'finalized_at')) ?? ctx.eventCreatedSec;
  const discount = arr(inv.total_discount_amounts).reduce<number>((s, d) => s + (int(obj(d)?.amount) ?? 0), 0);
  return {
    conversionId: conversionIdOf(ctx.integrationId, 'sale', invoiceId),
    kind: kindOf(billingReason),
    saleReason: billingReason,
    sourceEventIds: [ctx.eventId],
    integrationId: ctx.integrationId,
    stripeAccount: ctx.stripeAccount,
    livemode: ctx.livemode,
    occurredAt: occurredSec * 1000,
    receivedAt: ctx.receivedAt,
    orderId: invoiceId,
    customerId: idOf(inv.customer),
    subscriptionId: subscriptionOfInvoice(inv),
    chargeId: idOf(inv.charge),
    attribution,
    attributed: hasAttribution(attribution),
    currency: normalizeCurrency(currency),
    amountMinor: amountPaid,
    taxMinor: taxOf(inv),
    discountMinor: discount,
    lineItems: lineItemsOf(inv),
    notBefore: ctx.receivedAt,
    refundId: null,
    orderAmountMinor: null,
    refundedTotalMinor: null,
  };
};
