import {
  DEFAULT_OTHER_INVOICE_SALES, OTHER_INVOICE_SALES, OtherInvoiceSalesChoices, saleKindOfBillingReason, toDecimalString,
  type Conversion, type ConversionKind, type LineItem, type OtherInvoiceSales,
} from '@sas/contracts';
import type { Destination } from '@sas/runtime';
import { isFullRefund } from '../dispatchAction.js';
import { refundInSaleBasis } from '../saleBasis.js';
import { accepted, classifyResponse, httpError, rejected, type ClassifyContext, type PartnerAnswer, type ResponseClass } from '../classifyResponse.js';
import {
  basicAuth, DestinationConfigError, optionalSetting, requireSetting, trimSlash, type BuildContext, type BuildResult, type PartnerRequest,
} from '../partnerRequest.js';
import type { PartnerAdapter } from './adapter.js';
import { clickIdFor } from './clickIdFor.js';

/**
 * impact.com's ClickId is its own click (irclickid, put in metadata as impact_click_id by seeds
 * 000/001; integrations.impact.com/impact-brand/reference/the-conversion-object): never a
 * Tracknow or Everflow click, nor a merchant's client_reference_id unless the destination says so.
 */
const clickOf = (c: Conversion, d: Destination): string | null => clickIdFor(c.attribution, 'impactClickId', d);

const DEFAULT_BASE_URL = 'https://api.impact.com';

/**
 * Items numbered from 1. impact multiplies ItemPrice by ItemQuantity, so ItemPrice{i} is the
 * unit price only when quantity × unit equals the line's amount; otherwise (proration,
 * line discounts) ItemSubTotal{i} carries the line's amount. Never both for one item.
 */
const itemFields = (items: readonly LineItem[], c: Conversion, skuOf: (l: LineItem) => string): Record<string, string> => {
  const fields: Record<string, string> = {};
  items.forEach((l, idx) => {
    const i = idx + 1;
    fields[`ItemSku${i}`] = skuOf(l);
    if (l.description) fields[`ItemCategory${i}`] = l.description;
    fields[`ItemQuantity${i}`] = String(l.quantity);
    if (l.quantity > 0 && l.unitAmountMinor * l.quantity === l.amountMinor) {
      fields[`ItemPrice${i}`] = toDecimalString(l.unitAmountMinor, c.currency);
    } else {
      fields[`ItemSubTotal${i}`] = toDecimalString(l.amountMinor, c.currency);
    }
  });
  return fields;
};

/** A conversion without line items still tells impact its amount, net of tax. */
const itemsOf = (c: Conversion): readonly LineItem[] =>
  c.lineItems.length > 0
    ? c.lineItems
    : [{ sku: 'Subscription', description: null, productId: null, priceId: null, quantity: 1,
         unitAmountMinor: c.amountMinor - c.taxMinor, amountMinor: c.amountMinor - c.taxMinor }];

const baseOf = (d: Destination): string => trimSlash(optionalSetting(d.settings, 'baseUrl') ?? DEFAULT_BASE_URL);

const headersOf = (sid: string, token: string, form: boolean): Record<string, string> => ({
  authorization: basicAuth(sid, token),
  ...(form ? { 'content-type': 'application/x-www-form-urlencoded' } : {}),
  accept: 'application/json',
});

/**
 * Seed 001 credits billing_reason subscription_create on the First Subscription tracker and
 * subscription_cycle on the Recurring one, and no other reason. Where this destination credits
 * the others (SALE_OTHER) is its `otherInvoiceSales` (libs/contracts destinations.ts).
 */
const otherInvoiceSalesOf = (d: Destination): OtherInvoiceSales => {
  const v = d.settings[OTHER_INVOICE_SALES];
  if (v === undefined || v === null) return DEFAULT_OTHER_INVOICE_SALES;
  if (typeof v === 'string' && (OtherInvoiceSalesChoices as readonly string[]).includes(v)) return v as OtherInvoiceSales;
  throw new DestinationConfigError(`destination ${d.id}: setting "${OTHER_INVOICE_SALES}" must be one of ${OtherInvoiceSalesChoices.join(', ')}`);
};

/**
 * Never throws (it runs before the build, outside its config-error handling): a misspelt value
 * is not a skip, and the build dead-letters it naming the field.
 */
const isSkippedOtherSale = (saleKind: ConversionKind, d: Destination): boolean =>
  saleKind === 'SALE_OTHER' && d.settings[OTHER_INVOICE_SALES] === 'skip';

