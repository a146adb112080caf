import { requiresHold, type Conversion } from '@sas/contracts';

/** What the dispatcher will do with a re-sent conversion at one destination, from its ledger row. */
export const Expectations = ['would_send', 'already_credited', 'dry_run_recorded', 'dead_lettered', 'in_progress', 'skipped_by_destination'] as const;
export type Expectation = (typeof Expectations)[number];

/** The ledger row's status → the expectation (no row: it would be sent). */
export const expectationOf = (status: string | undefined): Expectation => {
  switch (status) {
    case undefined: return 'would_send';
    case 'sent': return 'already_credited';
    case 'dry_run': return 'dry_run_recorded';
    case 'failed': return 'dead_lettered';
    default: return 'in_progress'; // pending, sending
  }
};

/** One destination's plan for a conversion: skipped by its settings, or the ledger key's action. */
export type DestinationPlan = { readonly destinationId: string; readonly skip: string } | { readonly destinationId: string; readonly actionKey: string };

export interface ConversionVerdict {
  /** Re-produced (not in a dry run: would be). */
  readonly resend: boolean;
  /** Why not, when it is not re-sent. */
  readonly skipped: string | null;
  readonly destinations: Record<string, Expectation>;
}

/**
 * Whether a conversion of the range is re-sent, and what each destination will make of it.
 * A conversion that needs a hold is re-sent only once the scheduler has released it
 * (`holdState`: its held_conversions row's state, null without one): one still held (or not
 * yet seen by the scheduler) is released by the scheduler itself, and one an operator
 * cancelled must never be sent. With `onlyDestination`, a conversion is re-sent only when that
 * destination has something to send (no ledger row); the others see it again and their
 * ledgers answer duplicate.
 */
export const judgeConversion = (
  c: Pick<Conversion, 'notBefore' | 'receivedAt' | 'orderId'>, plans: readonly DestinationPlan[],
  statusOf: (destinationId: string, orderId: string, actionKey: string) => string | undefined,
  p: { nowMs: number; onlyDestination: string | null; holdState: string | null },
): ConversionVerdict => {
  const destinations: Record<string, Expectation> = {};
  for (const plan of plans) {
    if (p.onlyDestination && plan.destinationId !== p.onlyDestination) continue;
    destinations[plan.destinationId] = 'skip' in plan ? 'skipped_by_destination' : expectationOf(statusOf(plan.destinationId, c.orderId, plan.actionKey));
  }
  if (requiresHold(c) && p.holdState !== 'released') {
    const skipped = p.holdState === 'cancelled' ? 'cancelled in the scheduler: never sent'
      : p.holdState === 'unknown' ? 'release state unknown in the scheduler: resolve it there first'
      : c.notBefore > p.nowMs ? `on hold until ${new Date(c.notBefore).toISOString()}: the scheduler releases it`
      : `${p.holdState === null ? 'not held by the scheduler yet' : `${p.holdState} in the scheduler`}: the scheduler releases it`;
    return { resend: false, skipped, destinations };
  }
  if (p.onlyDestination && destinations[p.onlyDestination] !== 'would_send') {
    return { resend: false, skipped: `nothing to send to ${p.onlyDestination}`, destinations };
  }
  return { resend: true, skipped: null, destinations };
};
