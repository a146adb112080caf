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

/**
 * Destination setting `allowDuplicateConversions`: whether the offer allows duplicate
 * conversions. Default true: Stripe rebills need it (seed 004, Everflow's Stripe integration
 * guide; the error-code guide's error 8 says subscriptions enable it,
 * helpdesk.everflow.io/customer/conversions-error-code-reference-guide). Under it Everflow has
 * no documented dedupe key (order_id is not one), so a resend after a timeout credits again:
 * Everflow is then at least once, and resends are flagged in doubt as for Tracknow.
 */
export const everflowAllowsDuplicates = (d: Destination): boolean => d.settings.allowDuplicateConversions !== false;

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

/** The figures a person needs to adjust a partially refunded order by hand: the existing amounts, as they are. */
export const everflowPartialRefundFigures = (c: Conversion): { refunded: string; order: string; refund: string } => {
  const money = (m: number | null) => (m === null ? 'unknown' : `${toDecimalString(m, c.currency)} ${c.currency.toUpperCase()}`);
  // In the basis the sale was credited in (net of tax, saleBasis.ts): what the person must set in Everflow.
  const basis = refundInSaleBasis(c);
  return { refunded: money(basis?.refundedTotalMinor ?? c.refundedTotalMinor), order: money(basis?.saleNetMinor ?? c.orderAmountMinor), refund: money(basis?.refundMinor ?? c.amountMinor) };
};

/**
 * Why a partial refund is not sent (issue 14, item 11), from Everflow's docs: the reversal
 * postback voids the whole conversion (helpdesk.everflow.io/en/articles/6273089); the Network
 * API can set a conversion's sale amount (PUT /v1/networks/reporting/conversions/{conversionId}/saleamount,
 * developers.everflow.io/docs/network/conversion_updates), but (1) it needs Everflow's
 * conversion_id, which the S2S postback's answer is not documented to carry, so each refund would
 * first need a lookup call (GET /v1/networks/reporting/events/{transactionId}); and (2) nothing
 * documents that a new sale amount recomputes the partner's payout: payout and revenue have their
 * own update (.../{conversionId}/payoutrevenue) taking absolute values that follow the offer's
 * payout rule, which lives in Everflow, not here. So a person adjusts it.
 */
const partialRefundReason = (c: Conversion): string => {
  const f = everflowPartialRefundFigures(c);
  return `everflow: partial refund not sent, Everflow has no partial reversal postback (the reversal voids the whole conversion); ` +
    `adjust order ${c.orderId} by hand (refunded ${f.refunded} of ${f.order}, this refund ${f.refund}; ` +
    `Everflow UI or Network API conversion update: sale amount and payout/revenue of the order's conversion)`;
};

/**
 * Everflow's conversion error codes (helpdesk.everflow.io/customer/conversions-error-code-reference-guide;
 * the same list at helpdesk.everflow.io/en/articles/6127792). A conversion carrying one was not
 * credited. The Network API's conversion record names them as `error_code` / `error_message`
 * (developers.everflow.io/api-reference/get-networksreportingconversions); the postback's own
 * answer is not documented, so a body carrying them is read the same way.
 */