type TrackerKind = Exclude<ConversionKind, 'SALE_OTHER'>;

/** The tracker kind a sale of this kind is credited on here; null when it is not sent. */
const trackerKindOf = (saleKind: ConversionKind, d: Destination): TrackerKind | null => {
  if (saleKind !== 'SALE_OTHER') return saleKind;
  const choice = otherInvoiceSalesOf(d);
  switch (choice) {
    case 'recurringTracker': return 'SALE_RECURRING';
    case 'firstSaleTracker': return 'SALE_FIRST';
    case 'skip': return null;
    default: {
      const _exhaustive: never = choice;
      return _exhaustive;
    }
  }
};

const trackerOf = (kind: TrackerKind, d: Destination): string => {
  switch (kind) {
    case 'SALE_FIRST':
      return requireSetting(d.settings, 'eventTypeId', d.id);
    case 'SALE_RECURRING':
      return requireSetting(d.settings, 'recurringEventTypeId', d.id);
    default:
      return optionalSetting(d.settings, 'oneTimeEventTypeId') ?? requireSetting(d.settings, 'eventTypeId', d.id);
  }
};

const notSentOther = (c: Conversion): string =>
  c.kind === 'REFUND_FULL' || c.kind === 'REFUND_PARTIAL'
    ? `impact: refund of a ${c.saleReason ?? 'non-subscription'} invoice, whose sale is not sent (${OTHER_INVOICE_SALES}: skip)`
    : `impact: a ${c.saleReason ?? 'non-subscription'} invoice is not sent (${OTHER_INVOICE_SALES}: skip)`;

/**
 * The kind of sale a refund undoes. An impact action is found by ActionTrackerId + OrderId, so a
 * refund must name the tracker its sale was credited on, or it answers 404 and the sale stays.
 * The mapper puts the refunded invoice's billing_reason on the refund (`saleReason`, from its
 * order links), and the same rule as the sale's (saleKindOfBillingReason) gives the kind back;
 * the kind then goes through the destination's `otherInvoiceSales` as the sale's did.
 * Chosen over looking the sale up in our ledger: the conversion already carries the field, the
 * build stays a pure function of the conversion, and a sale credited by another sender (or a
 * replay into a fresh ledger) is still found. Without a reason (the mapper had no Stripe key to
 * ask for an invoice it linked before storing billing reasons): a subscription's refund goes to
 * the first-sale tracker, any other to the one-time one, as before.
 */
export const refundedSaleKind = (c: Pick<Conversion, 'saleReason' | 'subscriptionId'>): ConversionKind =>
  c.saleReason ? saleKindOfBillingReason(c.saleReason) : c.subscriptionId ? 'SALE_FIRST' : 'SALE_ONE_TIME';

const skipReason = (c: Conversion, d: Destination): string | null => {
  switch (c.kind) {
    case 'SALE_FIRST':
    case 'SALE_RECURRING':
    case 'SALE_OTHER':
    case 'SALE_ONE_TIME':
      if (isSkippedOtherSale(c.kind, d)) return notSentOther(c);
      if (!clickOf(c, d) && !c.customerId && !c.attribution.promoCode) {
        return 'impact: no attribution key (ClickId, CustomerId or PromoCode)';
      }
      return null;
    case 'REFUND_FULL':
    case 'REFUND_PARTIAL':
      if (d.settings.sendRefunds === false) return 'impact: refunds disabled for this destination';
      // The refund of a sale this destination does not send has no action to find.
      return isSkippedOtherSale(refundedSaleKind(c), d) ? notSentOther(c) : null;
    case 'TRANSACTION':
    case 'REVERSAL':
    case 'CUSTOMER_IDENTITY':
      // impact credits paid invoices and checkouts (seed 000); a charge-level event was never credited there.
      return `impact: ${c.kind} is not sent to impact.com`;
    default: {
      const _exhaustive: never = c.kind;
      return _exhaustive;
    }
  }
};

