import { RawEventHeaders, stripeEventKey, type StripeEventEnvelope } from '@sas/contracts';

const str = (v: unknown): string | null => (typeof v === 'string' && v.length > 0 ? v : null);

/** The customer an event is about, wherever its object keeps it (a customer object is its own). */
export const customerOf = (event: StripeEventEnvelope): string | null => {
  const o = event.data.object;
  if (o.object === 'customer') return str(o.id);
  const c = o.customer;
  if (typeof c === 'object' && c !== null) return str((c as { id?: unknown }).id);
  return str(c);
};

/**
 * The Kafka record for a Stripe event: Stripe's bytes unchanged, keyed and labelled. Ingest
 * writes each verified webhook with it and `sas backfill` each event listed from the API, so
 * both land alike (same key, so the same partition, and the same headers); a backfilled one
 * also names its run.
 */
export const rawEventRecord = (p: {
  integrationId: string;
  raw: Buffer;
  event: StripeEventEnvelope;
  receivedAtMs: number;
  /** Set by `sas backfill`: the run that listed the event. */
  backfillRunId?: string;
}) => {
  const headers: Record<string, string> = {
    [RawEventHeaders.integrationId]: p.integrationId,
    [RawEventHeaders.eventId]: p.event.id,
    [RawEventHeaders.eventType]: p.event.type,
    [RawEventHeaders.apiVersion]: p.event.api_version ?? '',
    [RawEventHeaders.livemode]: String(p.event.livemode),
    [RawEventHeaders.account]: p.event.account ?? '',
    [RawEventHeaders.receivedAt]: String(p.receivedAtMs),
  };
  if (p.backfillRunId) headers[RawEventHeaders.backfillRun] = p.backfillRunId;
  return {
    key: stripeEventKey({
      integrationId: p.integrationId,
      account: p.event.account ?? null,
      customerId: customerOf(p.event),
      objectId: str(p.event.data.object.id),
    }),
    value: p.raw,
    headers,
  };
};

export type RawEventRecord = ReturnType<typeof rawEventRecord>;
