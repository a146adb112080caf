import type { LineItem } from '@sas/contracts';
import type { Hints } from './attribution.js';

/**
 * What the shell looked up before the pure mapping runs: the attribution store, the mapper's
 * own bookkeeping and Stripe API enrichment. Every field has an "unknown" value, so the core
 * maps with whatever could be found.
 */
export interface StoredAttribution extends Hints {
  /** Event time (s) of the last customer.* write, the authoritative source of identity. */
  readonly identityAt: number | null;
}

export type OrderKind = 'invoice' | 'checkout' | 'charge';

export interface OrderLink {
  readonly orderId: string;
  readonly kind: OrderKind;
  readonly subscriptionId: string | null;
  readonly customerId: string | null;
  /**
   * An invoice's billing_reason (from its invoice.paid, or the API), so a refund names the kind
   * of sale it undoes; null or absent when unknown (a link stored before migration 0006).
   */
  readonly billingReason?: string | null;
  /**
   * What the order's sale was credited on (invoice: amount_paid − tax; Checkout: amount_total −
   * amount_tax), stored when the sale's event is mapped; null or absent when unknown (a link
   * stored before migration 0036, or a charge's own link).
   */
  readonly saleNetMinor?: number | null;
}

export interface RecordedTransaction {
  readonly status: 'recorded' | 'failed' | 'reversed';
  readonly conversionId: string | null;
  readonly orderId: string | null;
  readonly amountMinor: number | null;
  readonly currency: string | null;
  readonly sourceEventId: string;
}

export interface RefundFact {
  readonly id: string;
  readonly amountMinor: number;
  readonly createdSec: number;
  readonly status: string | null;
}

export interface MapFacts {
  /** The attribution store's rows, by key: the customer id, and the payment intent for guest checkouts. */
  readonly stored: Readonly<Record<string, StoredAttribution>>;
  /** Checkout line items fetched through the API (products expanded); null when unavailable. */
  readonly lineItems: readonly LineItem[] | null;
  /** Promotion code id (promo_...) → the code customers typed. */
  readonly promoCodes: Readonly<Record<string, string>>;
  /** Promotion codes of an invoice whose discounts arrived as bare ids. */
  readonly invoicePromoCodes: readonly string[] | null;
  /** The order a charge pays (invoice or checkout session), when it could be found. */
  readonly chargeOrder: OrderLink | null;
  /** The charge's transaction bookkeeping. */
  readonly transaction: RecordedTransaction | null;
  /** Every refund of the charge, from the payload or the API; null when unavailable. */
  readonly refunds: readonly RefundFact[] | null;
  /** Refund keys already emitted for the charge. */
  readonly knownRefundKeys: ReadonlySet<string>;
}

export const NO_FACTS: MapFacts = {
  stored: {}, lineItems: null, promoCodes: {}, invoicePromoCodes: null, chargeOrder: null, transaction: null,
  refunds: null, knownRefundKeys: new Set(),
};
