/**
 * The partner-agnostic conversion event: what the mapper writes to `conversions.v1` and
 * the dispatcher turns into partner requests. Plain data, Avro-encodable (see conversionSchema.ts).
 */

export const ConversionKinds = [
  'SALE_FIRST', // first invoice of a subscription (billing_reason subscription_create)
  'SALE_RECURRING', // renewal (subscription_cycle)
  'SALE_OTHER', // other invoice reasons (subscription_update, manual, ...): reason in saleReason
  'SALE_ONE_TIME', // checkout session in payment mode
  'TRANSACTION', // charge-based tracking (PartnerStack / Tracknow style)
  'REFUND_FULL',
  'REFUND_PARTIAL',
  'REVERSAL', // a failed charge undoes its transaction
  'CUSTOMER_IDENTITY', // who a Stripe customer is to the partners
] as const;
export type ConversionKind = (typeof ConversionKinds)[number];

/**
 * The sale kind of an invoice by Stripe's billing_reason (seed 001: subscription_create is the
 * first sale, every other reason a renewal-like one). One rule for the mapper, which names the
 * sale, and a partner adapter that must find the sale again from a refund's `saleReason`.
 */
export const saleKindOfBillingReason = (billingReason: string | null): 'SALE_FIRST' | 'SALE_RECURRING' | 'SALE_OTHER' => {
  switch (billingReason) {
    case 'subscription_create': return 'SALE_FIRST';
    case 'subscription_cycle': return 'SALE_RECURRING';
    default: return 'SALE_OTHER'; // never silently lost: the reason is kept in saleReason
  }
};

export const isSaleKind = (k: ConversionKind): boolean =>
  k === 'SALE_FIRST' || k === 'SALE_RECURRING' || k === 'SALE_OTHER' || k === 'SALE_ONE_TIME' ||
  k === 'TRANSACTION';

/**
 * Every identifier found on the Stripe objects, each by its source: a partner adapter picks the
 * one its partner documents (an impact click never goes to Tracknow as its click_id, a merchant's
 * own user id in client_reference_id never goes anywhere as a click unless the destination says
 * it holds one: `clientReferenceIdIsClick`).
 */
export interface Attribution {
  /**
   * Deprecated, kept for readers of records written before the by-source fields: one click of
   * unknown source. New records set it to the first metadata click (impact, Tracknow, Everflow),
   * never to client_reference_id. Adapters read it only through `unsourcedClickId`.
   */
  readonly clickId: string | null;
  /** impact.com click id from metadata (`impact_click_id`, `irclickid`): seeds 000/001. */
  readonly impactClickId: string | null;
  /** Tracknow click_id from metadata (`tn_click_id`, `click_id`). */
  readonly tracknowClickId: string | null;
  /** Everflow transaction id from metadata (`ef_transaction_id`, `_ef_transaction_id`, `everflow_transaction_id`). */
  readonly everflowTransactionId: string | null;
  /** Checkout Session `client_reference_id`, as sent: a click only where a destination says so. */
  readonly clientReferenceId: string | null;
  readonly partnerKey: string | null;
  readonly customerKey: string | null;
  readonly promoCode: string | null;
  /** SHA-256 hex of the lower-cased, trimmed email: partners take hashes, the stream never carries plain email. */
  readonly emailSha256: string | null;
  /** PartnerStack product_key, when the merchant tags it in metadata. */
  readonly productKey: string | null;
}

export interface LineItem {
  readonly sku: string;
  readonly description: string | null;
  readonly productId: string | null;
  readonly priceId: string | null;
  readonly quantity: number;
  readonly unitAmountMinor: number;
  /** quantity × unit price, after line discounts, before tax. */
  readonly amountMinor: number;
}

export interface Conversion {
  /** Deterministic: the same Stripe facts always give the same id, so replays dedupe. */
  readonly conversionId: string;
  readonly kind: ConversionKind;
  /**
   * Stripe's billing_reason: of the invoice for invoice-based sales; of the refunded invoice for
   * refunds of one, when the mapper knows it (its order links), so a partner with one tracker
   * per sale kind finds the sale again; else null.
   */
  readonly saleReason: string | null;
  readonly sourceEventIds: readonly string[];
  readonly integrationId: string;
  readonly stripeAccount: string | null;
  readonly livemode: boolean;
  /** Epoch milliseconds when it happened at Stripe. */
  readonly occurredAt: number;
  /** Epoch milliseconds when ingest received the webhook (or backfill read it). */
  readonly receivedAt: number;
  /** Invoice id for subscriptions, checkout session id for one-time sales. */
  readonly orderId: string;
  readonly customerId: string | null;
  readonly subscriptionId: string | null;
  readonly chargeId: string | null;
  readonly attribution: Attribution;
  readonly attributed: boolean;
  readonly currency: string;
  /** What the customer paid (or what was refunded), in minor units. */
  readonly amountMinor: number;
  readonly taxMinor: number;
  readonly discountMinor: number;
  readonly lineItems: readonly LineItem[];
  /** Epoch milliseconds before which no partner may be told (refund holds). */
  readonly notBefore: number;
  /** Refunds: Stripe's refund id (re_...), so two partial refunds of one order are two actions. */
  readonly refundId: string | null;
  /** Refunds and reversals: what the original order amounted to, in minor units. */
  readonly orderAmountMinor: number | null;
  /** Refunds: everything refunded on the order so far, this refund included (partners that take a new total). */
  readonly refundedTotalMinor: number | null;
  /**
   * Refunds: what the refunded sale was credited on, in minor units: for an invoice or Checkout
   * sale what was paid net of tax (discounts are already off what was paid), for a charge-tracked
   * sale (TRANSACTION) the charge's amount. `amountMinor`, `orderAmountMinor` and
   * `refundedTotalMinor` stay what Stripe moved (tax included); a partner's refund is brought to
   * this basis by one rule (the dispatcher's saleBasis.ts). Null on records written before the
   * field, and when the mapper did not know the sale: the refund is then in Stripe's amounts.
   */
  readonly saleNetMinor: number | null;
}

/** Amount net of tax, what most partners commission on. */
export const amountExcludingTax = (c: Conversion): number => c.amountMinor - c.taxMinor;

/**
 * Held conversions go through the scheduler and reach the dispatcher on `conversions.due.v1`;
 * all others are dispatched straight from `conversions.v1`. Decided from the record alone
 * (no clock), so every service and every replay agrees.
 */
export const requiresHold = (c: Pick<Conversion, 'notBefore' | 'receivedAt'>): boolean =>
  c.notBefore > c.receivedAt;

/** Attribution by source with nothing found (the by-source fields all null). */
export const NO_SOURCED_CLICKS = { impactClickId: null, tracknowClickId: null, everflowTransactionId: null, clientReferenceId: null } as const;

/**
 * The click of a record written before the by-source fields existed (they read as null): its
 * source is unknown, so every click-taking adapter reads it as before. Null for a newer record,
 * whose clicks are all by source.
 */
export const unsourcedClickId = (a: Attribution): string | null =>
  a.impactClickId || a.tracknowClickId || a.everflowTransactionId || a.clientReferenceId ? null : a.clickId;

/**
 * Whether anything could attribute the conversion. A client_reference_id alone counts: a
 * destination may take it as its click.
 */
export const hasAttribution = (a: Attribution): boolean =>
  Boolean(a.clickId || a.impactClickId || a.tracknowClickId || a.everflowTransactionId || a.clientReferenceId ||
    a.partnerKey || a.customerKey || a.promoCode || a.emailSha256);
