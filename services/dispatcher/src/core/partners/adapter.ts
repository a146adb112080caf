import type { Conversion } from '@sas/contracts';
import type { Destination } from '@sas/runtime';
import type { ClassifyContext, PartnerAnswer, ResponseClass } from '../classifyResponse.js';
import type { BuildContext, BuildResult, PartnerRequest } from '../partnerRequest.js';

/** One partner platform: pure functions from conversion + destination settings to a request and back. */
export interface PartnerAdapter {
  /**
   * Decided from the conversion and settings alone (no lookups), before anything is written
   * to the ledger: a reason when this destination has nothing to do with the conversion.
   */
  readonly skipReason: (c: Conversion, d: Destination) => string | null;
  /** Whether build needs the plain email from the attribution store. */
  readonly needsEmail: (c: Conversion, d: Destination) => boolean;
  readonly build: (c: Conversion, d: Destination, ctx: BuildContext) => BuildResult;
  readonly classify: (a: PartnerAnswer, req: PartnerRequest, ctx: ClassifyContext) => ResponseClass;
  /**
   * The partner's refund call sets the order's new total (not a delta): refunds of one order
   * must reach it in the order of their refunded totals (decideRefundOrder).
   */
  readonly refundSetsTotal?: boolean;
  /**
   * The partner documents no way to dedupe or look up what it received (Tracknow), or not under
   * the destination's settings (Everflow offers that allow duplicate conversions): a resend
   * after an attempt that may have reached it can credit twice. Such attempts are flagged, and
   * their outcome and ledger writes skip the shared batches to keep that window short.
   */
  readonly noPartnerDedupe?: boolean | ((d: Destination) => boolean);
}
