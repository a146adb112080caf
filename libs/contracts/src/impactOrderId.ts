import { createHash } from 'node:crypto';

/**
 * impact.com's OrderId is a STRING(64) (integrations.impact.com/impact-brand/docs/order-level-data,
 * and the conversion object: integrations.impact.com/impact-brand/reference/the-conversion-object).
 * Stripe's Checkout Session ids can be longer (its own example is 66 characters:
 * docs.stripe.com/api/checkout/sessions/object), so impact gets:
 * - an order id of at most 64 characters, unchanged (invoice ids, most ids);
 * - a longer one as its first 23 characters, a dot, and the first 40 hex digits of its SHA-256:
 *   64 characters, readable enough to find the session, and the same for the sale and every
 *   later refund or reversal of the order, since each is derived from the same Stripe id.
 * Written here because the dispatcher's impact adapter and the reconciliation's credited view
 * both need it.
 */
export const IMPACT_ORDER_ID_MAX_LENGTH = 64;
const KEPT_PREFIX = 23;
const HASH_HEX_DIGITS = IMPACT_ORDER_ID_MAX_LENGTH - KEPT_PREFIX - 1;

export const impactOrderIdOf = (orderId: string): string =>
  orderId.length <= IMPACT_ORDER_ID_MAX_LENGTH
    ? orderId
    : `${orderId.slice(0, KEPT_PREFIX)}.${createHash('sha256').update(orderId, 'utf8').digest('hex').slice(0, HASH_HEX_DIGITS)}`;
