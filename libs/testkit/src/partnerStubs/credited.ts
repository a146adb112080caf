/**
 * What each partner stub credited, per order, in integer minor units: the partner's own view
 * after its own dedupe (impact's action amounts after PUT/DELETE, PartnerStack's transactions
 * that were not deleted, a webhook receiver's distinct webhook-ids). Pure functions over the
 * stubs' recorded state, so the reconciliation can compare them with Stripe's amounts.
 */
import { currencyExponent, impactOrderIdOf } from '@sas/contracts';
import type { ImpactAction, ImpactSubmission } from '../impactStub.js';
import type { EverflowConversion } from './everflowStub.js';
import type { PartnerstackTransaction } from './partnerstackStub.js';

export interface CreditedOrder {
  readonly orderId: string;
  /** ISO 4217, upper case. */
  readonly currency: string;
  /** Σ sales − Σ refunds as the partner now holds it. */
  readonly netMinor: number;
  /** How many times the partner credited a sale for this order (more than 1 is a double credit). */
  readonly saleCredits: number;
  /** Refunds the partner applied more than once. */
  readonly doubleRefunds: number;
}

/** A decimal amount as the partner holds it, back in minor units (impact works in decimals). */
export const decimalToMinor = (amount: number, currency: string): number => Math.round(amount * 10 ** currencyExponent(currency));

/**
 * impact.com: one action per tracker + OrderId; its amount after PUTs, 0 once reversed (DELETE).
 * impact's OrderId is at most 64 characters (impactOrderIdOf), so a longer Stripe order id is
 * credited under a shortened one: given the Stripe order ids, each is reported under its own.
 */
export const impactCredited = (
  submissions: readonly ImpactSubmission[], actions: ReadonlyMap<string, ImpactAction>, stripeOrderIds: Iterable<string> = [],
): CreditedOrder[] => {
  const stripeIdOf = new Map<string, string>();
  for (const id of stripeOrderIds) stripeIdOf.set(impactOrderIdOf(id), id);
  const currencyOf = new Map<string, string>();
  for (const s of submissions) if (s.accepted && s.fields.OrderId && !currencyOf.has(s.fields.OrderId)) currencyOf.set(s.fields.OrderId, s.fields.CurrencyCode ?? '');
  const byOrder = new Map<string, { net: number; credits: number }>();
  for (const [key, action] of actions) {
    const orderId = key.slice(key.indexOf(':') + 1);
    const o = byOrder.get(orderId) ?? { net: 0, credits: 0 };
    o.credits++;
    o.net += action.state === 'reversed' ? 0 : decimalToMinor(action.amount, currencyOf.get(orderId) ?? 'USD');
    byOrder.set(orderId, o);
  }
  return [...byOrder].map(([orderId, o]) => ({
    orderId: stripeIdOf.get(orderId) ?? orderId, currency: currencyOf.get(orderId) ?? '', netMinor: o.net, saleCredits: o.credits, doubleRefunds: 0,
  }));
};

/** PartnerStack: the order's transaction (key = order id) and its negative refund transactions (`<order>:refund:<re_…>`), minus deleted ones. */
export const partnerstackCredited = (transactions: Iterable<PartnerstackTransaction>): CreditedOrder[] => {
  const byOrder = new Map<string, { currency: string; net: number; credits: number }>();
  for (const t of transactions) {
    const cut = t.key.indexOf(':refund:');
    const orderId = (cut >= 0 ? t.key.slice(0, cut) : t.key).replace(/^order_(?=.{1,3}$)/, '');
    const o = byOrder.get(orderId) ?? { currency: t.currency, net: 0, credits: 0 };
    if (cut < 0) o.credits++;
    if (!t.deleted) o.net += t.amount;
    byOrder.set(orderId, o);
  }
  return [...byOrder].map(([orderId, o]) => ({ orderId, currency: o.currency, netMinor: o.net, saleCredits: o.credits, doubleRefunds: 0 }));
};

