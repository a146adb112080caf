/** Kafka record headers written by ingest on every raw Stripe event. */
export const RawEventHeaders = {
  integrationId: 'x-integration-id',
  eventId: 'x-stripe-event-id',
  eventType: 'x-stripe-event-type',
  apiVersion: 'x-stripe-api-version',
  livemode: 'x-stripe-livemode',
  account: 'x-stripe-account',
  receivedAt: 'x-received-at',
  /**
   * Set only on records re-produced by `sas replay events` (value: the replay id): the mapper
   * re-maps an event it already handled, read-only, and re-emits the same conversion ids,
   * whatever MAPPER_DUPLICATE_EVENTS says; the dispatcher's ledger then answers duplicate.
   */
  replay: 'x-sas-replay',
  /** Set only on events written by `sas backfill`: the run that listed it from the Stripe API. */
  backfillRun: 'x-backfill-run',
} as const;

export type RawEventHeaderName = (typeof RawEventHeaders)[keyof typeof RawEventHeaders];
