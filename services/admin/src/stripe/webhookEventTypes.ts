import type { DestinationType } from '@sas/contracts';

/** What decides which Stripe events an integration's endpoint must receive. */
export interface EventTypeInputs {
  readonly saleTrigger: 'invoice.paid' | 'invoice.payment_succeeded';
  readonly chargeTracking: 'off' | 'all' | 'non_invoice';
  readonly destinations: readonly { readonly id: string; readonly type: DestinationType; readonly settings: Readonly<Record<string, unknown>> }[];
  /** The integration's erase_on_customer_deleted (README, "Personal data"): Stripe must send customer.deleted. */
  readonly eraseOnCustomerDeleted?: boolean;
}

export interface WebhookEventTypes {
  /** Sorted event types to enable on the endpoint. */
  readonly events: readonly string[];
  /** Per event type, why it is enabled (destination and what it credits). */
  readonly reasons: Readonly<Record<string, readonly string[]>>;
  /** Settings that make a destination receive nothing it tracks by. */
  readonly warnings: readonly string[];
}

/** What a destination type sends (services/dispatcher/src/core/partners/*.ts skipReason). */
interface Consumes {
  readonly sales: boolean;
  readonly refunds: boolean;
  readonly reversals: boolean;
  readonly identity: boolean;
}

const consumesOf = (type: Exclude<DestinationType, 'dry_run'>, settings: Readonly<Record<string, unknown>>): Consumes => {
  switch (type) {
    case 'impact':
      return { sales: true, refunds: settings.sendRefunds !== false, reversals: false, identity: false };
    case 'partnerstack':
      return { sales: true, refunds: true, reversals: true, identity: true };
    case 'everflow':
      return { sales: true, refunds: true, reversals: true, identity: false };
    case 'tracknow':
      return { sales: true, refunds: false, reversals: false, identity: false };
    case 'webhook':
      return { sales: true, refunds: true, reversals: true, identity: true };
    default: {
      const _exhaustive: never = type;
      return _exhaustive;
    }
  }
};

const sendingTypes = ['impact', 'partnerstack', 'everflow', 'tracknow', 'webhook'] as const;

/** A dry run simulates its `target` (the dispatcher's default: webhook). */
const effectiveType = (type: DestinationType, settings: Readonly<Record<string, unknown>>): Exclude<DestinationType, 'dry_run'> => {
  if (type !== 'dry_run') return type;
  const t = settings.target;
  return (sendingTypes as readonly unknown[]).includes(t) ? (t as Exclude<DestinationType, 'dry_run'>) : 'webhook';
};

/**
 * The event types the mapper needs for what the integration's destinations credit
 * (services/mapper/src/core/toConversions.ts): invoice sales from the integration's sale
 * trigger only (one invoice is never counted from both events); one-time sales from checkout
 * (also where attribution and the refund's order link come from); charge events only when
 * charge tracking is on; refunds from charge.refunded; identity from customer events. An
 * integration without destinations still gets the sale and refund events, so conversions reach
 * conversions.v1 for analytics.
 */
export const webhookEventTypesFor = (i: EventTypeInputs): WebhookEventTypes => {
  const reasons = new Map<string, string[]>();
  const add = (events: readonly string[], why: string) => {
    for (const e of events) reasons.set(e, [...(reasons.get(e) ?? []), why]);
  };
  const warnings: string[] = [];
  const chargesOn = i.chargeTracking !== 'off';
  const checkout = ['checkout.session.completed', 'checkout.session.async_payment_succeeded'];
  const transactions = ['charge.succeeded', 'charge.captured', 'charge.updated'];

  const consumers: { id: string; trackBy: 'invoice' | 'charge'; consumes: Consumes }[] = i.destinations.length > 0
    ? i.destinations.map((d) => ({
      id: d.id,
      trackBy: d.settings.trackBy === 'charge' ? 'charge' : 'invoice',
      consumes: consumesOf(effectiveType(d.type, d.settings), d.settings),
    }))
    : [{ id: '(no destination: conversions.v1 only)', trackBy: 'invoice', consumes: { sales: true, refunds: true, reversals: chargesOn, identity: false } }];

  for (const c of consumers) {
    if (c.consumes.sales) {
      if (c.trackBy === 'invoice') {
        if (i.chargeTracking === 'all') {
          warnings.push(`${c.id} credits invoices and checkouts, but the integration's charge tracking is 'all': sales come as charge transactions, which it skips`);
        }
        add([i.saleTrigger], `${c.id}: subscription sales (the integration's sale trigger)`);
        add(checkout, `${c.id}: one-time sales and the attribution of checkouts`);
      } else if (!chargesOn) {
        warnings.push(`${c.id} tracks by charge, but the integration's charge tracking is 'off': no charge transaction is produced for it`);
      }
      if (chargesOn && (c.trackBy === 'charge' || i.chargeTracking === 'non_invoice')) {
        add(transactions, `${c.id}: charge transactions (charge tracking '${i.chargeTracking}')`);
        // The invoice behind a charge (its subscription) and the checkout's attribution.
        add([i.saleTrigger], `${c.id}: links a charge to its invoice and subscription`);
        add(checkout, `${c.id}: attribution of the checkout a charge pays`);
      }
    }
    if (c.consumes.refunds) {
      add(['charge.refunded'], `${c.id}: refunds`);
      add(checkout, `${c.id}: which order a refunded payment belongs to`);
    }
    if (c.consumes.reversals && chargesOn) add(['charge.failed'], `${c.id}: reversal of a failed charge`);
    if (c.consumes.identity) add(['customer.created', 'customer.updated'], `${c.id}: customer identity`);
  }
  if (i.eraseOnCustomerDeleted) add(['customer.deleted'], "erasure: a deleted customer's personal data is erased (erase_on_customer_deleted)");
  const events = [...reasons.keys()].sort();
  return { events, reasons: Object.fromEntries(events.map((e) => [e, reasons.get(e)!])), warnings };
};
