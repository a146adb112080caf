/**
 * Issue 14 items 3 and 4: each adapter's refund amount is in the basis its sale was credited in
 * (saleBasis.ts), not in Stripe's amounts (tax included). Only the amount lines are checked here;
 * each adapter's request shape has its own spec.
 */
import { describe, expect, it } from 'vitest';
import type { Conversion } from '@sas/contracts';
import { isSkip, isUnsendable, type PartnerRequest } from '../partnerRequest.js';
import { aConversion, aDestination } from '../testConversion.js';
import { everflowRequest } from './everflow.js';
import { impactRequest } from './impact.js';
import { partnerstackRequest } from './partnerstack.js';
import { webhookRequest } from './webhook.js';

const ctx = { nowMs: Date.UTC(2025, 10, 24), email: null };

/** The order: $100 + $20 tax paid ($120), credited $100; a refund as the mapper writes it. */
const taxedRefund = (o: Partial<Conversion>): Conversion => aConversion({
  kind: 'REFUND_PARTIAL', refundId: 're_1', orderId: 'in_T', amountMinor: 1_000, taxMinor: 0, lineItems: [],
  orderAmountMinor: 12_000, refundedTotalMinor: 1_000, saleNetMinor: 10_000, ...o,
});

const sent = (r: ReturnType<typeof impactRequest>): PartnerRequest => {
  if (isSkip(r)) throw new Error(`skipped: ${r.skip}`);
  if (isUnsendable(r)) throw new Error(`unsendable: ${r.invalid}`);
  return r;
};

describe('impact.com Actions API Amount: the action\'s new total in the sale\'s basis', () => {
  const d = aDestination('impact', { accountSid: 'IRsid', campaignId: '1', eventTypeId: '2', recurringEventTypeId: '3', baseUrl: 'https://impact.test' }, { authToken: 'tok' });
  const amountOf = (c: Conversion) => new URLSearchParams(sent(impactRequest(c, d)).body ?? '').get('Amount');

  it.each([
    { name: '$100 + $20 tax, $10 refunded: 91.67 (was 110.00, above the $100 credited)', c: taxedRefund({}), then: '91.67' },
    { name: 'the order\'s highest refunded total so far ($60 of $120): half the basis', c: taxedRefund({ refundedTotalMinor: 6_000 }), then: '50.00' },
    { name: 'JPY, 10 % inclusive tax: ¥10,800 paid, ¥9,818 credited, ¥5,000 refunded → ¥5,273', c: taxedRefund({ currency: 'JPY', orderAmountMinor: 10_800, saleNetMinor: 9_818, amountMinor: 5_000, refundedTotalMinor: 5_000 }), then: '5273' },
    { name: 'KWD: 12.962 paid, 12.345 credited, 1.000 refunded → 11.393', c: taxedRefund({ currency: 'KWD', orderAmountMinor: 12_962, saleNetMinor: 12_345, amountMinor: 1_000, refundedTotalMinor: 1_000 }), then: '11.393' },
    { name: 'a record written before saleNetMinor: Stripe\'s amounts, as before', c: taxedRefund({ saleNetMinor: null }), then: '110.00' },
  ])('$name', ({ c, then }) => {
    expect(amountOf(c)).toBe(then);
  });
});

describe('PartnerStack refund transaction amount: negative, in the sale\'s basis', () => {
  const d = aDestination('partnerstack', { publicKey: 'pk', baseUrl: 'https://ps.test/api/v2' }, { secretKey: 'sk' });
  const amountOf = (c: Conversion) => (JSON.parse(sent(partnerstackRequest(c, d, ctx)).body!) as { amount: number }).amount;

  it('a partial refund of a taxed order, then the refund completing it: −833 and −9,167, the sale\'s 10,000 back to 0', () => {
    const partial = amountOf(taxedRefund({}));
    const completing = amountOf(taxedRefund({ kind: 'REFUND_FULL', refundId: 're_2', amountMinor: 11_000, refundedTotalMinor: 12_000 }));
    expect([partial, completing]).toEqual([-833, -9_167]);
    expect(10_000 + partial + completing).toBe(0);
  });
});

describe('Everflow: the dead letter of a partial refund names the amounts to set, in the sale\'s basis', () => {
  const d = aDestination('everflow', { baseUrl: 'https://ef.test' });
  it('$10 of a $120 order credited $100: refunded 8.33 of 100.00', () => {
    const r = everflowRequest(taxedRefund({}), d, ctx);
    expect(isUnsendable(r) ? r.invalid : '').toMatch(/refunded 8\.33 USD of 100\.00 USD, this refund 8\.33 USD/);
  });
});

describe('webhook: a refund carries its sale-basis amounts beside Stripe\'s', () => {
  const d = aDestination('webhook', { url: 'https://hook.test/in' }, { signingSecret: 'whsec_dGVzdA==' });
  it('data.saleBasis', () => {
    const body = JSON.parse(sent(webhookRequest(taxedRefund({}), d, ctx)).body!) as { data: { amountMinor: number; saleBasis: unknown } };
    expect(body.data.amountMinor).toBe(1_000);
    expect(body.data.saleBasis).toEqual({ saleNetMinor: 10_000, refundMinor: 833, refundedTotalMinor: 833, newTotalMinor: 9_167 });
  });
});
