/**
 * Record keys. They decide partitions and therefore ordering: everything about one
 * customer's subscription (or one order) must land on one partition.
 */

const part = (v: string | null | undefined): string => (v && v.length > 0 ? v : '-');

/** Raw events are keyed by customer, so the mapper sees one customer's events in order. */
export const stripeEventKey = (p: {
  integrationId: string;
  account: string | null;
  customerId: string | null;
  objectId: string | null;
}): string => `${p.integrationId}:${part(p.account)}:${part(p.customerId ?? p.objectId)}`;

/** Conversions: account:customer:subscription, or account:customer:order for one-time sales. */
export const conversionKey = (p: {
  account: string | null;
  customerId: string | null;
  subscriptionId: string | null;
  orderId: string;
}): string => `${part(p.account)}:${part(p.customerId)}:${part(p.subscriptionId ?? p.orderId)}`;

/** What the dispatcher's ledger credits at most once. */
export const ledgerKey = (p: {
  integrationId: string;
  destinationId: string;
  orderId: string;
  action: string;
}): string => `${p.integrationId}:${p.destinationId}:${p.orderId}:${p.action}`;
