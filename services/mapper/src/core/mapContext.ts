/** What the mapper knows besides the event itself: where it came from and the integration's choices. */
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
}
