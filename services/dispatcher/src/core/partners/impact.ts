import { createHash } from 'node:crypto';
import {
  CUSTOMER_EMAIL_HASH, CustomerEmailHashChoices, DEFAULT_CUSTOMER_EMAIL_HASH, DEFAULT_OTHER_INVOICE_SALES, OTHER_INVOICE_SALES,
  OtherInvoiceSalesChoices, impactOrderIdOf, saleKindOfBillingReason, toDecimalString,
  type Conversion, type ConversionKind, type CustomerEmailHash, type OtherInvoiceSales,
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
import { decideSubmission, readSubmission, submissionChecksOf } from './impactSubmission.js';

/**
 * impact.com's ClickId is its own click (irclickid, put in metadata as impact_click_id by seeds
 * 000/001; integrations.impact.com/impact-brand/reference/the-conversion-object): never a
 * Tracknow or Everflow click, nor a merchant's client_reference_id unless the destination says so.
 */
const clickOf = (c: Conversion, d: Destination): string | null => clickIdFor(c.attribution, 'impactClickId', d);

const DEFAULT_BASE_URL = 'https://api.impact.com';

/**
 * The action's one item. Stripe refunds an amount, never an item, and impact documents a partial
 * refund only as an item-level update (Sku, Quantity, Reason=ORDER_UPDATE, Amount = the item's
 * new value: integrations.impact.com/impact-brand/reference/update-an-action-item). So a sale is
 * credited as ONE item whose Sku a refund can name without knowing the sale's lines: `Subscription`
 * for invoices (seed 000's Sku), `Order` for one-time checkouts. Quantity 1, so the item's Amount
 * is the action's amount. The price of this choice: impact does not see the order's products.
 */
export const actionItemSku = (saleKind: ConversionKind): string => (saleKind === 'SALE_ONE_TIME' ? 'Order' : 'Subscription');

/**
 * What the sale credits: the lines' amounts, which are already net of line and order discounts
 * (the mapper's lineItemsOf, checkout and invoice), before tax; without lines, the amount net of
 * tax. OrderDiscount is NOT sent with it: impact subtracts OrderDiscount from the total, or
 * proportionally from the items (integrations.impact.com/impact-brand/docs/order-level-data),
 * which would count the discount twice. One basis: net items, no OrderDiscount.
 */
export const saleCreditedMinor = (c: Conversion): number =>
  c.lineItems.length > 0 ? c.lineItems.reduce((sum, l) => sum + l.amountMinor, 0) : c.amountMinor - c.taxMinor;

/**
 * The action's new total after a partial refund. The basis of this number is owned by the
 * refund-basis work (issue 14 item 3): kept here, in one small function, so it changes in one place.
 */
export const refundedActionTotalMinor = (c: Conversion): number | null =>
  // The action's new total in the basis its sale was credited in (net of tax and discount), not
  // Stripe's paid − refunded (tax included): saleBasis.ts (issue 14 item 3).
  c.refundedTotalMinor === null ? null : refundInSaleBasis(c)?.newTotalMinor ?? null;

const itemFields = (c: Conversion): Record<string, string> => {
  const only = c.lineItems.length === 1 ? c.lineItems[0] : undefined;
  return {
    ItemSku1: actionItemSku(c.kind),
    ...(only?.description ? { ItemCategory1: only.description } : {}),
    ItemQuantity1: '1',
    // ItemSubTotal, never ItemPrice with it (integrations.impact.com/impact-brand/docs/item-level-data).
    ItemSubTotal1: toDecimalString(saleCreditedMinor(c), c.currency),
  };
};

/**
 * CustomerEmail as impact matches it: raw, SHA-1 or impact's HMAC, SHA-256 not among them
 * (integrations.impact.com/impact-brand/docs/impactcom-customer-email-hashing-explained). The
 * stream's emailSha256 is never sent; with `sha1` the plain email comes from the attribution store.
 */
const customerEmailHashOf = (d: Destination): CustomerEmailHash => {
  const v = d.settings[CUSTOMER_EMAIL_HASH];
  if (v === undefined || v === null) return DEFAULT_CUSTOMER_EMAIL_HASH;
  if (typeof v === 'string' && (CustomerEmailHashChoices as readonly string[]).includes(v)) return v as CustomerEmailHash;
  throw new DestinationConfigError(`destination ${d.id}: setting "${CUSTOMER_EMAIL_HASH}" must be one of ${CustomerEmailHashChoices.join(', ')} (impact documents raw, SHA-1 and HMAC emails, not SHA-256)`);
};

/** impact's SHA-1 of an email: lower-cased and trimmed first, as the stream's SHA-256 is. */
export const impactEmailSha1 = (email: string): string => createHash('sha1').update(email.trim().toLowerCase(), 'utf8').digest('hex');

const isSale = (c: Conversion): boolean =>
  c.kind === 'SALE_FIRST' || c.kind === 'SALE_RECURRING' || c.kind === 'SALE_OTHER' || c.kind === 'SALE_ONE_TIME';

/** Never throws (it runs before the build): a misspelt setting asks for the email, and the build dead-letters it naming the field. */
const needsEmail = (c: Conversion, d: Destination): boolean => isSale(c) && d.settings[CUSTOMER_EMAIL_HASH] !== 'off';

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

const conversionRequest = (c: Conversion, d: Destination, tracker: string, sid: string, token: string, email: string | null): PartnerRequest => {
  const clickId = clickOf(c, d);
  const emailHash = customerEmailHashOf(d);
  const fields: Record<string, string> = {
    CampaignId: requireSetting(d.settings, 'campaignId', d.id),
    EventTypeId: tracker,
    OrderId: impactOrderIdOf(c.orderId),
    EventDate: new Date(c.occurredAt).toISOString(),
    CurrencyCode: c.currency.toUpperCase(),
    ...(clickId ? { ClickId: clickId } : {}),
    ...(c.customerId ? { CustomerId: c.customerId } : {}),
    ...(emailHash === 'sha1' && email ? { CustomerEmail: impactEmailSha1(email) } : {}),
    ...(c.attribution.promoCode ? { OrderPromoCode: c.attribution.promoCode } : {}),
    ...itemFields(c),
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
 * Refunds go through the Actions API on the action (ActionTrackerId + OrderId), as impact
 * documents each: a full refund reverses it (DELETE with a DispositionCode, form body:
 * integrations.impact.com/impact-brand/reference/reverse-an-action); a partial one updates the
 * action's one item (PUT with Sku, Quantity, Reason=ORDER_UPDATE and Amount, the item's new value:
 * integrations.impact.com/impact-brand/reference/update-an-action-item). The action-level update
 * (update-an-action) takes a DispositionCode and no Amount, so it cannot lower the amount. A new
 * value, not a delta, so sending it again changes nothing.
 */
const refundRequest = (c: Conversion, d: Destination, tracker: string, sid: string, token: string): BuildResult => {
  const url = `${baseOf(d)}/Advertisers/${encodeURIComponent(sid)}/Actions`;
  const target = { ActionTrackerId: tracker, OrderId: impactOrderIdOf(c.orderId) };
  if (isFullRefund(c)) {
    const form = new URLSearchParams({ ...target, DispositionCode: optionalSetting(d.settings, 'dispositionCode') ?? 'ITEM_RETURNED' });
    return { action: 'refund', method: 'DELETE', url, headers: headersOf(sid, token, true), body: form.toString() };
  }
  const newTotal = refundedActionTotalMinor(c);
  if (newTotal === null) {
    return { invalid: 'impact: a partial refund needs orderAmountMinor and refundedTotalMinor to set the new Amount' };
  }
  const fields = {
    ...target,
    Sku: actionItemSku(refundedSaleKind(c)),
    Quantity: '1',
    Amount: toDecimalString(newTotal, c.currency),
    Reason: 'ORDER_UPDATE',
  };
  return { action: 'refund', method: 'PUT', url, headers: headersOf(sid, token, true), body: new URLSearchParams(fields).toString() };
};

/**
 * impact.com (seeds 000/001): Conversions API form POST with Basic AccountSID:AuthToken for
 * sales; Actions API for refunds.
 */
export const impactRequest = (c: Conversion, d: Destination, ctx?: BuildContext): BuildResult => {
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
  return isRefund ? refundRequest(c, d, tracker, sid, token) : conversionRequest(c, d, tracker, sid, token, ctx?.email ?? null);
};

/**
 * A 404 from the Actions API means the action is not there: not yet processed (impact queues
 * conversions), so retry; or already reversed by an earlier attempt of ours.
 */
const classify = (a: PartnerAnswer, req: PartnerRequest, ctx: ClassifyContext): ResponseClass => {
  if (req.action === 'refund' && a.status === 404) {
    return ctx.mayHaveReached && req.method === 'DELETE' ? accepted(null, true) : rejected(httpError(a), true);
  }
  const cls = classifyResponse(a);
  // QUEUED is not credited yet: the API submission at QueuedUri says later (impactSubmission.ts).
  if (cls.ok && cls.partnerRef && queuedStatus(a)) return { ...cls, follow: cls.partnerRef };
  return cls;
};

const queuedStatus = (a: PartnerAnswer): boolean => {
  try {
    return String((JSON.parse(a.body) as { Status?: unknown }).Status).toUpperCase() === 'QUEUED';
  } catch {
    return false;
  }
};

/**
 * The GET of an API submission, on the destination's own base URL and credentials only: a
 * QueuedUri naming another host is refused rather than sent our AuthToken.
 */
const followRequest = (uri: string, d: Destination, action: PartnerRequest['action']): PartnerRequest => {
  const base = baseOf(d);
  const url = new URL(uri, `${base}/`);
  if (url.origin !== new URL(base).origin) throw new DestinationConfigError(`destination ${d.id}: impact QueuedUri ${uri} is not on ${base}`);
  const sid = requireSetting(d.settings, 'accountSid', d.id);
  const token = d.credentials.authToken;
  if (!token) throw new DestinationConfigError(`destination ${d.id}: credentials.authToken is missing`);
  return { action, method: 'GET', url: url.toString(), headers: headersOf(sid, token, false), body: null };
};

export const impactAdapter: PartnerAdapter = {
  skipReason,
  needsEmail,
  build: impactRequest,
  classify,
  // Actions API PUT: Amount is the new total, so an older partial refund must never follow a newer one.
  refundSetsTotal: true,
  follow: {
    schedule: submissionChecksOf,
    request: followRequest,
    decide: ({ uri, answer, failure, checksDone, schedule }) => decideSubmission({
      uri, state: answer ? readSubmission(answer) : null, checksDone, schedule,
      answer: answer ? `HTTP ${answer.status}` : failure,
    }),
  },
};
