import { amountExcludingTax, toDecimalString, type Conversion } from '@sas/contracts';
import type { Destination } from '@sas/runtime';
import { isFullRefund, isNewCustomerSale, trackingMismatch } from '../dispatchAction.js';
import { refundInSaleBasis } from '../saleBasis.js';
import { accepted, classifyResponse, rejected, type ClassifyContext, type PartnerAnswer, type ResponseClass } from '../classifyResponse.js';
import { optionalSetting, requireSetting, trimSlash, type BuildContext, type BuildResult, type PartnerRequest } from '../partnerRequest.js';
import type { PartnerAdapter } from './adapter.js';
import { clickIdFor } from './clickIdFor.js';

/**
 * Everflow's click is the transaction id, with nid the minimum of an S2S postback
 * (helpdesk.everflow.io/customer/accessing-editing-s2s-postback-urls): only an Everflow
 * transaction id, never another partner's click.
 */
const transactionIdOf = (c: Conversion, d: Destination): string | null => clickIdFor(c.attribution, 'everflowTransactionId', d);

const baseOf = (d: Destination): string => {
  const base = optionalSetting(d.settings, 'baseUrl');
  if (base) return trimSlash(base);
  return `https://${trimSlash(requireSetting(d.settings, 'trackingDomain', d.id))}`;
};

const emailAttribution = (d: Destination): boolean => d.settings.emailAttribution === true;

const skipReason = (c: Conversion, d: Destination): string | null => {
  switch (c.kind) {
    case 'SALE_FIRST':
    case 'SALE_RECURRING':
    case 'SALE_OTHER':
    case 'SALE_ONE_TIME':
    case 'TRANSACTION': {
      const mismatch = trackingMismatch(c, d.settings, 'everflow');
      if (mismatch) return mismatch;
      if (!transactionIdOf(c, d) && !(emailAttribution(d) && c.attribution.emailSha256)) {
        return 'everflow: no transaction id, and no email attribution for this offer';
      }
      return null;
    }
    case 'REFUND_FULL':
    case 'REVERSAL':
    case 'REFUND_PARTIAL':
      // A partial refund is not skipped silently: it goes to the ledger and is dead-lettered (see build).
      return null;
    case 'CUSTOMER_IDENTITY':
      return 'everflow: identity is sent with each conversion (email attribution)';
    default: {
      const _exhaustive: never = c.kind;
      return _exhaustive;
    }
  }
};

const needsEmail = (c: Conversion, d: Destination): boolean =>
  emailAttribution(d) && Boolean(c.attribution.emailSha256) && c.kind !== 'REFUND_FULL' && c.kind !== 'REFUND_PARTIAL' && c.kind !== 'REVERSAL';

const eventIdOf = (c: Conversion, d: Destination): string | null =>
  isNewCustomerSale(c)
    ? optionalSetting(d.settings, 'eventId')
    : optionalSetting(d.settings, 'recurringEventId') ?? optionalSetting(d.settings, 'eventId');

const partialRefundReason = (c: Conversion): string => {
  const money = (m: number | null) => (m === null ? 'unknown' : `${toDecimalString(m, c.currency)} ${c.currency.toUpperCase()}`);
  // In the basis the sale was credited in (net of tax, saleBasis.ts): what the person must set in Everflow.
  const basis = refundInSaleBasis(c);
  return `everflow: partial refund not sent, Everflow has no partial reversal postback (the reversal voids the whole conversion); ` +
    `adjust order ${c.orderId} by hand (refunded ${money(basis?.refundedTotalMinor ?? c.refundedTotalMinor)} of ${money(basis?.saleNetMinor ?? c.orderAmountMinor)}, this refund ${money(basis?.refundMinor ?? c.amountMinor)}; ` +
    `Everflow UI or Network API conversion update)`;
};

/**
 * Everflow server postbacks (partner-apis.md, seed 004): GET on the tracking domain with the
 * transaction id (Everflow's click id) or, for offers with email attribution, the email the
 * first conversion registered; rebills go to the offer's re-bill event. Reversal by order id.
 */
export const everflowRequest = (c: Conversion, d: Destination, ctx: BuildContext): BuildResult => {
  const skip = skipReason(c, d);
  if (skip) return { skip };
  const token = d.credentials.verificationToken;
  const common: Record<string, string> = token ? { verification_token: token } : {};
  if (c.kind === 'REFUND_PARTIAL' && !isFullRefund(c)) {
    // The reversal postback voids the whole conversion, and no postback lowers an amount
    // (partner-apis.md, seed 004): a person has to adjust the sale amount in Everflow.
    return { invalid: partialRefundReason(c) };
  }
  if (c.kind === 'REFUND_FULL' || c.kind === 'REFUND_PARTIAL' || c.kind === 'REVERSAL') {
    const q = new URLSearchParams({ order_id: c.orderId, ...common });
    return { action: c.kind === 'REVERSAL' ? 'reverse' : 'refund', method: 'GET', url: `${baseOf(d)}/reversal?${q.toString()}`, headers: {}, body: null };
  }
  const email = needsEmail(c, d) ? ctx.email : null;
  const transactionId = transactionIdOf(c, d);
  if (!transactionId && !email) return { invalid: 'everflow: email attribution needs the email, and the attribution store has none' };
  const nid = optionalSetting(d.settings, 'nid');
  const eventId = eventIdOf(c, d);
  const q = new URLSearchParams({
    ...(nid ? { nid } : {}),
    ...(transactionId ? { transaction_id: transactionId } : {}),
    ...(email ? { email } : {}),
    ...(eventId ? { adv_event_id: eventId } : {}),
    amount: toDecimalString(amountExcludingTax(c), c.currency),
    currency: c.currency.toUpperCase(),
    order_id: c.orderId,
    ...(c.attribution.promoCode ? { coupon_code: c.attribution.promoCode } : {}),
    adv1: c.conversionId,
    ...common,
  });
  return { action: 'credit', method: 'GET', url: `${baseOf(d)}/?${q.toString()}`, headers: {}, body: null };
};

/**
 * A rejected conversion may come back as a bodyless 204, so 2xx alone is no proof. Without a
 * body it counts as delivered only when an earlier attempt of ours may have got through
 * (Everflow rejecting our own duplicate); otherwise it is dead-lettered with the reason.
 */
const classify = (a: PartnerAnswer, _req: PartnerRequest, ctx: ClassifyContext): ResponseClass => {
  if (a.status >= 200 && a.status < 300) {
    if (a.body.trim() === '') {
      return ctx.mayHaveReached ? accepted(null, true) : rejected(`everflow answered ${a.status} without a body: not recorded`, false);
    }
    try {
      const j = JSON.parse(a.body) as { result?: unknown; error?: unknown; conversion_id?: unknown; transaction_id?: unknown };
      if (j.error || j.result === 'failure') return rejected(`everflow rejected: ${a.body.slice(0, 500)}`, false);
      const ref = typeof j.conversion_id === 'string' ? j.conversion_id : null;
      return accepted(ref);
    } catch {
      return accepted();
    }
  }
  return classifyResponse(a);
};

export const everflowAdapter: PartnerAdapter = { skipReason, needsEmail, build: everflowRequest, classify };
