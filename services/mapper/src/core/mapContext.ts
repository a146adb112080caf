/** What the mapper knows besides the event itself: where it came from and the integration's choices. */
export type ChargeTracking = 'off' | 'all' | 'non_invoice';

export interface MapContext {
  readonly integrationId: string;
  readonly eventId: string;
  readonly eventCreatedSec: number;
  readonly stripeAccount: string | null;
  readonly livemode: boolean;
  /** Epoch ms when ingest received the webhook. */
  readonly receivedAt: number;
  readonly saleTrigger: 'invoice.paid' | 'invoice.payment_succeeded';
  readonly refundHoldSeconds: number;
  /**
   * How charges count (default 'off'): 'off' sales come from invoices and checkout only;
   * 'all' every captured charge is a TRANSACTION, invoices and checkouts only feed attribution;
   * 'non_invoice' invoices are sales and a charge counts only when it pays no invoice.
   */
  readonly chargeTracking?: ChargeTracking;
}
