import type { Conversion, LineItem } from '@sas/contracts';
import { attributionOf, firstOf, hintsFromMetadata, type Hints } from './attribution.js';
import { conversionOf, MappingError } from './conversionBase.js';
import { conversionIdOf } from './conversionId.js';
import type { MapFacts, StoredAttribution } from './facts.js';
import type { MapContext } from './mapContext.js';
import { checkoutPromoRefs, firstPromoCode } from './promo.js';
import { arr, idOf, int, obj, path, str, type Json } from './stripeRead.js';

/**
 * Hints of a checkout session, most specific first: session metadata, the subscription data
 * metadata it was created with; client_reference_id is kept by its source, not as a click:
 * Tracknow's guide puts its click_id there (seed 003), but Stripe documents it as the
 * merchant's own reference (docs.stripe.com/api/checkout/sessions/object), often a user id. A
 * destination takes it as its click only when its settings say so (`clientReferenceIdIsClick`);
 * email from customer_details.
 */
export const checkoutHints = (s: Json, facts: MapFacts): Hints => {
  return firstOf(
    hintsFromMetadata(s.metadata),
    hintsFromMetadata(path(s, 'subscription_data', 'metadata')),
    hintsFromMetadata(path(s, 'payment_intent_data', 'metadata')),
    {
      clientReferenceId: str(s.client_reference_id),
      email: str(path(s, 'customer_details', 'email')) ?? str(s.customer_email),
      promoCode: firstPromoCode(checkoutPromoRefs(s), facts.promoCodes, null),
    },
  );
};

/** A paid checkout session: payment_status "paid", or nothing to pay. Async methods finish later (async_payment_succeeded). */
export const isCheckoutPaid = (s: Json): boolean =>
  s.payment_status === 'paid' || s.payment_status === 'no_payment_required';

/** Read line items as the API returns them (price.product expanded). */
export const lineItemFromApi = (raw: unknown): LineItem | null => {
  const li = obj(raw);
  if (!li) return null;
  const price = obj(li.price);
  const product = obj(price?.product);
  const quantity = int(li.quantity) ?? 1;
  const subtotal = int(li.amount_subtotal) ?? 0;
  const discount = int(li.amount_discount) ?? 0;
  const priceId = idOf(li.price);
  const productId = idOf(price?.product);
  return {
    sku: productId ?? priceId ?? str(li.id) ?? 'item',
    description: str(product?.name) ?? str(li.description),
    productId,
    priceId,
    quantity,
    unitAmountMinor: int(price?.unit_amount) ?? (quantity > 0 ? Math.round(subtotal / quantity) : subtotal),
    amountMinor: subtotal - discount,
  };
};

/** What a Checkout sale is credited on: amount_total net of total_details.amount_tax (as its sale). */
export const checkoutSaleNet = (s: Json): number | null => {
  const total = int(s.amount_total);
  return total === null ? null : total - (int(path(s, 'total_details', 'amount_tax')) ?? 0);
};

export const checkoutSaleId = (integrationId: string, sessionId: string): string => conversionIdOf(integrationId, 'sale', sessionId);

/** A completed checkout in payment mode → one one-time sale, its line items from the API. */
export const checkoutSale = (s: Json, ctx: MapContext, facts: MapFacts, hints: Hints, storedRows: readonly StoredAttribution[]): Conversion => {
  const sessionId = str(s.id);
  const currency = str(s.currency);
  const total = int(s.amount_total);
  if (!sessionId || !currency || total === null) {
    throw new MappingError('CNV_ERR_CHECKOUT', 'checkout session without id, currency or integer amount_total');
  }
  const subtotal = int(s.amount_subtotal) ?? total;
  const tax = int(path(s, 'total_details', 'amount_tax')) ?? 0;
  const discount = int(path(s, 'total_details', 'amount_discount')) ?? 0;
  // Without the API (no key on the integration), one line for the whole order keeps the sale, net
  // of tax as the sale is: amount_total less amount_tax (amount_subtotal − discount would keep a
  // price's inclusive tax, docs.stripe.com/api/checkout/sessions/object total_details).
  const inPayload = arr(path(s, 'line_items', 'data')).map(lineItemFromApi).filter((l): l is LineItem => l !== null);
  const lineItems = facts.lineItems ?? (inPayload.length > 0 ? inPayload : null) ?? [{
    sku: 'order', description: null, productId: null, priceId: null, quantity: 1,
    unitAmountMinor: subtotal, amountMinor: total - tax,
  }];
  return conversionOf({
    conversionId: checkoutSaleId(ctx.integrationId, sessionId),
    kind: 'SALE_ONE_TIME',
    occurredSec: ctx.eventCreatedSec,
    orderId: sessionId,
    customerId: idOf(s.customer),
    subscriptionId: null,
    chargeId: null,
    ...attributionOf(hints, storedRows),
    currency,
    amountMinor: total,
    taxMinor: tax,
    discountMinor: discount,
    lineItems,
  }, ctx);
};

export const checkoutLineItemsNeeded = (s: Json): boolean =>
  s.mode === 'payment' && isCheckoutPaid(s) && typeof s.id === 'string' && arr(path(s, 'line_items', 'data')).length === 0;
