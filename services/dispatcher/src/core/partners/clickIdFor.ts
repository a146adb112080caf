import { CLIENT_REFERENCE_ID_IS_CLICK, unsourcedClickId, type Attribution } from '@sas/contracts';
import type { Destination } from '@sas/runtime';

/** The by-source click fields, one per partner that takes a click. */
export type OwnClick = 'impactClickId' | 'tracknowClickId' | 'everflowTransactionId';

/**
 * The click a partner is sent: its own (the metadata key that names it), else the Checkout
 * client_reference_id where this destination says that is where its click is put (Tracknow's
 * Stripe guide does; off by default, since merchants also put their own user id there), else
 * the one click of a record written before the by-source fields (source unknown, read as before).
 * Never another partner's click.
 */
export const clickIdFor = (a: Attribution, own: OwnClick, d: Pick<Destination, 'settings'>): string | null =>
  a[own] ?? (d.settings[CLIENT_REFERENCE_ID_IS_CLICK] === true ? a.clientReferenceId : null) ?? unsourcedClickId(a);
