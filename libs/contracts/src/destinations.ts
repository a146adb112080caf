/** Partner destination types a conversion can be dispatched to. */
export const DestinationTypes = ['impact', 'partnerstack', 'everflow', 'tracknow', 'webhook', 'dry_run'] as const;
export type DestinationType = (typeof DestinationTypes)[number];

/** What a destination is asked to do with one conversion; part of the ledger key. */
export const DispatchActions = ['credit', 'refund', 'reverse', 'identify'] as const;
export type DispatchAction = (typeof DispatchActions)[number];
