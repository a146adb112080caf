import { amountExcludingTax, toDecimalString, type Conversion } from '@sas/contracts';
import type { Destination } from '@sas/runtime';
import { isNewCustomerSale, trackingMismatch } from '../dispatchAction.js';
import { classifyResponse } from '../classifyResponse.js';
import { optionalSetting, requireSetting, trimSlash, type BuildResult } from '../partnerRequest.js';
import type { PartnerAdapter } from './adapter.js';
import { clickIdFor } from './clickIdFor.js';

/**
 * Tracknow's click: `click_id`, "a unique parameter that links the client or purchase to the
 * referring affiliate" (docs.tracknow.io/integrations/supported-parameters); never impact's or
 * Everflow's, and client_reference_id only where the destination says it holds it.
 */
const clickOf = (c: Conversion, d: Destination): string | null => clickIdFor(c.attribution, 'tracknowClickId', d);

const baseOf = (d: Destination): string => {
  const base = optionalSetting(d.settings, 'baseUrl');
  if (base) return trimSlash(base);
  return `https://${encodeURIComponent(requireSetting(d.settings, 'namespace', d.id))}-tracking.tracknow.info`;
};

const skipReason = (c: Conversion, d: Destination): string | null => {
  switch (c.kind) {
    case 'SALE_FIRST':
    case 'SALE_RECURRING':
    case 'SALE_OTHER':
    case 'SALE_ONE_TIME':
    case 'TRANSACTION':
      return trackingMismatch(c, d.settings, 'tracknow') ?? (clickOf(c, d) ? null : 'tracknow: no click_id');
    case 'REFUND_FULL':
    case 'REFUND_PARTIAL':
    case 'REVERSAL':
      return 'tracknow: no refund or reversal postback is documented (adjust in the Tracknow dashboard)';
    case 'CUSTOMER_IDENTITY':
      return 'tracknow: identity is not sent';
    default: {
      const _exhaustive: never = c.kind;
      return _exhaustive;
    }
  }
};

/**
 * Lifetime association: a new customer's postback carries `new_customer=true` with its
 * `customer_id` (docs.tracknow.io/payouts/lifetime-payout; docs.tracknow.io/features/clients).
 * `true` is the only value documented; later sales leave the parameter out (not documented as
 * `false`), and without a customer id there is nothing to associate, so it is not sent.
 */
export const tracknowNewCustomer = (c: Conversion): { new_customer: 'true' } | Record<string, never> =>
  isNewCustomerSale(c) && c.customerId ? { new_customer: 'true' } : {};

/**
 * Tracknow postback (docs.tracknow.io/integrations-and-tracking/postback-integration, seed 003):
 * GET /postback with campaign_id, click_id, order_id, amount (decimal, net of tax), currency
 * (docs.tracknow.io/integrations/supported-parameters). campaign_id is "required in certain
 * types of integrations" and every documented postback example carries it, so it is a required
 * setting (the admin API refuses a destination without it). Tracknow documents no dedupe:
 * order_id is the key that lets them (or an operator) spot a resend.
 */
export const tracknowRequest = (c: Conversion, d: Destination): BuildResult => {
  const skip = skipReason(c, d);
  if (skip) return { skip };
  const campaignId = requireSetting(d.settings, 'campaignId', d.id);
  const goal = isNewCustomerSale(c) ? optionalSetting(d.settings, 'goal') : optionalSetting(d.settings, 'recurringGoal') ?? optionalSetting(d.settings, 'goal');
  const q = new URLSearchParams({
    campaign_id: campaignId,
    click_id: clickOf(c, d) ?? '',
    order_id: c.orderId,
    amount: toDecimalString(amountExcludingTax(c), c.currency),
    currency: c.currency.toUpperCase(),
    ...(c.customerId ? { customer_id: c.customerId } : {}),
    ...tracknowNewCustomer(c),
    ...(c.attribution.promoCode ? { coupon: c.attribution.promoCode } : {}),
    ...(goal ? { goal } : {}),
  });
  return { action: 'credit', method: 'GET', url: `${baseOf(d)}/postback?${q.toString()}`, headers: {}, body: null };
};

export const tracknowAdapter: PartnerAdapter = {
  skipReason,
  needsEmail: () => false,
  build: tracknowRequest,
  classify: (a) => classifyResponse(a),
  // partner-apis.md: "Refund/dedupe undocumented"; seed 003 describes only Tracknow's own Stripe webhook. No lookup endpoint either.
  noPartnerDedupe: true,
};
