/**
 * Stripe histories of simulated customers, as plain data: what Stripe creates (in its order)
 * and what it delivers (duplicates and out-of-order deliveries included). Pure and seeded: the
 * same options give the same histories. Rendering to Stripe's JSON is render.ts; the truth the
 * reconciliation compares against is truth.ts.
 */
import { seededRng, type Rng } from './prng.js';

export type SimCurrency = 'usd' | 'eur' | 'gbp' | 'jpy' | 'kwd';

export interface PlannedLine {
  readonly amount: number;
  readonly quantity: number;
  readonly unitAmount: number;
  readonly description: string;
  readonly proration: boolean;
}

/**
 * A coupon on the order, alone or through a promotion code customers typed
 * (docs.stripe.com/api/coupons, docs.stripe.com/api/promotion_codes). `amount` is what it took
 * off, in minor units, before tax.
 */
export interface PlannedDiscount {
  readonly amount: number;
  readonly couponId: string;
  readonly percentOff: number;
  readonly promotionCode: { readonly id: string; readonly code: string } | null;
}

/**
 * Tax on the order (docs.stripe.com/tax/products-prices-tax-codes-tax-behavior): `exclusive`
 * is added to the price, `inclusive` is inside it. Computed on the amount after the discount.
 */
export interface PlannedTax {
  readonly amount: number;
  readonly inclusive: boolean;
  readonly percentage: number;
  readonly rateId: string;
}

/** What the customer pays: the lines, less the discount, plus exclusive tax (inclusive tax is already inside). */
export const amountDue = (subtotal: number, discount: PlannedDiscount | null, tax: PlannedTax | null): number =>
  subtotal - (discount?.amount ?? 0) + (tax && !tax.inclusive ? tax.amount : 0);

export interface PlannedInvoice {
  readonly id: string;
  readonly customerId: string;
  readonly email: string;
  readonly subscriptionId: string;
  readonly billingReason: 'subscription_create' | 'subscription_cycle' | 'subscription_update';
  readonly currency: SimCurrency;
  readonly lines: readonly PlannedLine[];
  /** The charge of this attempt (a failed attempt's charge, or the one that paid it). */
  readonly chargeId: string;
  readonly status: 'paid' | 'open';
  readonly clickId: string;
  readonly discount: PlannedDiscount | null;
  readonly tax: PlannedTax | null;
}

export interface PlannedRefund {
  readonly id: string;
  readonly amount: number;
  readonly created: number;
}

export interface PlannedCharge {
  readonly id: string;
  readonly customerId: string;
  readonly email: string;
  /** The invoice it pays (null for a checkout's charge). */
  readonly invoiceId: string | null;
  readonly paymentIntent: string;
  readonly amount: number;
  readonly currency: SimCurrency;
  readonly status: 'succeeded' | 'failed';
  /** The charge's refunds as of this event, oldest first. */
  readonly refunds: readonly PlannedRefund[];
}

export interface PlannedSession {
  readonly id: string;
  readonly customerId: string;
  readonly email: string;
  readonly paymentIntent: string;
  /** Before the discount, inclusive tax included (Stripe's amount_subtotal). */
  readonly amountSubtotal: number;
  readonly amountTotal: number;
  readonly currency: SimCurrency;
  readonly clientReferenceId: string;
  readonly discount: PlannedDiscount | null;
  readonly tax: PlannedTax | null;
}

export interface PlannedCustomer {
  readonly id: string;
  readonly email: string;
  readonly currency: SimCurrency;
  readonly metadata: Readonly<Record<string, string>>;
}

interface Envelope { readonly eventId: string; readonly created: number }
export type PlannedEvent =
  | (Envelope & { readonly type: 'customer.created'; readonly customer: PlannedCustomer })
  | (Envelope & { readonly type: 'invoice.paid' | 'invoice.payment_failed'; readonly invoice: PlannedInvoice })
  | (Envelope & { readonly type: 'charge.succeeded' | 'charge.failed'; readonly charge: PlannedCharge })
  | (Envelope & { readonly type: 'charge.refunded'; readonly charge: PlannedCharge; readonly previousRefunded: number })
  | (Envelope & { readonly type: 'checkout.session.completed'; readonly session: PlannedSession });

export interface CustomerHistory {
  readonly customerId: string;
  readonly currency: SimCurrency;
  /**
   * The merchant's integration tracks charges (`charge_tracking` all, PartnerStack style): every
   * charge is a sale under its charge id; else invoices and Checkout sessions are.
   */
  readonly chargeTracked: boolean;
  /** Every event once, in the order Stripe created them. */
  readonly events: readonly PlannedEvent[];
  /** What Stripe delivers, in delivery order: some events twice, some pairs swapped. */
  readonly deliveries: readonly PlannedEvent[];
}

