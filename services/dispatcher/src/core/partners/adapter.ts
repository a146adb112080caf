import type { Conversion } from '@sas/contracts';
import type { Destination } from '@sas/runtime';
import type { ClassifyContext, PartnerAnswer, ResponseClass } from '../classifyResponse.js';
import type { DispatchAction } from '@sas/contracts';
import type { BuildContext, BuildResult, PartnerRequest } from '../partnerRequest.js';
import type { SubmissionDecision } from './impactSubmission.js';

/** A partner that answers "queued, see there" (impact): how to look there and what its answer means. */
export interface FollowUp {
  /** Delays before check 1, 2, ... (the last one past the end gives up); may throw a DestinationConfigError. */
  readonly schedule: (d: Destination) => readonly number[];
  readonly request: (uri: string, d: Destination, action: DispatchAction) => PartnerRequest;
  readonly decide: (p: { uri: string; answer: PartnerAnswer | null; failure: string | null; checksDone: number; schedule: readonly number[] }) => SubmissionDecision;
}

/** One partner platform: pure functions from conversion + destination settings to a request and back. */
export interface PartnerAdapter {
  /**
   * Decided from the conversion and settings alone (no lookups), before anything is written
   * to the ledger: a reason when this destination has nothing to do with the conversion.
   */
  readonly skipReason: (c: Conversion, d: Destination) => string | null;
  /** Whether build needs the customer's row in the attribution store (plain email, current customer key), read on each attempt. */
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
  /** The partner processes requests later and says where to follow them (classify's `follow`). */
  readonly follow?: FollowUp;
}
