import { describe, expect, it } from 'vitest';
import { impactOrderIdOf } from '@sas/contracts';
import { decimalToMinor, impactCredited, partnerstackCredited, webhookCredited, type CreditedOrder, type ImpactAction } from '@sas/testkit';
import type { TruthOrder } from '../simulator/truth.js';
import { reconcile, type KnownDefect } from './reconcile.js';
import { knownDefects } from './knownDefects.js';

const order = (o: Partial<TruthOrder> & { orderId: string }): TruthOrder =>
  ({
    customerId: 'cus_1', currency: 'USD', paidMinor: 4_900, refundedMinor: 0, refunds: [], sale: 'first', tracking: 'invoice', ...o,
    stripePaidMinor: o.stripePaidMinor ?? o.paidMinor ?? 4_900, stripeRefunds: o.stripeRefunds ?? o.refunds ?? [],
  });
const credit = (o: Partial<CreditedOrder> & { orderId: string }): CreditedOrder =>
  ({ currency: 'USD', netMinor: 4_900, saleCredits: 1, doubleRefunds: 0, ...o });

const truth = [
  order({ orderId: 'in_1' }),
  order({ orderId: 'in_2', paidMinor: 12_345, currency: 'KWD', refundedMinor: 2_345, refunds: [2_345], sale: 'recurring' }),
  order({ orderId: 'in_3', customerId: 'cus_2', paidMinor: 980, currency: 'JPY', refundedMinor: 980, refunds: [980] }),
];
const exact = [credit({ orderId: 'in_1' }), credit({ orderId: 'in_2', currency: 'KWD', netMinor: 10_000 }), credit({ orderId: 'in_3', currency: 'JPY', netMinor: 0 })];