export interface SimulationOptions {
  readonly seed: number;
  readonly customers: number;
  /** Goes into every Stripe id, so runs sharing a database never share ids. */
  readonly runTag: string;
  /** Unix seconds of the first signup. */
  readonly startSec?: number;
  /** Probability that an event is delivered twice (Stripe retries after a lost 2xx). */
  readonly duplicateRate?: number;
  /** Probability that an allowed adjacent pair of deliveries is swapped. */
  readonly swapRate?: number;
  /** Share of customers whose merchant tracks charges (a second integration). */
  readonly chargeTrackedRate?: number;
}

const DAY = 86_400;

/** Plan prices in minor units: ¥4,900 is 4900 (0 decimals), 12.345 KWD is 12345 (3 decimals). */
const PRICES: Record<SimCurrency, readonly number[]> = {
  usd: [900, 2_900, 4_900, 9_900],
  eur: [1_900, 3_900, 7_900],
  gbp: [1_500, 2_900],
  jpy: [980, 4_900, 12_800],
  kwd: [3_500, 12_345, 27_750],
};
const CURRENCIES: readonly SimCurrency[] = ['usd', 'usd', 'usd', 'usd', 'eur', 'eur', 'gbp', 'jpy', 'jpy', 'kwd', 'kwd'];

/** Refunds of a paid charge of `amount`: none, full, partial, partial then the rest, two partials. */
const planRefunds = (rng: Rng, id: () => string, amount: number, paidAt: number): PlannedRefund[] => {
  const r = rng.next();
  const at = (days: number) => paidAt + days * DAY + rng.int(0, 3_600);
  if (r < 0.07) return [{ id: id(), amount, created: at(rng.int(1, 9)) }];
  if (amount < 3) return [];
  if (r < 0.17) return [{ id: id(), amount: rng.int(1, amount - 1), created: at(rng.int(1, 9)) }];
  if (r < 0.24) {
    const first = rng.int(1, amount - 1);
    return [{ id: id(), amount: first, created: at(rng.int(1, 4)) }, { id: id(), amount: amount - first, created: at(rng.int(5, 9)) }];
  }
  if (r < 0.29) {
    const first = rng.int(1, amount - 2);
    return [{ id: id(), amount: first, created: at(rng.int(1, 4)) }, { id: id(), amount: rng.int(1, amount - first - 1), created: at(rng.int(5, 9)) }];
  }
  return [];
};

/** One charge.refunded per refund, each carrying the refunds so far (what the charge looks like then). */
const refundEvents = (charge: PlannedCharge, refunds: readonly PlannedRefund[], eventId: () => string): PlannedEvent[] =>
  refunds.map((r, i) => ({
    type: 'charge.refunded' as const,
    eventId: eventId(),
    created: r.created,
    charge: { ...charge, refunds: refunds.slice(0, i + 1) },
    previousRefunded: refunds.slice(0, i).reduce((s, x) => s + x.amount, 0),
  }));

/** The tax a customer pays where they live: none, added to prices, or inside them (VAT style). */
const planTaxMode = (rng: Rng): { inclusive: boolean; percentage: number } | null => {
  const r = rng.next();
  if (r < 0.4) return null;
  return { inclusive: r >= 0.7, percentage: rng.pick([5, 8.25, 10, 19, 20]) };
};

/** Half up to the minor unit, as Stripe rounds tax amounts (docs.stripe.com/tax/calculating: rounding per line). */
const roundHalfUp = (numerator: number, denominator: number): number => Math.floor((2 * numerator + denominator) / (2 * denominator));

const taxOn = (base: number, mode: { inclusive: boolean; percentage: number } | null, rateId: string): PlannedTax | null => {
  if (!mode || base <= 0) return null;
  // In basis points of a percent, to stay in integers: 8.25 % is 825 / 10,000.
  const bp = Math.round(mode.percentage * 100);
  const amount = mode.inclusive ? roundHalfUp(base * bp, 10_000 + bp) : roundHalfUp(base * bp, 10_000);
  return amount > 0 ? { amount, inclusive: mode.inclusive, percentage: mode.percentage, rateId } : null;
};

