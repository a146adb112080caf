import { describe, expect, it } from 'vitest';
import type { Conversion } from '@sas/contracts';
import { refundedInSaleBasis, refundInSaleBasis } from './saleBasis.js';
import { aConversion } from './testConversion.js';

/** A refund as the mapper writes it: Stripe's amounts (tax included) and the sale's basis. */
const refund = (o: Partial<Conversion>): Conversion =>
  aConversion({ kind: 'REFUND_PARTIAL', refundId: 're_1', taxMinor: 0, discountMinor: 0, lineItems: [], ...o });

/** Partial refunds of one order in sequence, each with Stripe's running total, as the mapper emits them. */
const sequence = (orderAmountMinor: number, saleNetMinor: number, currency: string, amounts: readonly number[]) => {
  let total = 0;
  return amounts.map((amountMinor, i) => {
    total += amountMinor;
    return refundInSaleBasis(refund({
      kind: total >= orderAmountMinor ? 'REFUND_FULL' : 'REFUND_PARTIAL', refundId: `re_${i}`, currency,
      amountMinor, orderAmountMinor, refundedTotalMinor: total, saleNetMinor,
    }))!;
  });
};

describe('refundInSaleBasis (issue 14, items 3 and 4)', () => {
  // https://docs.stripe.com/tax/invoicing/refunds: a refund is split between net and tax in
  // proportion to the amounts charged, for exclusive and inclusive tax alike.
  it.each([
    {
      name: 'the issue\'s case: $100 + $20 exclusive tax, $10 refunded → $8.33 off, new total $91.67 (not $110)',
      c: { currency: 'USD', orderAmountMinor: 12_000, saleNetMinor: 10_000, amountMinor: 1_000, refundedTotalMinor: 1_000 },
      then: { saleNetMinor: 10_000, refundMinor: 833, refundedTotalMinor: 833, newTotalMinor: 9_167 },
    },
    {
      name: 'Stripe\'s exclusive example: $100 net + $25 tax, $25 refunded → $20 net',
      c: { currency: 'USD', orderAmountMinor: 12_500, saleNetMinor: 10_000, amountMinor: 2_500, refundedTotalMinor: 2_500 },
      then: { saleNetMinor: 10_000, refundMinor: 2_000, refundedTotalMinor: 2_000, newTotalMinor: 8_000 },
    },
    {
      name: 'Stripe\'s inclusive example: $100 with $20 tax inside, $20 refunded → $16 net',
      c: { currency: 'USD', orderAmountMinor: 10_000, saleNetMinor: 8_000, amountMinor: 2_000, refundedTotalMinor: 2_000 },
      then: { saleNetMinor: 8_000, refundMinor: 1_600, refundedTotalMinor: 1_600, newTotalMinor: 6_400 },
    },
    {
      name: 'a discount is already off what was paid: €79 − €15.80 coupon = €63.20 + 19 % VAT €12.01 = €75.21; €30 refunded',
      c: { currency: 'EUR', orderAmountMinor: 7_521, saleNetMinor: 6_320, amountMinor: 3_000, refundedTotalMinor: 3_000 },
      then: { saleNetMinor: 6_320, refundMinor: 2_521, refundedTotalMinor: 2_521, newTotalMinor: 3_799 },
    },
    {
      name: 'JPY (zero-decimal): ¥10,800 with 10 % inclusive tax (net ¥9,818), ¥5,000 refunded → ¥4,545 (4,545.4 rounded)',
      c: { currency: 'JPY', orderAmountMinor: 10_800, saleNetMinor: 9_818, amountMinor: 5_000, refundedTotalMinor: 5_000 },
      then: { saleNetMinor: 9_818, refundMinor: 4_545, refundedTotalMinor: 4_545, newTotalMinor: 5_273 },
    },
    {
      name: 'KWD (three decimals): 12.345 + 5 % tax 0.617 = 12.962, 1.000 refunded → 0.952 (952.4 fils rounded)',
      c: { currency: 'KWD', orderAmountMinor: 12_962, saleNetMinor: 12_345, amountMinor: 1_000, refundedTotalMinor: 1_000 },
      then: { saleNetMinor: 12_345, refundMinor: 952, refundedTotalMinor: 952, newTotalMinor: 11_393 },
    },
    {
      name: 'half a minor unit rounds up: 300 paid, 150 net, 1 refunded → 0.5 → 1',
      c: { currency: 'USD', orderAmountMinor: 300, saleNetMinor: 150, amountMinor: 1, refundedTotalMinor: 1 },
      then: { saleNetMinor: 150, refundMinor: 1, refundedTotalMinor: 1, newTotalMinor: 149 },
    },
    {
      name: 'a full refund ends at exactly zero',
      c: { kind: 'REFUND_FULL' as const, currency: 'USD', orderAmountMinor: 12_000, saleNetMinor: 10_000, amountMinor: 12_000, refundedTotalMinor: 12_000 },
      then: { saleNetMinor: 10_000, refundMinor: 10_000, refundedTotalMinor: 10_000, newTotalMinor: 0 },
    },
    {
      name: 'no tax (basis = what was paid): the refund is Stripe\'s own amount',
      c: { currency: 'USD', orderAmountMinor: 4_900, saleNetMinor: 4_900, amountMinor: 1_000, refundedTotalMinor: 1_000 },
      then: { saleNetMinor: 4_900, refundMinor: 1_000, refundedTotalMinor: 1_000, newTotalMinor: 3_900 },
    },
    {
      name: 'a record written before saleNetMinor: basis unknown, Stripe\'s amounts as before',
      c: { currency: 'USD', orderAmountMinor: 12_000, saleNetMinor: null, amountMinor: 1_000, refundedTotalMinor: 1_000 },
      then: { saleNetMinor: 12_000, refundMinor: 1_000, refundedTotalMinor: 1_000, newTotalMinor: 11_000 },
    },
    {
      name: 'the dispatcher raised the total to the order\'s highest known (impact): the new total follows it',
      c: { currency: 'USD', orderAmountMinor: 12_000, saleNetMinor: 10_000, amountMinor: 1_000, refundedTotalMinor: 6_000 },
      then: { saleNetMinor: 10_000, refundMinor: 833, refundedTotalMinor: 5_000, newTotalMinor: 5_000 },
    },
  ])('$name', ({ c, then }) => {
    expect(refundInSaleBasis(refund(c))).toEqual(then);
  });

  it('a record without orderAmountMinor has no basis to set a total in', () => {
    expect(refundInSaleBasis(refund({ orderAmountMinor: null, refundedTotalMinor: null, saleNetMinor: null }))).toBeNull();
  });

  it.each([
    { name: 'USD, exclusive tax, partial then completing', order: 12_000, net: 10_000, currency: 'USD', amounts: [1_000, 11_000] },
    { name: 'USD, three partials that never divide evenly', order: 1_001, net: 829, currency: 'USD', amounts: [333, 333, 335] },
    { name: 'JPY, inclusive tax, two partials then the rest', order: 10_800, net: 9_818, currency: 'JPY', amounts: [1, 5_000, 5_799] },
    { name: 'KWD, a fils at a time at the end', order: 12_962, net: 12_345, currency: 'KWD', amounts: [12_959, 1, 1, 1] },
  ])('partial refunds and the one completing them sum to exactly the sale\'s basis, the last new total is 0: $name', ({ order, net, currency, amounts }) => {
    const steps = sequence(order, net, currency, amounts);
    expect(steps.reduce((s, r) => s + r.refundMinor, 0)).toBe(net);
    expect(steps.at(-1)!.newTotalMinor).toBe(0);
    // Each step's new total is the basis less what was refunded so far, never below 0.
    let refunded = 0;
    for (const r of steps) {
      refunded += r.refundMinor;
      expect(r.refundMinor).toBeGreaterThanOrEqual(0);
      expect(r.newTotalMinor).toBe(net - refunded);
    }
  });

  it('is exact where floating point is not: amount × amount beyond 2^53', () => {
    // 3e12 × 8e12 is past a double's exact integers; BigInt keeps the half-up result.
    expect(refundedInSaleBasis(3_000_000_000_000, 9_000_000_000_000, 8_000_000_000_000)).toBe(2_666_666_666_667);
  });
});