export const EVERFLOW_ERROR_CODES: Readonly<Record<number, string>> = {
  1: 'throttled', 2: 'advertiser whitelist (domain)', 3: 'advertiser whitelist (IP)', 4: 'over caps',
  5: 'above the lookback window', 6: 'non-HTTPS traffic', 7: 'invalid protocol', 8: 'duplicate conversion',
  9: 'manually rejected', 10: 'domains not matching', 11: 'invalid network', 12: 'invalid transaction id',
  13: 'invalid click (not found)', 14: 'click and conversion offer not matching', 15: 'invalid offer',
  16: 'invalid tracking domain', 17: 'invalid conversion domain', 18: 'inactive offer', 19: 'expired offer',
  20: 'below the lookback window', 21: 'invalid verification token', 22: 'fraudulent conversion',
  23: 'IDFA not matching', 24: 'Google ADID not matching', 25: 'event id not of this offer',
  26: 'blocked by postback control', 27: 'pass-through fail traffic',
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
    // No postback lowers an amount, and the Network API update is not usable here (partialRefundReason).
    return { invalid: partialRefundReason(c) };
  }
  if (c.kind === 'REFUND_FULL' || c.kind === 'REFUND_PARTIAL' || c.kind === 'REVERSAL') {
    const q = new URLSearchParams({ order_id: c.orderId, ...common });
    return { action: c.kind === 'REVERSAL' ? 'reverse' : 'refund', method: 'GET', url: `${baseOf(d)}/reversal?${q.toString()}`, headers: {}, body: null };
  }
  const email = needsEmail(c, d) ? ctx.email : null;
  const transactionId = transactionIdOf(c, d);
  if (!transactionId && !email) return { invalid: 'everflow: email attribution needs the email, and the attribution store has none' };
  // nid and transaction_id are the minimum of an S2S postback (helpdesk.everflow.io/customer/accessing-editing-s2s-postback-urls).
  const nid = requireSetting(d.settings, 'nid', d.id);
  const eventId = eventIdOf(c, d);
  const q = new URLSearchParams({
    nid,
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

const errorCodeOf = (j: { error_code?: unknown }): number | null => {
  const n = typeof j.error_code === 'string' ? Number(j.error_code) : j.error_code;
  return typeof n === 'number' && Number.isInteger(n) && n > 0 ? n : null;
};

/**
 * 2xx alone is no proof (partner-apis.md: a rejected conversion may come back as a bodyless
 * 204). A bodyless answer is a rejection, except to a resend on an offer that rejects
 * duplicates, where it is Everflow's error 8 to our own earlier attempt. Under "Allow Duplicate
 * Conversions" a bodyless answer to a resend is a rejection too: the engine's in-doubt note says
 * the earlier attempt may have credited. A body naming an Everflow error code is a rejection
 * carrying the documented reason (error 8 to a resend where Everflow dedupes: our duplicate).
 * A reversal's resend answered without a body is taken as done: the earlier attempt reversed it.
 * Not visible here, as documented: a conversion blocked by "Enforce Advertiser Whitelist" is
 * answered 200 like a credit (error-code guide) — keep the dispatcher's egress on the advertiser's
 * whitelist (services/dispatcher/README.md).
 */
const classify = (a: PartnerAnswer, req: PartnerRequest, ctx: ClassifyContext): ResponseClass => {
  if (a.status < 200 || a.status >= 300) return classifyResponse(a);
  // A reversal voids the whole conversion: a resend finding nothing left to reverse is our own
  // earlier reversal, whatever the offer's duplicate setting (duplicates are about conversions).
  const dedupes = ctx.partnerDedupes !== false || req.action === 'refund' || req.action === 'reverse';
  if (a.body.trim() === '') {
    if (ctx.mayHaveReached && dedupes) return accepted(null, true);
    return rejected(`everflow answered ${a.status} without a body: the conversion was rejected, not recorded (reason not given)`, false);
  }
  let j: { result?: unknown; error?: unknown; error_code?: unknown; error_message?: unknown; conversion_id?: unknown };
  try {
    j = JSON.parse(a.body) as typeof j;
  } catch {
    return accepted();
  }
  if (j === null || typeof j !== 'object') return accepted();
  const code = errorCodeOf(j);
  if (code === 8 && ctx.mayHaveReached && dedupes) return accepted(null, true);
  if (code !== null) {
    const name = EVERFLOW_ERROR_CODES[code] ?? 'unknown code';
    const message = typeof j.error_message === 'string' ? `: ${j.error_message.slice(0, 300)}` : '';
    return rejected(`everflow rejected the conversion, error ${code} (${name})${message}`, false);
  }
  if (j.error || j.result === 'failure') return rejected(`everflow rejected: ${a.body.slice(0, 500)}`, false);
  return accepted(typeof j.conversion_id === 'string' ? j.conversion_id : null);
};

export const everflowAdapter: PartnerAdapter = { skipReason, needsEmail, build: everflowRequest, classify, noPartnerDedupe: everflowAllowsDuplicates };
