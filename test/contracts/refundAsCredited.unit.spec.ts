/**
 * Issue 14 items 4 and 5, across the mapper and the dispatcher (both pure cores, no IO): what the
 * mapper writes for a sale and its refunds, built into partner requests as the dispatcher builds
 * them. A refund must reach each partner under the order id its sale was credited under there,
 * and in its sale's basis, so a full refund leaves exactly 0.
 */
import { describe, expect, it } from 'vitest';
import { parseStripeEventEnvelope, type Conversion, type StripeEventEnvelope } from '@sas/contracts';
import type { Destination } from '@sas/runtime';
import { chargeEvent, invoicePaidEvent } from '@sas/testkit';
import { buildRequest } from '../../services/dispatcher/src/core/buildRequest.js';
import { isSkip, isUnsendable, type PartnerRequest } from '../../services/dispatcher/src/core/partnerRequest.js';
import type { Effect } from '../../services/mapper/src/core/effects.js';
import { NO_FACTS, type MapFacts, type OrderLink, type RecordedTransaction } from '../../services/mapper/src/core/facts.js';
import type { ChargeTracking, MapContext } from '../../services/mapper/src/core/mapContext.js';
import { decide } from '../../services/mapper/src/core/toConversions.js';

const ev = (raw: unknown): StripeEventEnvelope => {
  const p = parseStripeEventEnvelope(JSON.parse(JSON.stringify(raw)));
  if (!p.ok) throw new Error(p.reason);
  return p.event;
};
const ctx = (tracking: ChargeTracking, eventId: string): MapContext => ({
  integrationId: 'int_1', eventId, eventCreatedSec: 1_700_000_000, stripeAccount: null, livemode: false,
  receivedAt: 1_700_000_001_000, saleTrigger: 'invoice.paid', refundHoldSeconds: 0, chargeTracking: tracking,
});

/** What the mapper's shell would look up for the next event, from the effects so far. */
const factsFrom = (effects: readonly Effect[], chargeId: string, invoiceId: string): MapFacts => {
  const t = effects.filter((e): e is Extract<Effect, { type: 'transaction' }> => e.type === 'transaction' && e.chargeId === chargeId).at(-1);
  const link = effects.filter((e): e is Extract<Effect, { type: 'orderLink' }> => e.type === 'orderLink' && e.ref === invoiceId).at(-1);
  const transaction: RecordedTransaction | null = t
    ? { status: t.status, conversionId: t.conversionId, orderId: t.orderId, amountMinor: t.amountMinor, currency: t.currency, sourceEventId: t.sourceEventId }
    : null;
  const chargeOrder: OrderLink | null = link
    ? { orderId: link.orderId, kind: link.kind, subscriptionId: link.subscriptionId, customerId: link.customerId, billingReason: link.billingReason ?? null, saleNetMinor: link.saleNetMinor ?? null }
    : null;
  const refundKeys = new Set(effects.flatMap((e) => (e.type === 'refund' ? [e.refundKey] : [])));
  // The attribution store: the charge's metadata (Everflow's transaction id) reaches the invoice through it.
  const stored = Object.fromEntries(effects.flatMap((e) => (e.type === 'attribution' ? [[e.key, e.row]] : [])));
  return { ...NO_FACTS, stored, transaction, chargeOrder, knownRefundKeys: refundKeys };
};

/**
 * One taxed subscription invoice ($100 + $20 tax, paid by charge ch_A) and its charge, then
 * refunds of that charge (each charge.refunded listing the refunds so far), mapped in order.
 */
const mapOrder = (tracking: ChargeTracking, refundAmounts: readonly number[]): Conversion[] => {
  const effects: Effect[] = [];
  const out: Conversion[] = [];
  const step = (raw: unknown, id: string) => {
    const d = decide(ev(raw), ctx(tracking, id), factsFrom(effects, 'ch_A', 'in_A'));
    effects.push(...d.effects);
    out.push(...d.conversions);
  };
  const metadata = { customer_key: 'ck_A', ef_transaction_id: 'ef_tx_A', partner_key: 'pk_A' };
  step(chargeEvent('charge.succeeded', { id: 'ch_A', invoice: 'in_A', customer: 'cus_A', amount: 12_000, metadata }), 'evt_ch');
  step(invoicePaidEvent({ id: 'in_A', customer: 'cus_A', unitAmount: 10_000, tax: 2_000 }), 'evt_in');
  const refunds: { id: string; amount: number; created: number }[] = [];
  refundAmounts.forEach((amount, i) => {
    refunds.push({ id: `re_A${i}`, amount, created: 1_700_000_100 + i });
    step(chargeEvent('charge.refunded', { id: 'ch_A', invoice: 'in_A', customer: 'cus_A', amount: 12_000, metadata, refunds: [...refunds] }), `evt_re${i}`);
  });
  return out;
};