describe('reconcile', () => {
  it.each<[string, CreditedOrder[], { mismatches: number; double_credits: number; missing: number }]>([
    ['exact credits', exact, { mismatches: 0, double_credits: 0, missing: 0 }],
    ['a planted double credit of a sale', [credit({ orderId: 'in_1', saleCredits: 2 }), ...exact.slice(1)], { mismatches: 0, double_credits: 1, missing: 0 }],
    ['a refund applied twice', [exact[0]!, credit({ orderId: 'in_2', currency: 'KWD', netMinor: 7_655, doubleRefunds: 1 }), exact[2]!], { mismatches: 1, double_credits: 1, missing: 0 }],
    ['a planted miss', exact.slice(1), { mismatches: 0, double_credits: 0, missing: 1 }],
    ['a refund never applied', [exact[0]!, credit({ orderId: 'in_2', currency: 'KWD', netMinor: 12_345 }), exact[2]!], { mismatches: 1, double_credits: 0, missing: 0 }],
    ['one minor unit off', [exact[0]!, exact[1]!, credit({ orderId: 'in_3', currency: 'JPY', netMinor: 1 })], { mismatches: 1, double_credits: 0, missing: 0 }],
    ['the right amount in the wrong currency', [credit({ orderId: 'in_1', currency: 'EUR' }), ...exact.slice(1)], { mismatches: 1, double_credits: 0, missing: 0 }],
    ['a failed payment credited', [...exact, credit({ orderId: 'in_failed' })], { mismatches: 1, double_credits: 0, missing: 0 }],
    ['a fully refunded order never credited at all', [exact[0]!, exact[1]!], { mismatches: 0, double_credits: 0, missing: 1 }],
  ])('%s', (_what, credited, expected) => {
    const r = reconcile(truth, { partner: credited });
    expect(r).toMatchObject({ ...expected, customers: 2, orders: 3, known_defects: 0 });
    expect(r.details.length > 0).toBe(expected.mismatches + expected.double_credits + expected.missing > 0);
  });

  // Issue 14, item 1: PartnerStack knows only customers created there (a partner referred them).
  it('an order a destination is not owed: absent is fine, credited is a mismatch, and other destinations still owe it', () => {
    const owed = (destination: string, t: TruthOrder) => destination !== 'partnerstack' || t.customerId !== 'cus_2';
    expect(reconcile(truth, { partnerstack: exact.slice(0, 2), webhook: exact }, undefined, undefined, owed)).toMatchObject({ mismatches: 0, missing: 0 });
    expect(reconcile(truth, { partnerstack: exact }, undefined, undefined, owed)).toMatchObject({ mismatches: 1, missing: 0 });
    expect(reconcile(truth, { webhook: exact.slice(0, 2) }, undefined, undefined, owed)).toMatchObject({ mismatches: 0, missing: 1 });
  });

  it('holds each destination to its integration\'s orders: a charge-tracking destination to the charges only (issue 14)', () => {
    const charge = order({ orderId: 'ch_1', customerId: 'cus_3', sale: 'charge', tracking: 'charge', paidMinor: 12_000 });
    const scope = (d: string) => (t: TruthOrder) => (t.tracking === 'charge') === d.endsWith('_charges');
    const r = reconcile([...truth, charge], { partnerstack: exact, partnerstack_charges: [credit({ orderId: 'ch_1', netMinor: 12_000 })] }, undefined, scope);
    expect(r).toMatchObject({ mismatches: 0, missing: 0, orders: 4 });
    // Without the charge's credit it is missing there, and nowhere else.
    expect(reconcile([...truth, charge], { partnerstack: exact, partnerstack_charges: [] }, undefined, scope)).toMatchObject({ missing: 1, mismatches: 0 });
  });

  it('counts per destination: the same miss at two partners is two misses', () => {
    expect(reconcile(truth, { a: exact.slice(1), b: exact.slice(1), c: exact })).toMatchObject({ missing: 2, mismatches: 0 });
  });

  it('reports a known defect apart, and only when it is exactly that defect', () => {
    const partialThenRest = order({ orderId: 'in_9', paidMinor: 900, refundedMinor: 900, refunds: [278, 622] });
    const leftPartials: KnownDefect = (f, t) => (t && f.creditedMinor === -(t.paidMinor - t.refunds.at(-1)!) ? 'partials left' : null);
    expect(reconcile([partialThenRest], { partnerstack: [credit({ orderId: 'in_9', netMinor: -278 })] }, leftPartials)).toMatchObject({ mismatches: 0, known_defects: 1 });
    expect(reconcile([partialThenRest], { partnerstack: [credit({ orderId: 'in_9', netMinor: -622 })] }, leftPartials)).toMatchObject({ mismatches: 1, known_defects: 0 });
  });

  it('the defects this check found are fixed: what they left is a plain mismatch now', () => {
    const partialThenRest = order({ orderId: 'in_9', paidMinor: 900, refundedMinor: 900, refunds: [278, 622] });
    expect(reconcile([partialThenRest], { partnerstack: [credit({ orderId: 'in_9', netMinor: -278 })] }, knownDefects)).toMatchObject({ mismatches: 1, known_defects: 0 });
    const renewal = order({ orderId: 'in_r', sale: 'recurring', refundedMinor: 100, refunds: [100] });
    expect(reconcile([renewal], { impact: [credit({ orderId: 'in_r' })] }, knownDefects)).toMatchObject({ mismatches: 1, known_defects: 0 });
    const fullyRefunded = order({ orderId: 'in_f', refundedMinor: 4_900, refunds: [4_900] });
    expect(reconcile([fullyRefunded], { impact_one_tracker: [credit({ orderId: 'in_f' })] }, knownDefects)).toMatchObject({ mismatches: 1, known_defects: 0 });
    expect(reconcile([fullyRefunded], { partnerstack: [credit({ orderId: 'in_f' })] }, knownDefects)).toMatchObject({ mismatches: 1, known_defects: 0 });
  });
});

