import { amountExcludingTax, type Conversion } from '@sas/contracts';
import type { Destination } from '@sas/runtime';
import { isFullRefund, trackingMismatch } from '../dispatchAction.js';
import { refundInSaleBasis } from '../saleBasis.js';
import { accepted, classifyResponse, httpError, rejected, type ClassifyContext, type PartnerAnswer, type ResponseClass } from '../classifyResponse.js';
import {
  basicAuth, optionalSetting, requireCredential, requireSetting, trimSlash, type BuildContext, type BuildResult, type PartnerRequest,
} from '../partnerRequest.js';
import type { PartnerAdapter } from './adapter.js';

const DEFAULT_BASE_URL = 'https://api.partnerstack.com/api/v2';


/**
 * The merchant's key for the customer at PartnerStack: the customer_key PartnerStackJS was given
 * (seed 002, carried as attribution.customerKey), else the Stripe customer id. It is what our
 * CUSTOMER_IDENTITY creates as `customer_key` on POST /customers ("external customer key",
 * docs.partnerstack.com/reference/post_v2-customers-1), and what a transaction names as
 * `customer_external_key`; a transaction's `customer_key` is PartnerStack's own key for the
 * customer, which we never receive (docs.partnerstack.com/reference/post_v2-transactions).
 */
export const partnerstackCustomerKey = (c: Conversion, stored: string | null = null): string | null =>
  // The store's key first: a sale mapped before its customer.created (Stripe does not order
  // webhooks) carries no customerKey, while the identity created the customer under it.
  stored ?? c.attribution.customerKey ?? c.customerId;

/**
 * A refund that completes earlier refunds of its order (Stripe's refunded total before it was
 * above 0). Those earlier ones are negative transactions at PartnerStack; a DELETE of the sale
 * would leave them standing (PartnerStack then holds −Σ partials instead of 0). So this one is
 * a negative transaction too, of its own amount, and the order ends at paid − refunded = 0.
 * Chosen over "DELETE the sale and each partial": every refund stays one POST with its own key
 * (a retry or a resend after a crash gets 409, our duplicate), refunds commute (no ordering or
 * sibling lookup, none of DELETE's 404 ambiguity), and PartnerStack keeps the history.
 */
export const completesEarlierRefunds = (c: Conversion): boolean =>
  (c.kind === 'REFUND_FULL' || c.kind === 'REFUND_PARTIAL') && c.refundedTotalMinor !== null && c.refundedTotalMinor > c.amountMinor;

/** Refunds sent as negative transactions (a partial one, or one completing earlier ones); the rest delete the sale. */
const isNegativeTransaction = (c: Conversion): boolean =>
  c.kind === 'REFUND_PARTIAL' ? !isFullRefund(c) || completesEarlierRefunds(c) : c.kind === 'REFUND_FULL' && completesEarlierRefunds(c);

/**
 * PartnerStack's transaction key (4–255 chars): stable for one order, so a resend after a
 * crash hits the same transaction. A refund sent as a negative transaction is its own, keyed by the refund.
 */
export const partnerstackTransactionKey = (c: Conversion): string => {
  const base = c.orderId.length >= 4 ? c.orderId : `order_${c.orderId}`;
  const key = isNegativeTransaction(c) ? `${base}:refund:${c.refundId ?? c.conversionId}` : base;
  return key.slice(0, 255);
};

const skipReason = (c: Conversion, d: Destination): string | null => {
  switch (c.kind) {
    case 'CUSTOMER_IDENTITY':
      if (!c.attribution.partnerKey) return 'partnerstack: customer was not referred by a partner (no partner_key)';
      if (!partnerstackCustomerKey(c)) return 'partnerstack: no customer key';
      return null;
    case 'SALE_FIRST':
    case 'SALE_RECURRING':
    case 'SALE_OTHER':
    case 'SALE_ONE_TIME':
    case 'TRANSACTION':
      {
        const mismatch = trackingMismatch(c, d.settings, 'partnerstack');
        if (mismatch) return mismatch;
      }
      if (!partnerstackCustomerKey(c) && !c.attribution.emailSha256) return 'partnerstack: no customer key or email';
      return null;
    case 'REFUND_FULL':
    case 'REFUND_PARTIAL':
      return null;
    case 'REVERSAL':
      // A failed charge reverses its charge-based transaction: a destination tracking invoices never had it.
      return trackingMismatch(c, d.settings, 'partnerstack');
    default: {
      const _exhaustive: never = c.kind;
      return _exhaustive;
    }
  }
};

/**
 * The identity needs the plain email; every POST /transactions names its customer, so it reads
 * the store's current customer key (and the email, when there is no key at all) on each attempt.
 */
const needsEmail = (c: Conversion): boolean =>
  c.kind === 'CUSTOMER_IDENTITY' ||
  (c.kind !== 'REVERSAL' && !(isFullRefund(c) && !isNegativeTransaction(c)) && (c.customerId !== null || Boolean(c.attribution.emailSha256)));

