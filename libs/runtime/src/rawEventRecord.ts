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

/** The Kafka record for a verified event: Stripe's bytes unchanged, keyed and labelled. */
export const rawEventRecord = (p: { integrationId: string; raw: Buffer; event: StripeEventEnvelope; receivedAtMs: number }) => ({
  key: stripeEventKey({
    integrationId: p.integrationId,
    account: p.event.account ?? null,
    customerId: customerOf(p.event),
    objectId: str(p.event.data.object.id),
  }),
  value: p.raw,
  headers: {
    [RawEventHeaders.integrationId]: p.integrationId,
    [RawEventHeaders.eventId]: p.event.id,
    [RawEventHeaders.eventType]: p.event.type,
    [RawEventHeaders.apiVersion]: p.event.api_version ?? '',
    [RawEventHeaders.livemode]: String(p.event.livemode),
    [RawEventHeaders.account]: p.event.account ?? '',
    [RawEventHeaders.receivedAt]: String(p.receivedAtMs),
  },
});

export type RawEventRecord = ReturnType<typeof rawEventRecord>;
