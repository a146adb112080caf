import type { Conversion } from '@sas/contracts';
import { attributionOf, firstOf, hintsFromMetadata, type Hints } from './attribution.js';
import { conversionOf, MappingError } from './conversionBase.js';
import { conversionIdOf } from './conversionId.js';
import type { StoredAttribution } from './facts.js';
import type { MapContext } from './mapContext.js';
import { obj, str, type Json } from './stripeRead.js';

export const customerHints = (c: Json): Hints => firstOf(hintsFromMetadata(c.metadata), { email: str(c.email) });

/** What identifies the customer changed (Stripe lists what changed in data.previous_attributes). */
const identityChanged = (previous: Json | null): boolean =>
  previous === null || 'email' in previous || 'metadata' in previous;

/**
 * Whether an identity was already sent for the customer. `identityAt` is the time of the last
 * customer event applied to the store, and each one applied emitted an identity unless one was
 * already sent, so a time is proof, except this event's own second: that may be this very event
 * replayed, which must map to the same record again.
 */
export const isIdentitySent = (row: StoredAttribution | null, eventCreatedSec: number): boolean =>
  row?.identityAt != null && row.identityAt !== eventCreatedSec;

/**
 * customer.created / customer.updated → a CUSTOMER_IDENTITY record (PartnerStack creates its
 * customer from it). No money: amount 0 in the customer's currency, or XXX (ISO 4217's "no
 * currency") when Stripe has none yet. An update that changes neither email nor metadata is
 * skipped only when the customer's identity was already sent: PartnerStack creates or updates its
 * customer on every customer.updated (https://docs.partnerstack.com/docs/stripe-payment-tracking),
 * so a customer created before the integration was connected is sent on its first update.
 */
export const customerIdentity = (
  c: Json, type: string, previous: Json | null, ctx: MapContext, hints: Hints, stored: readonly StoredAttribution[], identitySent: boolean,
): Conversion[] => {
  const customerId = str(c.id);
  if (!customerId) throw new MappingError('CNV_ERR_CUSTOMER', 'customer without id');
  if (type === 'customer.updated' && !identityChanged(previous) && identitySent) return [];
  return [conversionOf({
    conversionId: conversionIdOf(ctx.integrationId, 'identity', customerId, ctx.eventId),
    kind: 'CUSTOMER_IDENTITY',
    occurredSec: ctx.eventCreatedSec,
    orderId: customerId,
    customerId,
    subscriptionId: null,
    chargeId: null,
    ...attributionOf(hints, stored),
    currency: str(c.currency) ?? 'XXX',
    amountMinor: 0,
  }, ctx)];
};

export const previousAttributes = (data: { readonly previous_attributes?: unknown }): Json | null => obj(data.previous_attributes);