const customerEvents = (rng: Rng, o: SimulationOptions, index: number): PlannedEvent[] => {
  let n = 0;
  const id = (prefix: string) => `${prefix}_${o.runTag}${index.toString(36)}x${(n++).toString(36)}${rng.token(4)}`;
  // Stripe's own Checkout Session ids run to 66 characters (the example id of
  // docs.stripe.com/api/checkout/sessions/retrieve, cs_test_a11YY…): longer than some partners' order id fields.
  const sessionId = () => {
    const base = `cs_test_a1${o.runTag}${index.toString(36)}x${(n++).toString(36)}`;
    return base + rng.token(Math.max(4, 66 - base.length));
  };
  const taxMode = planTaxMode(rng);
  const taxRate = id('txr');
  /** A coupon (percent off) on this order, maybe through a promotion code; null most of the time. */
  const planDiscount = (subtotal: number, chance: number): PlannedDiscount | null => {
    if (subtotal <= 0 || !rng.chance(chance)) return null;
    const percentOff = rng.pick([10, 15, 20, 25, 50]);
    const amount = roundHalfUp(subtotal * percentOff, 100);
    const couponId = `CPN${rng.token(6)}`;
    const promotionCode = rng.chance(0.5) ? { id: id('promo'), code: `SAVE${percentOff}${rng.token(3).toUpperCase()}` } : null;
    return amount > 0 ? { amount, couponId, percentOff, promotionCode } : null;
  };
  const eventId = () => id('evt');
  const currency = rng.pick(CURRENCIES);
  const customerId = id('cus');
  const email = `${customerId}@example.com`;
  const clickId = `IRclk_${rng.token(16)}`;
  const signup = (o.startSec ?? 1_764_000_000) + rng.int(0, 30 * DAY);
  const metadata: Record<string, string> = { impact_click_id: clickId, customer_key: `ck_${customerId}` };
  if (rng.chance(0.5)) metadata.partner_key = `pk_${rng.token(8)}`;
  const events: PlannedEvent[] = [{ type: 'customer.created', eventId: eventId(), created: signup, customer: { id: customerId, email, currency, metadata } }];

  const charge = (invoiceId: string | null, amount: number, status: PlannedCharge['status']): PlannedCharge =>
    ({ id: id('ch'), customerId, email, invoiceId, paymentIntent: id('pi'), amount, currency, status, refunds: [] });

  if (rng.chance(0.2)) {
    // A one-time purchase through Checkout (mode=payment): the charge, then the session completes.
    const price = rng.pick(PRICES[currency]);
    const subtotal = price * rng.int(1, 3);
    const discount = planDiscount(subtotal, 0.3);
    const tax = taxOn(subtotal - (discount?.amount ?? 0), taxMode, taxRate);
    const amount = amountDue(subtotal, discount, tax);
    const at = signup + rng.int(30, 600);
    const ch = charge(null, amount, 'succeeded');
    events.push({ type: 'charge.succeeded', eventId: eventId(), created: at - 2, charge: ch });
    events.push({
      type: 'checkout.session.completed', eventId: eventId(), created: at,
      session: { id: sessionId(), customerId, email, paymentIntent: ch.paymentIntent, amountSubtotal: subtotal, amountTotal: amount, currency, clientReferenceId: clickId, discount, tax },
    });
    events.push(...refundEvents(ch, planRefunds(rng, () => id('re'), amount, at), eventId));
    return events;
  }

  // A subscription: first invoice, renewals, maybe an upgrade with prorations, maybe failed charges.
  const subscriptionId = id('sub');
  let price = rng.pick(PRICES[currency]);
  const renewals = rng.int(0, 3);
  const upgradeAt = rng.chance(0.3) ? rng.int(0, renewals) : -1;
  let at = signup + rng.int(30, 600);
  // A coupon on the first invoice only (duration `once`, docs.stripe.com/api/coupons/object).
  let firstInvoice = true;
  const invoice = (
    billingReason: PlannedInvoice['billingReason'], lines: PlannedLine[], chargeId: string, status: PlannedInvoice['status'], invoiceId: string,
    discount: PlannedDiscount | null, tax: PlannedTax | null,
  ): PlannedInvoice =>
    ({ id: invoiceId, customerId, email, subscriptionId, billingReason, currency, lines, chargeId, status, clickId, discount, tax });
  const pay = (billingReason: PlannedInvoice['billingReason'], lines: PlannedLine[], mayFail: boolean): boolean => {
    const subtotal = lines.reduce((s, l) => s + l.amount, 0);
    // Proration invoices carry neither (their negative lines would need Stripe's per-line tax split).
    const prorated = lines.some((l) => l.proration);
    const discount = !prorated && firstInvoice ? planDiscount(subtotal, 0.3) : null;
    firstInvoice = false;
    const tax = prorated ? null : taxOn(subtotal - (discount?.amount ?? 0), taxMode, taxRate);
    const amount = amountDue(subtotal, discount, tax);
    const invoiceId = id('in');
    if (mayFail && rng.chance(0.15)) {
      // The card is declined: Stripe sends invoice.payment_failed and charge.failed, then retries days later.
      const failed = charge(invoiceId, amount, 'failed');
      events.push({ type: 'charge.failed', eventId: eventId(), created: at, charge: failed });
      events.push({ type: 'invoice.payment_failed', eventId: eventId(), created: at + 1, invoice: invoice(billingReason, lines, failed.id, 'open', invoiceId, discount, tax) });
      at += 3 * DAY;
      if (rng.chance(0.3)) return false; // every retry failed: the subscription ends unpaid
    }
    const ch = charge(invoiceId, amount, 'succeeded');
    events.push({ type: 'charge.succeeded', eventId: eventId(), created: at, charge: ch });
    events.push({ type: 'invoice.paid', eventId: eventId(), created: at + 1, invoice: invoice(billingReason, lines, ch.id, 'paid', invoiceId, discount, tax) });
    events.push(...refundEvents(ch, planRefunds(rng, () => id('re'), amount, at), eventId));
    return true;
  };
  const planLine = (p: number): PlannedLine => ({ amount: p, quantity: 1, unitAmount: p, description: '1 × Plan', proration: false });

  if (!pay('subscription_create', [planLine(price)], false)) return events;
  for (let cycle = 0; cycle < renewals; cycle++) {
    if (cycle === upgradeAt) {
      // Upgrade mid-period: a proration invoice, credit for the unused time, charge for the rest.
      const higher = PRICES[currency].find((p) => p > price) ?? price * 2;
      const usedDays = rng.int(3, 27);
      const unused = -Math.floor((price * (30 - usedDays)) / 30);
      const remaining = Math.floor((higher * (30 - usedDays)) / 30);
      at += usedDays * DAY;
      const lines = [
        { amount: unused, quantity: 1, unitAmount: price, description: 'Unused time on Plan', proration: true },
        { amount: remaining, quantity: 1, unitAmount: higher, description: 'Remaining time on Upgraded plan', proration: true },
      ];
      if (!pay('subscription_update', lines, true)) return events;
      price = higher;
      at += (30 - usedDays) * DAY;
    } else {
      at += 30 * DAY;
    }
    if (!pay('subscription_cycle', [planLine(price)], true)) return events;
  }
  return events;
};

