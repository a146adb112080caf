import type { Conversion, StripeEventEnvelope } from '@sas/contracts';
import { invoiceSale } from './invoiceSale.js';
import type { MapContext } from './mapContext.js';

/**
 * A Stripe event → zero or more conversions. Pure; an event it does not handle maps to [].
 * (Checkout, charges, refunds and customers arrive with the mapper issue.)
 */
export const toConversions = (event: StripeEventEnvelope, ctx: MapContext): Conversion[] => {
  switch (event.type) {
    case 'invoice.paid':
    case 'invoice.payment_succeeded': {
      // One trigger per integration, so one invoice is never counted from both events.
      if (event.type !== ctx.saleTrigger) return [];
      const sale = invoiceSale(event.data.object, ctx);
      return sale ? [sale] : [];
    }
    default:
      return [];
  }
};
