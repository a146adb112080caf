/**
 * Reconciliation: what each partner credited, per customer and destination, against what
 * Stripe says (amount_paid − Σ refunds, to the minor unit, in the order's currency). Pure.
 *
 * - mismatch: a (destination, customer) with an order whose credited net differs from Stripe's
 *   (amount or currency), or with an order credited that Stripe was never paid for (a failed
 *   payment, an unknown order);
 * - missing: a (destination, order) Stripe was paid for that the partner never credited;
 * - double credit: a sale of one order credited more than once at one partner, or one refund
 *   applied more than once.
 * A deviation that `knownDefect` explains (a named, reported bug) is counted apart in
 * `known_defects`, so a run shows it without hiding anything else.
 */
import type { CreditedOrder } from '@sas/testkit';
import type { TruthOrder } from '../simulator/truth.js';

export interface OrderFinding {
  readonly destination: string;
  readonly customerId: string | null;
  readonly orderId: string;
  readonly currency: string;
  /** Stripe's net; null for an order Stripe was never paid for. */
  readonly expectedMinor: number | null;
  /** The partner's net; null when it never credited the order. */
  readonly creditedMinor: number | null;
  readonly creditedCurrency: string | null;
}

/** Names the reported bug that explains a finding, or null. */
export type KnownDefect = (f: OrderFinding, truth: TruthOrder | undefined) => string | null;

/**
 * Whether a destination is owed this order at all (default: every destination, every order).
 * An order not owed must not be credited (expected 0); its absence is not missing.
 */
export type Owed = (destination: string, t: TruthOrder) => boolean;

export interface ReconcileResult {
  readonly customers: number;
  readonly orders: number;
  readonly mismatches: number;
  readonly double_credits: number;
  readonly missing: number;
  readonly known_defects: number;
  /** One line per finding, naming destination, customer, order, expected and credited. */
  readonly details: string[];
  readonly findings: OrderFinding[];
}

/**
 * Which orders a destination is held to: a destination of the merchant's charge-tracking
 * integration is credited charges, the others invoices and sessions. Default: every order.
 */
export type TruthScope = (destination: string) => (t: TruthOrder) => boolean;

export const reconcile = (
  allTruth: readonly TruthOrder[], credited: Readonly<Record<string, readonly CreditedOrder[]>>, knownDefect: KnownDefect = () => null,
  scope: TruthScope = () => () => true,
  owed: Owed = () => true,
): ReconcileResult => {
  const details: string[] = [];
  const findings: OrderFinding[] = [];
  let missing = 0;
  let doubleCredits = 0;
  let known = 0;
  const mismatchedCustomers = new Set<string>();
  for (const [destination, orders] of Object.entries(credited)) {
    const truth = allTruth.filter(scope(destination));
    const truthByOrder = new Map(truth.map((t) => [t.orderId, t]));
    const creditedByOrder = new Map(orders.map((o) => [o.orderId, o]));
    const deviations: OrderFinding[] = [];
    for (const o of orders) {
      const doubles = Math.max(0, o.saleCredits - 1) + o.doubleRefunds;
      if (doubles > 0) {
        doubleCredits += doubles;
        details.push(`${destination}: order ${o.orderId} sale credited ${o.saleCredits} times, ${o.doubleRefunds} refund(s) applied twice`);
      }
      if (!truthByOrder.has(o.orderId) && o.netMinor !== 0) {
        deviations.push({ destination, customerId: null, orderId: o.orderId, currency: o.currency, expectedMinor: null, creditedMinor: o.netMinor, creditedCurrency: o.currency });
      }
    }
    for (const t of truth) {
      const c = creditedByOrder.get(t.orderId);
      if (!owed(destination, t)) {
        if (c && (c.netMinor !== 0 || c.saleCredits > 0)) {
          deviations.push({ destination, customerId: t.customerId, orderId: t.orderId, currency: t.currency, expectedMinor: 0, creditedMinor: c.netMinor, creditedCurrency: c.currency });
        }
        continue;
      }
      const expected = t.paidMinor - t.refundedMinor;
      const sameMoney = c ? c.currency === t.currency && c.netMinor === expected : expected === 0 && t.paidMinor === 0;
      if (!sameMoney || (!c && t.paidMinor > 0)) {
        deviations.push({ destination, customerId: t.customerId, orderId: t.orderId, currency: t.currency, expectedMinor: expected, creditedMinor: c?.netMinor ?? null, creditedCurrency: c?.currency ?? null });
      }
    }
    for (const f of deviations) {
      findings.push(f);
      const t = truthByOrder.get(f.orderId);
      const what = f.expectedMinor === null
        ? `order ${f.orderId} credited ${f.creditedMinor} ${f.creditedCurrency}, but Stripe was never paid for it`
        : `customer ${f.customerId} order ${f.orderId} (${t?.sale}, paid ${t?.stripePaidMinor} credited at ${t?.paidMinor}, refunds [${t?.stripeRefunds.join(', ')}] → [${t?.refunds.join(', ')}]) expected ${f.expectedMinor} ${f.currency}, credited ${f.creditedMinor === null ? 'nothing' : `${f.creditedMinor} ${f.creditedCurrency}`}`;
      const defect = knownDefect(f, t);
      if (defect) {
        known++;
        details.push(`${destination}: known defect (${defect}): ${what}`);
        continue;
      }
      details.push(`${destination}: ${what}`);
      if (f.creditedMinor === null) missing++;
      else mismatchedCustomers.add(`${destination}\u0000${f.customerId ?? f.orderId}`);
    }
  }
  return {
    customers: new Set(allTruth.map((t) => t.customerId)).size, orders: allTruth.length,
    mismatches: mismatchedCustomers.size, double_credits: doubleCredits, missing, known_defects: known, details, findings,
  };
};
