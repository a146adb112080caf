/**
 * A planned event as the JSON Stripe sends, built with the testkit's fixture builders.
 *
 * API version 2022-08-01, on purpose: an account pinned to a version before 2022-11-15 gets
 * charges that carry their `refunds` list and (before basil) their `invoice`. So the mapper
 * maps every event from the payload alone: a refund's amounts come from the charge's list
 * (each keyed by its re_ id, so deliveries in any order emit each refund once), and its order
 * from the link the invoice.paid left (or `charge.invoice`). The simulated integration has no
 * Stripe API key, so no enrichment call is made, and stripe-mock's canned objects (which know
 * nothing of these customers) never answer for them.
 *
 * The ids and amounts come from the plan (seeded); incidental ids inside the objects (line
 * items, prices, balance transactions) are random, which nothing reconciled depends on.
 */
import { chargeEvent, checkoutSessionCompletedEvent, customerEvent, invoiceEvent } from '@sas/testkit';
import type { PlannedCharge, PlannedEvent } from './history.js';

export const SIMULATED_API_VERSION = '2022-08-01';

const chargeOptions = (c: PlannedCharge) => ({
  id: c.id,
  amount: c.amount,
  currency: c.currency,
  customer: c.customerId,
  paymentIntent: c.paymentIntent,
  invoice: c.invoiceId,
  email: c.email,
  refunds: c.refunds.map((r) => ({ id: r.id, amount: r.amount, created: r.created })),
});

const build = (e: PlannedEvent): { api_version: string } & Record<string, unknown> => {
  const envelope = { eventId: e.eventId, created: e.created };
  switch (e.type) {
    case 'customer.created':
      return customerEvent('customer.created', { ...envelope, id: e.customer.id, email: e.customer.email, currency: e.customer.currency, metadata: { ...e.customer.metadata } });
    case 'invoice.paid':
    case 'invoice.payment_failed':
      return invoiceEvent(e.type, {
        ...envelope, paidAt: e.created, id: e.invoice.id, customer: e.invoice.customerId, customerEmail: e.invoice.email,
        subscription: e.invoice.subscriptionId, billingReason: e.invoice.billingReason, currency: e.invoice.currency,
        clickId: e.invoice.clickId, chargeId: e.invoice.chargeId, status: e.invoice.status, description: 'Plan',
        lines: e.invoice.lines.map((l) => ({ ...l })),
      });
    case 'charge.succeeded':
    case 'charge.failed':
      return chargeEvent(e.type, { ...envelope, ...chargeOptions(e.charge) });
    case 'charge.refunded': {
      const previousRefunds = e.charge.refunds.slice(0, -1);
      return chargeEvent('charge.refunded', {
        ...envelope, ...chargeOptions(e.charge),
        previousAttributes: { amount_refunded: e.previousRefunded, refunded: false, refunds: { data: previousRefunds.map((r) => ({ id: r.id })), total_count: previousRefunds.length } },
      });
    }
    case 'checkout.session.completed':
      return checkoutSessionCompletedEvent({
        ...envelope, id: e.session.id, mode: 'payment', customer: e.session.customerId, email: e.session.email,
        currency: e.session.currency, amountSubtotal: e.session.amountTotal, paymentIntent: e.session.paymentIntent,
        clientReferenceId: e.session.clientReferenceId,
      });
  }
};

/** The event's JSON body, as Stripe would POST it. */
export const renderEvent = (e: PlannedEvent): string => JSON.stringify({ ...build(e), api_version: SIMULATED_API_VERSION });