const conversionRequest = (c: Conversion, d: Destination, tracker: string, sid: string, token: string): PartnerRequest => {
  const isSubscription = c.kind !== 'SALE_ONE_TIME';
  const clickId = clickOf(c, d);
  const fields: Record<string, string> = {
    CampaignId: requireSetting(d.settings, 'campaignId', d.id),
    EventTypeId: tracker,
    OrderId: c.orderId,
    EventDate: new Date(c.occurredAt).toISOString(),
    CurrencyCode: c.currency.toUpperCase(),
    ...(clickId ? { ClickId: clickId } : {}),
    ...(c.customerId ? { CustomerId: c.customerId } : {}),
    // impact rejects plain-text emails; the stream carries only the SHA-256.
    ...(c.attribution.emailSha256 ? { CustomerEmail: c.attribution.emailSha256 } : {}),
    ...(c.attribution.promoCode ? { OrderPromoCode: c.attribution.promoCode } : {}),
    ...(c.discountMinor > 0 ? { OrderDiscount: toDecimalString(c.discountMinor, c.currency) } : {}),
    ...itemFields(itemsOf(c), c, (l) => (isSubscription ? 'Subscription' : l.productId ?? l.sku)),
  };
  return {
    action: 'credit',
    method: 'POST',
    url: `${baseOf(d)}/Advertisers/${encodeURIComponent(sid)}/Conversions`,
    headers: headersOf(sid, token, true),
    body: new URLSearchParams(fields).toString(),
  };
};

/**
 * Refunds go through the Actions API on the action (ActionTrackerId + OrderId): a full refund
 * reverses it (DELETE with a DispositionCode), a partial one sets its new total (PUT with
 * Amount and Reason). A new total, not a delta, so sending it again changes nothing.
 */
const refundRequest = (c: Conversion, d: Destination, tracker: string, sid: string, token: string): BuildResult => {
  const url = `${baseOf(d)}/Advertisers/${encodeURIComponent(sid)}/Actions`;
  const target = { ActionTrackerId: tracker, OrderId: c.orderId };
  if (isFullRefund(c)) {
    const q = new URLSearchParams({ ...target, DispositionCode: optionalSetting(d.settings, 'dispositionCode') ?? 'ITEM_RETURNED' });
    return { action: 'refund', method: 'DELETE', url: `${url}?${q.toString()}`, headers: headersOf(sid, token, false), body: null };
  }
  // Amount is the action's new total in the basis its sale was credited in (net of tax and
  // discount), not Stripe's paid − refunded (tax included): saleBasis.ts.
  const basis = c.refundedTotalMinor === null ? null : refundInSaleBasis(c);
  if (!basis) return { invalid: 'impact: a partial refund needs orderAmountMinor and refundedTotalMinor to set the new Amount' };
  const fields = {
    ...target,
    Amount: toDecimalString(basis.newTotalMinor, c.currency),
    CurrencyCode: c.currency.toUpperCase(),
    Reason: optionalSetting(d.settings, 'refundReason') ?? 'OTHER', // seed 000: Reason OTHER
  };
  return { action: 'refund', method: 'PUT', url, headers: headersOf(sid, token, true), body: new URLSearchParams(fields).toString() };
};

/**
 * impact.com (seeds 000/001): Conversions API form POST with Basic AccountSID:AuthToken for
 * sales; Actions API for refunds.
 */
export const impactRequest = (c: Conversion, d: Destination, _ctx?: BuildContext): BuildResult => {
  const skip = skipReason(c, d);
  if (skip) return { skip };
  const sid = requireSetting(d.settings, 'accountSid', d.id);
  const token = d.credentials.authToken;
  if (!token) return { invalid: `destination ${d.id}: credentials.authToken is missing` };
  const isRefund = c.kind === 'REFUND_FULL' || c.kind === 'REFUND_PARTIAL';
  // A refund goes to the tracker its sale was credited on, by the same rule as the sale.
  const kind = trackerKindOf(isRefund ? refundedSaleKind(c) : c.kind, d);
  if (kind === null) return { skip: notSentOther(c) }; // skipReason says so too; kept for a direct build
  const tracker = trackerOf(kind, d);
  return isRefund ? refundRequest(c, d, tracker, sid, token) : conversionRequest(c, d, tracker, sid, token);
};

/**
 * A 404 from the Actions API means the action is not there: not yet processed (impact queues
 * conversions), so retry; or already reversed by an earlier attempt of ours.
 */
const classify = (a: PartnerAnswer, req: PartnerRequest, ctx: ClassifyContext): ResponseClass => {
  if (req.action === 'refund' && a.status === 404) {
    return ctx.mayHaveReached && req.method === 'DELETE' ? accepted(null, true) : rejected(httpError(a), true);
  }
  return classifyResponse(a);
};

export const impactAdapter: PartnerAdapter = {
  skipReason,
  needsEmail: () => false,
  build: impactRequest,
  classify,
  // Actions API PUT: Amount is the new total, so an older partial refund must never follow a newer one.
  refundSetsTotal: true,
};
