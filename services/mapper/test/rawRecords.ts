import { RawEventHeaders, stripeEventKey } from '@sas/contracts';

/** A raw record as ingest writes it to stripe.events.v1: Stripe's bytes plus the contract's headers. */
export const rawRecord = (integrationId: string, event: { id: string; type: string; api_version?: string | null; livemode?: boolean; account?: string; data: { object: Record<string, unknown> } }, receivedAt = Date.now()) => {
  const o = event.data.object;
  const customer = typeof o.customer === 'string' ? o.customer : event.type.startsWith('customer.') ? (o.id as string) : null;
  return {
    key: stripeEventKey({ integrationId, account: event.account ?? null, customerId: customer, objectId: (o.id as string) ?? null }),
    value: Buffer.from(JSON.stringify(event)),
    headers: {
      [RawEventHeaders.integrationId]: integrationId,
      [RawEventHeaders.eventId]: event.id,
      [RawEventHeaders.eventType]: event.type,
      [RawEventHeaders.apiVersion]: event.api_version ?? '',
      [RawEventHeaders.livemode]: String(event.livemode ?? false),
      [RawEventHeaders.account]: event.account ?? '',
      [RawEventHeaders.receivedAt]: String(receivedAt),
    },
  };
};
