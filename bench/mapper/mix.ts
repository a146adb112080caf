import { chargeEvent, checkoutSessionCompletedEvent, customerEvent, invoicePaidEvent } from '@sas/testkit';

// The mix: subscription invoices in both API shapes, one-time checkouts, charges (PartnerStack
// style, counted when they pay no invoice), refunds, customers.
const sessions = Array.from({ length: 1_000 }, (_, i) => `cs_test_bench_${i}`);
/** The i-th event of the bench's mix. */
export const benchEventAt = (i: number) => {
  const customer = `cus_b${i % 50_000}`;
  switch (i % 10) {
    case 0: case 1: case 2: return invoicePaidEvent({ customer, shape: 'legacy', billingReason: i % 20 === 0 ? 'subscription_create' : 'subscription_cycle' });
    case 3: case 4: return invoicePaidEvent({ customer, shape: 'basil' });
    case 5: case 6: return checkoutSessionCompletedEvent({ id: sessions[i % sessions.length]!, customer, promotionCode: 'promo_bench', clientReferenceId: `click_${i}` });
    case 7: return chargeEvent('charge.succeeded', { customer, invoice: null, metadata: { customer_key: `ck_${i % 50_000}`, product_key: 'pro' } });
    case 8: return chargeEvent('charge.refunded', { customer, invoice: `in_b${i}`, amount: 2_000, refunds: [{ amount: 500 }] });
    default: return customerEvent(i % 20 === 9 ? 'customer.created' : 'customer.updated', { id: customer, metadata: { partner_key: `pk_${i % 97}` }, previousAttributes: i % 20 === 9 ? undefined : { email: 'old@example.com' } });
  }
};