/**
 * Delivery order as Stripe really delivers: no ordering guarantee between events created close
 * together (customer.created after the first invoice.paid; charge.succeeded after its
 * invoice.paid; a charge's later charge.refunded before its earlier one), and redeliveries of
 * an event already delivered (a lost 2xx). A refund is never delivered before its sale: it is
 * created days later, and the simulator sends one customer's events one after the other.
 */
const SWAPPABLE: readonly [PlannedEvent['type'], PlannedEvent['type']][] = [
  ['customer.created', 'charge.succeeded'],
  ['customer.created', 'checkout.session.completed'],
  ['charge.succeeded', 'invoice.paid'],
  ['charge.failed', 'invoice.payment_failed'],
  ['charge.refunded', 'charge.refunded'],
];
const deliveriesOf = (rng: Rng, events: readonly PlannedEvent[], o: SimulationOptions): PlannedEvent[] => {
  const out = [...events];
  for (let i = 0; i + 1 < out.length; i++) {
    const a = out[i]!;
    const b = out[i + 1]!;
    const sameCharge = a.type !== 'charge.refunded' || b.type !== 'charge.refunded' || a.charge.id === b.charge.id;
    if (sameCharge && SWAPPABLE.some(([x, y]) => x === a.type && y === b.type) && rng.chance(o.swapRate ?? 0.3)) {
      out[i] = b;
      out[i + 1] = a;
      i++;
    }
  }
  const withDuplicates: PlannedEvent[] = [];
  const later: { at: number; event: PlannedEvent }[] = [];
  out.forEach((e, i) => {
    withDuplicates.push(e);
    if (rng.chance(o.duplicateRate ?? 0.06)) later.push({ at: i + rng.int(0, 2), event: e });
    for (const l of later.filter((x) => x.at === i)) withDuplicates.push(l.event);
  });
  for (const l of later.filter((x) => x.at >= out.length)) withDuplicates.push(l.event);
  return withDuplicates;
};

export const simulate = (o: SimulationOptions): CustomerHistory[] => {
  const rng = seededRng(o.seed);
  return Array.from({ length: o.customers }, (_, index) => {
    const events = customerEvents(rng, o, index);
    const first = events[0] as Extract<PlannedEvent, { type: 'customer.created' }>;
    const chargeTracked = rng.chance(o.chargeTrackedRate ?? 0.2);
    return { customerId: first.customer.id, currency: first.customer.currency, chargeTracked, events, deliveries: deliveriesOf(rng, events, o) };
  });
};
