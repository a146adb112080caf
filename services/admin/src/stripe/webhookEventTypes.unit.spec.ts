import { describe, expect, it } from 'vitest';
import { HandledEventTypes } from '../../../mapper/src/core/toConversions.js';
import { ErasureEventTypes } from '../../../mapper/src/core/forgetErased.js';
import { webhookEventTypesFor, type EventTypeInputs } from './webhookEventTypes.js';

const dest = (type: EventTypeInputs['destinations'][number]['type'], settings: Record<string, unknown> = {}, id = `${type}-1`) => ({ id, type, settings });
const inputs = (o: Partial<EventTypeInputs> = {}): EventTypeInputs => ({ saleTrigger: 'invoice.paid', chargeTracking: 'off', destinations: [], ...o });

const checkout = ['checkout.session.async_payment_succeeded', 'checkout.session.completed'];

describe('webhookEventTypesFor', () => {
  it.each([
    {
      name: 'impact (seed 000): invoice.paid, checkout, charge.refunded',
      given: inputs({ destinations: [dest('impact')] }),
      then: ['charge.refunded', ...checkout, 'invoice.paid'],
    },
    {
      name: "erase_on_customer_deleted: customer.deleted too (README, \"Personal data\")",
      given: inputs({ destinations: [dest('impact')], eraseOnCustomerDeleted: true }),
      then: ['charge.refunded', ...checkout, 'customer.deleted', 'invoice.paid'],
    },
    {
      name: 'impact without refunds: no charge.refunded',
      given: inputs({ destinations: [dest('impact', { sendRefunds: false })] }),
      then: [...checkout, 'invoice.paid'],
    },
    {
      name: 'the sale trigger decides the invoice event (never both)',
      given: inputs({ saleTrigger: 'invoice.payment_succeeded', destinations: [dest('impact')] }),
      then: ['charge.refunded', ...checkout, 'invoice.payment_succeeded'],
    },
    {
      name: 'partnerstack with charge tracking (seed 002): charges, failures, refunds, customers',
      given: inputs({ chargeTracking: 'all', destinations: [dest('partnerstack', { trackBy: 'charge' })] }),
      then: ['charge.captured', 'charge.failed', 'charge.refunded', 'charge.succeeded', 'charge.updated', ...checkout, 'customer.created', 'customer.updated', 'invoice.paid'],
    },
    {
      name: 'partnerstack by invoice, charge tracking off: no charge transaction events, no charge.failed',
      given: inputs({ destinations: [dest('partnerstack')] }),
      then: ['charge.refunded', ...checkout, 'customer.created', 'customer.updated', 'invoice.paid'],
    },
    {
      name: 'tracknow (seed 003): sales only, no refunds',
      given: inputs({ destinations: [dest('tracknow')] }),
      then: [...checkout, 'invoice.paid'],
    },
    {
      name: 'everflow by invoice with non_invoice charge tracking: charge transactions too, and reversals',
      given: inputs({ chargeTracking: 'non_invoice', destinations: [dest('everflow')] }),
      then: ['charge.captured', 'charge.failed', 'charge.refunded', 'charge.succeeded', 'charge.updated', ...checkout, 'invoice.paid'],
    },
    {
      name: 'a dry run listens as its target (tracknow)',
      given: inputs({ destinations: [dest('dry_run', { target: 'tracknow' })] }),
      then: [...checkout, 'invoice.paid'],
    },
    {
      name: 'a dry run without target is a generic webhook: identity too',
      given: inputs({ destinations: [dest('dry_run')] }),
      then: ['charge.refunded', ...checkout, 'customer.created', 'customer.updated', 'invoice.paid'],
    },
    {
      name: 'no destination: sales and refunds for conversions.v1',
      given: inputs(),
      then: ['charge.refunded', ...checkout, 'invoice.paid'],
    },
  ])('$name', ({ given, then }) => {
    expect(webhookEventTypesFor(given).events).toEqual(then);
  });

  it('enables only events the mapper handles', () => {
    const all = webhookEventTypesFor(inputs({
      chargeTracking: 'non_invoice',
      destinations: [dest('impact'), dest('partnerstack', { trackBy: 'charge' }), dest('everflow'), dest('tracknow'), dest('webhook')],
      eraseOnCustomerDeleted: true,
    }));
    for (const e of all.events) expect([...HandledEventTypes, ...ErasureEventTypes]).toContain(e);
  });

  it('says why each event is enabled, per destination', () => {
    const r = webhookEventTypesFor(inputs({ destinations: [dest('impact', {}, 'imp'), dest('partnerstack', {}, 'ps')] }));
    expect(r.reasons['customer.created']).toEqual(['ps: customer identity']);
    expect(r.reasons['charge.refunded']).toEqual(['imp: refunds', 'ps: refunds']);
  });

  it.each([
    { name: 'tracks by charge while charge tracking is off', given: inputs({ destinations: [dest('everflow', { trackBy: 'charge' }, 'ef')] }), then: /ef tracks by charge, but the integration's charge tracking is 'off'/ },
    { name: "credits invoices while charge tracking is 'all'", given: inputs({ chargeTracking: 'all', destinations: [dest('impact', {}, 'imp')] }), then: /imp credits invoices and checkouts, but .* 'all'/ },
  ])('warns when a destination would get nothing: $name', ({ given, then }) => {
    const r = webhookEventTypesFor(given);
    expect(r.warnings).toHaveLength(1);
    expect(r.warnings[0]).toMatch(then);
  });
});