const destination = (type: 'partnerstack' | 'everflow', trackBy: 'invoice' | 'charge'): Destination => (type === 'partnerstack'
  ? { id: 'dst_ps', integrationId: 'int_1', type, settings: { trackBy, publicKey: 'pk', baseUrl: 'https://ps.test/api/v2' }, credentials: { secretKey: 'sk' } }
  : { id: 'dst_ef', integrationId: 'int_1', type, settings: { trackBy, baseUrl: 'https://ef.test', nid: '7' }, credentials: {} });

const requests = (cs: readonly Conversion[], d: Destination): PartnerRequest[] => cs.flatMap((c) => {
  const r = buildRequest(c, d, { nowMs: 0, email: null });
  if (isSkip(r)) return [];
  if (isUnsendable(r)) throw new Error(`${c.kind}: ${r.invalid}`);
  return [r];
});

/** The order a PartnerStack request acts on: a transaction's key up to ":refund:", or the DELETE's path. */
const psOrder = (r: PartnerRequest): string =>
  r.method === 'DELETE' ? decodeURIComponent(r.url.split('/transactions/')[1]!) : String((JSON.parse(r.body!) as { key: string }).key).split(':refund:')[0]!;
const psAmount = (r: PartnerRequest): number | 'deleted' => (r.method === 'DELETE' ? 'deleted' : (JSON.parse(r.body!) as { amount: number }).amount);
const efOrder = (r: PartnerRequest): string => new URL(r.url).searchParams.get('order_id')!;

describe('a refund reaches each partner under its sale\'s order id (issue 14 item 5)', () => {
  it.each([
    { tracking: 'all' as const, trackBy: 'charge' as const, order: 'ch_A' },
    { tracking: 'off' as const, trackBy: 'invoice' as const, order: 'in_A' },
  ])('PartnerStack, charge tracking $tracking: the sale, a partial refund and the completing one all act on $order', ({ tracking, trackBy, order }) => {
    const reqs = requests(mapOrder(tracking, [1_000, 11_000]), destination('partnerstack', trackBy));
    expect(reqs.map((r) => [r.action, psOrder(r)])).toEqual([['credit', order], ['refund', order], ['refund', order]]);
  });

  it.each([
    { tracking: 'all' as const, trackBy: 'charge' as const, order: 'ch_A' },
    { tracking: 'off' as const, trackBy: 'invoice' as const, order: 'in_A' },
  ])('PartnerStack and Everflow, charge tracking $tracking, a full refund: the DELETE and the reversal name $order', ({ tracking, trackBy, order }) => {
    const cs = mapOrder(tracking, [12_000]);
    const ps = requests(cs, destination('partnerstack', trackBy));
    expect(ps.map((r) => [r.action, r.method, psOrder(r)])).toEqual([['credit', 'POST', order], ['refund', 'DELETE', order]]);
    const ef = requests(cs, destination('everflow', trackBy));
    expect(ef.map((r) => [r.action, efOrder(r)])).toEqual([['credit', order], ['refund', order]]);
    expect(new URL(ef[1]!.url).pathname).toBe('/reversal');
  });
});

describe('a refund is in its sale\'s basis, and a full refund ends at exactly 0 (issue 14 item 4)', () => {
  it.each([
    // Invoice tracking: the sale was credited $100 (net of the $20 tax); refunds come back as $8.33 and $91.67.
    { tracking: 'off' as const, trackBy: 'invoice' as const, amounts: [10_000, -833, -9_167] },
    // Charge tracking: the charge ($120, no tax split on a charge) was credited; refunds are Stripe's own.
    { tracking: 'all' as const, trackBy: 'charge' as const, amounts: [12_000, -1_000, -11_000] },
  ])('PartnerStack, charge tracking $tracking: partial + completing refunds of a taxed order sum to the sale', ({ tracking, trackBy, amounts }) => {
    const reqs = requests(mapOrder(tracking, [1_000, 11_000]), destination('partnerstack', trackBy));
    expect(reqs.map(psAmount)).toEqual(amounts);
    expect(amounts.reduce((s, a) => s + a, 0)).toBe(0);
  });
});