const json = (d: Destination, method: PartnerRequest['method'], path: string, action: PartnerRequest['action'], body: unknown): PartnerRequest => ({
  action,
  method,
  url: `${trimSlash(optionalSetting(d.settings, 'baseUrl') ?? DEFAULT_BASE_URL)}${path}`,
  headers: {
    authorization: basicAuth(requireSetting(d.settings, 'publicKey', d.id), requireCredential(d.credentials, 'secretKey', d.id)),
    accept: 'application/json',
    ...(body === undefined ? {} : { 'content-type': 'application/json' }),
  },
  body: body === undefined ? null : JSON.stringify(body),
});

/**
 * Exactly one of customer_key, customer_external_key, customer_email names the transaction's
 * customer (docs.partnerstack.com/reference/post_v2-transactions): ours is the external key
 * (the merchant's key, as POST /customers and PartnerStackJS set it), else the plain email.
 */
export const partnerstackCustomerRef = (c: Conversion, email: string | null, storedKey: string | null = null): { customer_external_key: string } | { customer_email: string } | null => {
  const key = partnerstackCustomerKey(c, storedKey);
  if (key) return { customer_external_key: key };
  return email ? { customer_email: email } : null;
};

const metadata = (c: Conversion): Record<string, string> => ({
  conversion_id: c.conversionId,
  stripe_event_id: c.sourceEventIds[0] ?? '',
  ...(c.subscriptionId ? { subscription_id: c.subscriptionId } : {}),
});

/**
 * PartnerStack v2 (partner-apis.md, seed 002): customers and transactions, JSON with Basic
 * public_key:secret_key. Amounts are integers in the currency's minor unit ("cents"; yen for
 * JPY), net of tax. A full refund at once or a failed charge deletes the transaction (as
 * PartnerStack's own Stripe integration does); a partial refund, and the refund completing
 * partial ones, offset it with a negative transaction (completesEarlierRefunds).
 */
export const partnerstackRequest = (c: Conversion, d: Destination, ctx: BuildContext): BuildResult => {
  const skip = skipReason(c, d);
  if (skip) return { skip };
  if (c.kind === 'CUSTOMER_IDENTITY') {
    if (!ctx.email) return { invalid: 'partnerstack: the attribution store has no email for this customer', retriable: true };
    return json(d, 'POST', '/customers', 'identify', {
      customer_key: partnerstackCustomerKey(c, ctx.customerKey ?? null),
      email: ctx.email,
      partner_key: c.attribution.partnerKey,
      provider_key: c.customerId,
      meta: { stripe_customer_id: c.customerId },
    });
  }
  if (c.kind === 'REVERSAL' || (isFullRefund(c) && !isNegativeTransaction(c))) {
    const key = c.orderId.length >= 4 ? c.orderId : `order_${c.orderId}`;
    return json(d, 'DELETE', `/transactions/${encodeURIComponent(key)}`, c.kind === 'REVERSAL' ? 'reverse' : 'refund', undefined);
  }
  const customer = partnerstackCustomerRef(c, ctx.email, ctx.customerKey ?? null);
  if (!customer) return { invalid: 'partnerstack: no customer key, and the attribution store has no email', retriable: true };
  const refund = c.kind === 'REFUND_PARTIAL' || c.kind === 'REFUND_FULL';
  const productKey = c.attribution.productKey ?? optionalSetting(d.settings, 'productKey');
  const categoryKey = optionalSetting(d.settings, 'categoryKey');
  return json(d, 'POST', '/transactions', refund ? 'refund' : 'credit', {
    ...customer,
    // A refund in its sale's basis (net of tax, as the sale was credited): saleBasis.ts.
    amount: refund ? -(refundInSaleBasis(c)?.refundMinor ?? amountExcludingTax(c)) : amountExcludingTax(c),
    currency: c.currency.toUpperCase(),
    key: partnerstackTransactionKey(c),
    ...(productKey ? { product_key: productKey } : {}),
    ...(categoryKey ? { category_key: categoryKey } : {}),
    metadata: metadata(c),
  });
};

/**
 * 409: the key exists, i.e. an earlier attempt of ours got through. 404: the customer or the
 * transaction is not there yet (its identify or credit is still being retried), or a DELETE
 * that an earlier attempt of ours already did: taken as done only when `mayHaveReached`, which
 * the engine sets for a DELETE only if an earlier attempt of the same row may have landed (no
 * answer, a 5xx, a crash mid-request) and the order's sale is credited in the ledger
 * (reversalMayHaveLanded); otherwise retried, then dead-lettered.
 */
const classify = (a: PartnerAnswer, req: PartnerRequest, ctx: ClassifyContext): ResponseClass => {
  if (a.status === 409) return accepted(null, true);
  if (a.status === 404) return ctx.mayHaveReached && req.method === 'DELETE' ? accepted(null, true) : rejected(httpError(a), true);
  return classifyResponse(a);
};

export const partnerstackAdapter: PartnerAdapter = {
  skipReason,
  needsEmail,
  build: partnerstackRequest,
  classify,
};
