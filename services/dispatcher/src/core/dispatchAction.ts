import type { Conversion, DispatchAction } from '@sas/contracts';

/** What a conversion asks of a destination, and the ledger's action key for it. */
export interface ActionPlan {
  readonly action: DispatchAction;
  /**
   * Part of the ledger key (integration, destination, order, actionKey). Refunds carry the
   * Stripe refund id, so two partial refunds of one order are two actions, each sent once.
   */
  readonly actionKey: string;
}

export const actionOf = (c: Conversion): ActionPlan => {
  switch (c.kind) {
    case 'SALE_FIRST':
    case 'SALE_RECURRING':
    case 'SALE_OTHER':
    case 'SALE_ONE_TIME':
    case 'TRANSACTION':
      return { action: 'credit', actionKey: 'credit' };
    case 'REFUND_FULL':
    case 'REFUND_PARTIAL':
      return { action: 'refund', actionKey: `refund:${c.refundId ?? c.conversionId}` };
    case 'REVERSAL':
      return { action: 'reverse', actionKey: 'reverse' };
    case 'CUSTOMER_IDENTITY':
      return { action: 'identify', actionKey: 'identify' };
    default: {
      const _exhaustive: never = c.kind;
      return _exhaustive;
    }
  }
};

/** A partial refund that brings the refunded total to the order amount is a full refund. */
export const isFullRefund = (c: Conversion): boolean =>
  c.kind === 'REFUND_FULL' ||
  (c.kind === 'REFUND_PARTIAL' && c.orderAmountMinor !== null && c.refundedTotalMinor !== null &&
    c.refundedTotalMinor >= c.orderAmountMinor);

/** Sales that count as a new customer for the partner (first subscription invoice, one-time purchase). */
export const isNewCustomerSale = (c: Conversion): boolean => c.kind === 'SALE_FIRST' || c.kind === 'SALE_ONE_TIME';

/** Invoice-based sales vs charge-based transactions: a destination tracks one of them, never both. */
export const isInvoiceSale = (c: Conversion): boolean =>
  c.kind === 'SALE_FIRST' || c.kind === 'SALE_RECURRING' || c.kind === 'SALE_OTHER' || c.kind === 'SALE_ONE_TIME';

/**
 * `invoice` (default): paid invoices and checkouts are credited; `charge`: charge-based
 * TRANSACTION events are. A destination takes one of them, never both, or one payment
 * would be credited twice.
 */
export const trackingMismatch = (c: Conversion, settings: Readonly<Record<string, unknown>>, partner: string): string | null => {
  const by = settings.trackBy === 'charge' ? 'charge' : 'invoice';
  return isInvoiceSale(c) === (by === 'invoice') ? null : `${partner}: destination tracks by ${by}, not ${c.kind}`;
};
