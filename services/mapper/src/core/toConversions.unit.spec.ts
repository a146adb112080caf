import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { parseStripeEventEnvelope, type StripeEventEnvelope } from '@sas/contracts';
import { invoicePaidEvent, type InvoiceOptions } from '@sas/testkit';
import { toConversions } from './toConversions.js';
import type { MapContext } from './mapContext.js';

const ctx = (o: Partial<MapContext> = {}): MapContext => ({
  integrationId: 'int_1', eventId: 'evt_1', eventCreatedSec: 1_700_000_000, stripeAccount: null, livemode: false,
  receivedAt: 1_700_000_001_000, saleTrigger: 'invoice.paid', refundHoldSeconds: 3600, ...o,
});

const envelope = (o: InvoiceOptions): StripeEventEnvelope => {
  const parsed = parseStripeEventEnvelope(JSON.parse(JSON.stringify(invoicePaidEvent(o))));
  if (!parsed.ok) throw new Error(parsed.reason);
  return parsed.event;
};

describe('toConversions: invoices', () => {
  it.each(['legacy', 'basil'] as const)('reads a %s-shape invoice.paid into a first sale', (shape) => {
    const e = envelope({ shape, id: 'in_1', customer: 'cus_1', subscription: 'sub_1', clickId: 'clk_1', unitAmount: 2_500, quantity: 2, tax: 500, paidAt: 1_700_000_000, customerEmail: ' Jane@Example.com ' });
    const [c] = toConversions(e, ctx({ eventId: e.id }));
    expect(c).toMatchObject({
      kind: 'SALE_FIRST', saleReason: 'subscription_create', orderId: 'in_1', customerId: 'cus_1', subscriptionId: 'sub_1',
      currency: 'USD', amountMinor: 5_500, taxMinor: 500, occurredAt: 1_700_000_000_000, notBefore: 1_700_000_001_000,
      attributed: true, sourceEventIds: [e.id],
      attribution: { clickId: 'clk_1', emailSha256: createHash('sha256').update('jane@example.com').digest('hex') },
    });
    expect(c!.lineItems).toEqual([expect.objectContaining({ quantity: 2, unitAmountMinor: 2_500, amountMinor: 5_000 })]);
  });

  it.each([
    { reason: 'subscription_create', kind: 'SALE_FIRST' },
    { reason: 'subscription_cycle', kind: 'SALE_RECURRING' },
    { reason: 'subscription_update', kind: 'SALE_OTHER' },
    { reason: 'manual', kind: 'SALE_OTHER' },
    { reason: 'subscription_threshold', kind: 'SALE_OTHER' },
  ])('billing_reason $reason → $kind, reason kept', ({ reason, kind }) => {
    const [c] = toConversions(envelope({ billingReason: reason }), ctx());
    expect([c?.kind, c?.saleReason]).toEqual([kind, reason]);
  });

  it.each([
    { trigger: 'invoice.paid', type: 'invoice.paid', count: 1 },
    { trigger: 'invoice.paid', type: 'invoice.payment_succeeded', count: 0 },
    { trigger: 'invoice.payment_succeeded', type: 'invoice.payment_succeeded', count: 1 },
    { trigger: 'invoice.payment_succeeded', type: 'invoice.paid', count: 0 },
  ] as const)('trigger $trigger counts $type $count time(s)', ({ trigger, type, count }) => {
    expect(toConversions(envelope({ type }), ctx({ saleTrigger: trigger }))).toHaveLength(count);
  });

  it('keeps zero-decimal and three-decimal amounts as Stripe sent them, in minor units', () => {
    expect(toConversions(envelope({ currency: 'jpy', unitAmount: 4_900 }), ctx())[0]).toMatchObject({ currency: 'JPY', amountMinor: 4_900 });
    expect(toConversions(envelope({ currency: 'kwd', unitAmount: 4_900 }), ctx())[0]).toMatchObject({ currency: 'KWD', amountMinor: 4_900 });
  });

  it('gives the same id to a redelivery of the same invoice, and different ids per invoice or integration', () => {
    const a = toConversions(envelope({ id: 'in_A', eventId: 'evt_1' }), ctx())[0]!;
    const again = toConversions(envelope({ id: 'in_A', eventId: 'evt_2' }), ctx())[0]!;
    const other = toConversions(envelope({ id: 'in_B' }), ctx())[0]!;
    const otherIntegration = toConversions(envelope({ id: 'in_A' }), ctx({ integrationId: 'int_2' }))[0]!;
    expect(again.conversionId).toBe(a.conversionId);
    expect(new Set([a.conversionId, other.conversionId, otherIntegration.conversionId]).size).toBe(3);
  });

  it('emits an unattributed sale rather than dropping it', () => {
    const [c] = toConversions(envelope({ clickId: null, customerEmail: null }), ctx());
    expect(c).toMatchObject({ attributed: false, attribution: { clickId: null, emailSha256: null } });
  });

  it('maps events it does not handle (yet) to nothing', () => {
    const e = { ...envelope({}), type: 'customer.subscription.updated' };
    expect(toConversions(e, ctx())).toEqual([]);
  });
});
