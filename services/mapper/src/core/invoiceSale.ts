import { saleKindOfBillingReason, type Conversion, type LineItem } from '@sas/contracts';
import { attributionOf, firstOf, hintsFromMetadata, type Hints } from './attribution.js';
import { conversionOf, MappingError } from './conversionBase.js';
import { conversionIdOf } from './conversionId.js';
import type { MapFacts, StoredAttribution } from './facts.js';
import type { MapContext } from './mapContext.js';
import { firstPromoCode, invoicePromoRefs } from './promo.js';
import { arr, idOf, int, obj, path, str, type Json } from './stripeRead.js';

/** Subscription id in both API shapes: `invoice.subscription` (before 2025-03-31.basil) and `invoice.parent.subscription_details.subscription`. */
export const subscriptionOfInvoice = (inv: Json): string | null =>
  idOf(inv.subscription) ?? idOf(path(inv, 'parent', 'subscription_details', 'subscription'));

const subscriptionMetadataOf = (inv: Json): Json | null =>
  obj(path(inv, 'subscription_details', 'metadata')) ?? obj(path(inv, 'parent', 'subscription_details', 'metadata')) ??
  obj(path(inv, 'subscription', 'metadata'));

/**
 * Price id of an invoice line in every shape: `line.price`, basil's `line.pricing.price_details.price`,
 * and before prices (https://docs.stripe.com/changelog/2020-08-27) the line's `plan`, whose id a price
 * id replaces.
 */
const priceOfLine = (line: Json): string | null =>
  idOf(line.price) ?? idOf(path(line, 'pricing', 'price_details', 'price')) ?? idOf(line.plan);
const productOfLine = (line: Json): string | null =>
  idOf(path(line, 'price', 'product')) ?? idOf(path(line, 'pricing', 'price_details', 'product')) ?? idOf(path(line, 'plan', 'product'));

/** basil sends unit_amount_decimal as a string ("4900" or "4900.5"); only whole minor units are kept exact. */
const decimalMinor = (v: unknown): number | null => {
  const s = str(v);
  if (!s || !/^\d+(\.0+)?$/.test(s)) return null;
  return Number.parseInt(s, 10);
};

const lineItemsOf = (inv: Json): LineItem[] =>
  arr(path(inv, 'lines', 'data')).flatMap((l) => {
    const line = obj(l);
    if (!line) return [];
    const quantity = int(line.quantity) ?? 1;
    const amount = int(line.amount) ?? 0;
    const lineDiscount = arr(line.discount_amounts).reduce<number>((s, d) => s + (int(obj(d)?.amount) ?? 0), 0);
    // A price with inclusive tax has the tax inside the line's amount: take it out, so the line is
    // net of tax as the sale's amount is (docs.stripe.com/api/invoices/line_item: tax_amounts[].inclusive;
    // basil: taxes[].tax_behavior).
    const inclusiveTax = [
      ...arr(line.tax_amounts).filter((t) => obj(t)?.inclusive === true),
      ...arr(line.taxes).filter((t) => obj(t)?.tax_behavior === 'inclusive'),
    ].reduce<number>((s, t) => s + (int(obj(t)?.amount) ?? 0), 0);
    const unit = int(path(line, 'price', 'unit_amount')) ?? decimalMinor(path(line, 'pricing', 'unit_amount_decimal')) ?? int(path(line, 'plan', 'amount')) ??
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
      amountMinor: amount - lineDiscount - inclusiveTax,
    }];
  });

/**
 * Hints of an invoice, most specific first: line metadata (the seed's place, first line first),
 * subscription metadata, invoice metadata; email from customer_email; promotion code.
 */
export const invoiceHints = (inv: Json, facts: MapFacts): Hints => {
  const lines = arr(path(inv, 'lines', 'data')).map((l) => hintsFromMetadata(obj(l)?.metadata));
  const promoCode = firstPromoCode(invoicePromoRefs(inv), facts.promoCodes, facts.invoicePromoCodes);
  return firstOf(...lines, hintsFromMetadata(subscriptionMetadataOf(inv)), hintsFromMetadata(inv.metadata), {
    email: str(inv.customer_email),
    promoCode,
  });
};

const taxOf = (inv: Json): number => {
  const tax = int(inv.tax);
  if (tax !== null) return tax;
  return arr(inv.total_taxes).reduce<number>((sum, t) => sum + (int(obj(t)?.amount) ?? 0), 0);
};

/**
 * What a paid invoice took: `amount_paid` where the version has the field. Before it existed
 * (the 2015–2017 shapes) a paid invoice says `paid: true`, and "the charge that gets generated for
 * the invoice will be for the amount specified in amount_due" (Invoice object of those versions,
 * https://stripe.com/docs/api#invoice_object): `amount_due` is `total` less the customer's credit.
 * Null (poison) when the field exists but is no integer, or an invoice without it is not paid.
 */
export const amountPaidOf = (inv: Json): number | null => {
  if ('amount_paid' in inv) return int(inv.amount_paid);
  return inv.paid === true ? int(inv.amount_due) : null;
};

/**
 * What an invoice's sale is credited on: what it took net of tax (`amountExcludingTax` of its
 * sale; discounts are already off amount_paid). Kept on the invoice's order link, so its refunds
 * are brought to the same basis. Null when the invoice says no amount.
 */
export const invoiceSaleNet = (inv: Json): number | null => {
  const paid = amountPaidOf(inv);
  return paid === null ? null : paid - taxOf(inv);
};

export const invoiceSaleId = (integrationId: string, invoiceId: string): string => conversionIdOf(integrationId, 'sale', invoiceId);

/** A paid invoice → one subscription sale (first, recurring or other, by billing_reason). */
export const invoiceSale = (inv: Json, ctx: MapContext, facts: MapFacts, hints: Hints, storedRows: readonly StoredAttribution[]): Conversion => {
  const invoiceId = str(inv.id);
  const currency = str(inv.currency);
  const amountPaid = amountPaidOf(inv);
  if (!invoiceId || !currency || amountPaid === null) {
    throw new MappingError('CNV_ERR_INVOICE', 'invoice without id, currency or integer amount_paid (or, before amount_paid existed, paid: true and amount_due)');
  }
  const billingReason = str(inv.billing_reason);
  // When the sale happened: paid_at; the seed's finalized_at can precede payment by days.
  const occurredSec = int(path(inv, 'status_transitions', 'paid_at')) ?? int(path(inv, 'status_transitions', 'finalized_at')) ?? ctx.eventCreatedSec;
  const discount = arr(inv.total_discount_amounts).reduce<number>((s, d) => s + (int(obj(d)?.amount) ?? 0), 0);
  return conversionOf({
    conversionId: invoiceSaleId(ctx.integrationId, invoiceId),
    kind: saleKindOfBillingReason(billingReason),
    saleReason: billingReason,
    occurredSec,
    orderId: invoiceId,
    customerId: idOf(inv.customer),
    subscriptionId: subscriptionOfInvoice(inv),
    chargeId: idOf(inv.charge),
    ...attributionOf(hints, storedRows),
    currency,
    amountMinor: amountPaid,
    taxMinor: taxOf(inv),
    discountMinor: discount,
    lineItems: lineItemsOf(inv),
  }, ctx);
};
