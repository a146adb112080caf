import type { OrderKind, StoredAttribution } from './facts.js';

/** State changes a mapping decides; the shell applies them once the conversions are acknowledged. */
export type Effect =
  | { readonly type: 'attribution'; readonly key: string; readonly row: StoredAttribution; readonly sourceEventId: string }
  | {
      readonly type: 'orderLink'; readonly ref: string; readonly orderId: string; readonly kind: OrderKind;
      readonly subscriptionId: string | null; readonly customerId: string | null; readonly billingReason?: string | null;
      readonly saleNetMinor?: number | null;
    }
  | {
      readonly type: 'transaction'; readonly chargeId: string; readonly status: 'recorded' | 'failed' | 'reversed';
      readonly conversionId: string | null; readonly orderId: string | null; readonly amountMinor: number | null;
      readonly currency: string | null; readonly sourceEventId: string;
    }
  | {
      readonly type: 'refund'; readonly refundKey: string; readonly chargeId: string; readonly amountMinor: number;
      readonly conversionId: string; readonly sourceEventId: string;
    };