/**
 * Everflow: every conversion the stub recorded, per order_id; a reversal voids the whole
 * conversion (helpdesk.everflow.io/en/articles/6273089), so a reversed one holds 0. Under
 * "Allow Duplicate Conversions" a resend is a second conversion: saleCredits > 1.
 */
export const everflowCredited = (conversions: Iterable<EverflowConversion>): CreditedOrder[] => {
  const byOrder = new Map<string, { currency: string; net: number; credits: number }>();
  for (const c of conversions) {
    const o = byOrder.get(c.orderId) ?? { currency: c.currency, net: 0, credits: 0 };
    o.credits++;
    if (!c.reversed) o.net += decimalToMinor(c.amount, c.currency || 'USD');
    byOrder.set(c.orderId, o);
  }
  return [...byOrder].map(([orderId, o]) => ({ orderId, currency: o.currency, netMinor: o.net, saleCredits: o.credits, doubleRefunds: 0 }));
};

/** Tracknow: every accepted postback is a credit of its order (no dedupe, no refund documented). */
export const tracknowCredited = (postbacks: readonly Readonly<Record<string, string>>[]): CreditedOrder[] => {
  const byOrder = new Map<string, { currency: string; net: number; credits: number }>();
  for (const q of postbacks) {
    const orderId = q.order_id ?? '';
    const currency = (q.currency ?? '').toUpperCase();
    const o = byOrder.get(orderId) ?? { currency, net: 0, credits: 0 };
    o.credits++;
    o.net += decimalToMinor(Number(q.amount ?? '0'), currency || 'USD');
    byOrder.set(orderId, o);
  }
  return [...byOrder].map(([orderId, o]) => ({ orderId, currency: o.currency, netMinor: o.net, saleCredits: o.credits, doubleRefunds: 0 }));
};

interface WebhookConversion {
  kind?: string; orderId?: string; currency?: string; amountMinor?: number; taxMinor?: number; refundId?: string | null; conversionId?: string;
  saleBasis?: { refundMinor?: number } | null;
}

/**
 * A generic webhook receiver that dedupes on webhook-id and commissions net of tax, as the
 * partners do: a sale adds `amountMinor − taxMinor`, a refund subtracts its amount in the sale's
 * basis (`saleBasis.refundMinor`, Stripe's amount where absent); the same sale or refund under two
 * ids is a double credit.
 */
export const webhookCredited = (received: readonly { id: string; payload: Record<string, unknown> }[]): CreditedOrder[] => {
  const byOrder = new Map<string, { currency: string; net: number; sales: number; refunds: Map<string, number> }>();
  for (const r of received) {
    const c = (r.payload.data ?? {}) as WebhookConversion;
    const sale = c.kind?.startsWith('SALE_') || c.kind === 'TRANSACTION';
    const refund = c.kind === 'REFUND_FULL' || c.kind === 'REFUND_PARTIAL' || c.kind === 'REVERSAL';
    if ((!sale && !refund) || !c.orderId || typeof c.amountMinor !== 'number') continue;
    const o = byOrder.get(c.orderId) ?? { currency: String(c.currency ?? ''), net: 0, sales: 0, refunds: new Map<string, number>() };
    if (sale) {
      o.sales++;
      o.net += c.amountMinor - (c.taxMinor ?? 0);
    } else {
      const key = c.refundId ?? c.conversionId ?? r.id;
      o.refunds.set(key, (o.refunds.get(key) ?? 0) + 1);
      o.net -= c.saleBasis?.refundMinor ?? c.amountMinor;
    }
    byOrder.set(c.orderId, o);
  }
  return [...byOrder].map(([orderId, o]) => ({
    orderId, currency: o.currency.toUpperCase(), netMinor: o.net, saleCredits: o.sales,
    doubleRefunds: [...o.refunds.values()].reduce((s, n) => s + Math.max(0, n - 1), 0),
  }));
};
