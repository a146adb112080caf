import type { Conversion } from '@sas/contracts';
import { attributionOf, firstOf, hintsFromMetadata, type Hints } from './attribution.js';
import { conversionOf, MappingError } from './conversionBase.js';
import { conversionIdOf } from './conversionId.js';
import type { StoredAttribution } from './facts.js';
import type { MapContext } from './mapContext.js';
import { obj, str, type Json } from './stripeRead.js';

export const customerHints = (c: Json): Hints => firstOf(hintsFromMetadata(c.metadata), { email: str(c.email) });

/** customer.updated matters only when what identifies the customer changed. */
const identityChanged = (previous: Json | null): boolean =>
  previous === null || 'email' in previous || 'metadata' in previous;

/**
 * customer.created / customer.updated → a CUSTOMER_IDENTITY record (PartnerStack creates its
 * customer from it). No money: amount 0 in the customer's currency, or XXX (ISO 4217's "no
 * currency") when Stripe has none yet.
 */
export const customerIdentity = (
  c: Json, type: string, previous: Json | null, ctx: MapContext, hints: Hints, stored: readonly StoredAttribution[],
): Conversion[] => {
  const customerId = str(c.id);
  if (!customerId) throw new MappingError('CNV_ERR_CUSTOMER', 'customer without id');
  if (type === 'customer.updated' && !identityChanged(previous)) return [];
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