describe('what the partner stubs credited', () => {
  it.each([[12.345, 'KWD', 12_345], [4900, 'JPY', 4_900], [49, 'USD', 4_900], [0.1 + 0.2, 'USD', 30]])('%s %s is %s minor units', (amount, currency, minor) => {
    expect(decimalToMinor(amount, currency)).toBe(minor);
  });

  const action = (amount: number, state: 'active' | 'reversed'): ImpactAction => ({ amount, state, items: new Map([['Subscription', { quantity: 1, amount }]]), modifications: [] });
  it('impact: the action amount after PUT, 0 once reversed, one sale per order and tracker', () => {
    const sub = (OrderId: string, EventTypeId: string, CurrencyCode: string) => ({ fields: { OrderId, EventTypeId, CurrencyCode }, accepted: true, errors: [], receivedAt: 0 });
    const got = impactCredited(
      [sub('in_1', '1', 'KWD'), sub('in_2', '1', 'USD'), sub('in_3', '1', 'USD'), sub('in_3', '2', 'USD')],
      new Map([
        ['1:in_1', action(10, 'active')],
        ['1:in_2', action(49, 'reversed')],
        ['1:in_3', action(5, 'active')],
        ['2:in_3', action(5, 'active')],
      ]),
    );
    expect(got).toEqual([
      { orderId: 'in_1', currency: 'KWD', netMinor: 10_000, saleCredits: 1, doubleRefunds: 0 },
      { orderId: 'in_2', currency: 'USD', netMinor: 0, saleCredits: 1, doubleRefunds: 0 },
      { orderId: 'in_3', currency: 'USD', netMinor: 1_000, saleCredits: 2, doubleRefunds: 0 },
    ]);
  });

  // Issue 14 item 8: impact's OrderId is at most 64 characters, so a 66-character Checkout Session
  // is credited under a shortened id, and the credited view reports it under Stripe's id again.
  it('impact: an order credited under its shortened OrderId is reported under its Stripe order id', () => {
    const session = `cs_test_${'a'.repeat(58)}`;
    const shortened = impactOrderIdOf(session);
    const got = impactCredited(
      [{ fields: { OrderId: shortened, EventTypeId: '1', CurrencyCode: 'USD' }, accepted: true, errors: [], receivedAt: 0 }],
      new Map([[`1:${shortened}`, action(20, 'active')]]),
      ['in_other', session],
    );
    expect(got).toEqual([{ orderId: session, currency: 'USD', netMinor: 2_000, saleCredits: 1, doubleRefunds: 0 }]);
  });

  it('PartnerStack: the order transaction plus its negative refunds, deleted ones out', () => {
    const t = (key: string, amount: number, deleted = false) => ({ key, customer: 'ck', amount, currency: 'JPY', productKey: null, deleted });
    expect(partnerstackCredited([t('in_1', 4_900), t('in_1:refund:re_1', -900), t('in_2', 980, true)])).toEqual([
      { orderId: 'in_1', currency: 'JPY', netMinor: 4_000, saleCredits: 1, doubleRefunds: 0 },
      { orderId: 'in_2', currency: 'JPY', netMinor: 0, saleCredits: 1, doubleRefunds: 0 },
    ]);
  });

  it('webhook: sales add, refunds subtract, the same sale or refund under two webhook-ids counts twice', () => {
    const msg = (id: string, kind: string, amountMinor: number, refundId: string | null = null) =>
      ({ id, payload: { data: { kind, orderId: 'in_1', currency: 'EUR', amountMinor, refundId, conversionId: `cnv_${id}` } } });
    expect(webhookCredited([msg('m1', 'SALE_FIRST', 3_900), msg('m2', 'REFUND_PARTIAL', 900, 're_1'), msg('m3', 'CUSTOMER_IDENTITY', 0)])).toEqual([
      { orderId: 'in_1', currency: 'EUR', netMinor: 3_000, saleCredits: 1, doubleRefunds: 0 },
    ]);
    expect(webhookCredited([msg('m1', 'SALE_FIRST', 3_900), msg('m1b', 'SALE_FIRST', 3_900), msg('m2', 'REFUND_PARTIAL', 900, 're_1'), msg('m2b', 'REFUND_PARTIAL', 900, 're_1')])).toEqual([
      { orderId: 'in_1', currency: 'EUR', netMinor: 6_000, saleCredits: 2, doubleRefunds: 1 },
    ]);
  });

  it('webhook: net of tax, as partners commission: a taxed sale less its tax, a refund in the sale\'s basis (issue 14)', () => {
    const sale = { id: 'm1', payload: { data: { kind: 'SALE_FIRST', orderId: 'in_1', currency: 'USD', amountMinor: 12_000, taxMinor: 2_000 } } };
    const refund = { id: 'm2', payload: { data: { kind: 'REFUND_PARTIAL', orderId: 'in_1', currency: 'USD', amountMinor: 1_000, taxMinor: 0, refundId: 're_1', saleBasis: { refundMinor: 833 } } } };
    expect(webhookCredited([sale, refund])).toEqual([{ orderId: 'in_1', currency: 'USD', netMinor: 9_167, saleCredits: 1, doubleRefunds: 0 }]);
  });
});
