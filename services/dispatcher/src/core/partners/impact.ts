import { toDecimalString, type Conversion, type LineItem } from '@sas/contracts';
import type { Destination } from '@sas/runtime';
import { requireSetting, type BuildResult } from '../partnerRequest.js';

const DEFAULT_BASE_URL = 'https://api.impact.com';

const basic = (user: string, pass: string) => `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`;

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

/**
 * impact.com Conversions API (seed 000/001): form POST, Basic AccountSID:AuthToken.
 * First subscription sale → EventTypeId, renewals and other invoices → the recurring
 * tracker, one-time → its own tracker (or EventTypeId). Refunds go through the Actions API
 * (dispatcher issue); until then they are skipped with a reason, not dropped silently.
 */
export const impactRequest = (c: Conversion, d: Destination): BuildResult => {
  const sid = requireSetting(d.settings, 'accountSid', d.id);
  const token = d.credentials.authToken;
  if (!token) return { skip: `destination ${d.id}: credentials.authToken is missing` };
  const base = (typeof d.settings.baseUrl === 'string' ? d.settings.baseUrl : DEFAULT_BASE_URL).replace(/\/$/, '');

  let eventTypeId: string;
  switch (c.kind) {
    case 'SALE_FIRST':
      eventTypeId = requireSetting(d.settings, 'eventTypeId', d.id);
      break;
    case 'SALE_RECURRING':
    case 'SALE_OTHER':
      eventTypeId = requireSetting(d.settings, 'recurringEventTypeId', d.id);
      break;
    case 'SALE_ONE_TIME':
      eventTypeId = typeof d.settings.oneTimeEventTypeId === 'string'
        ? d.settings.oneTimeEventTypeId
        : requireSetting(d.settings, 'eventTypeId', d.id);
      break;
    default:
      return { skip: `impact: ${c.kind} is not sent as a conversion` };
  }
  if (!c.attribution.clickId && !c.customerId && !c.attribution.promoCode) {
    return { skip: 'impact: no attribution key (ClickId, CustomerId or PromoCode)' };
  }

  const isSubscription = c.kind !== 'SALE_ONE_TIME';
  const fields: Record<string, string> = {
    CampaignId: requireSetting(d.settings, 'campaignId', d.id),
    EventTypeId: eventTypeId,
    OrderId: c.orderId,
    EventDate: new Date(c.occurredAt).toISOString(),
    CurrencyCode: c.currency.toUpperCase(),
    ...(c.attribution.clickId ? { ClickId: c.attribution.clickId } : {}),
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
    url: `${base}/Advertisers/${encodeURIComponent(sid)}/Conversions`,
    headers: {
      authorization: basic(sid, token),
      'content-type': 'application/x-www-form-urlencoded',
      accept: 'application/json',
    },
    body: new URLSearchParams(fields).toString(),
  };
};
