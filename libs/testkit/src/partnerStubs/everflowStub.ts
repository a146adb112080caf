import { CURRENCY, CreditBook, DECIMAL, startStubServer, type Faults, type StubReply } from './stubServer.js';

export interface EverflowConversion {
  readonly id: string;
  readonly transactionId: string | null;
  readonly email: string | null;
  readonly eventId: string | null;
  readonly orderId: string;
  readonly amount: number;
  /** ISO 4217 as sent, upper case; empty when the postback carried no amount. */
  readonly currency: string;
  reversed: boolean;
}

/** Everflow's error codes the stub answers with (helpdesk.everflow.io/customer/conversions-error-code-reference-guide). */
export const EVERFLOW_STUB_ERRORS = { whitelistIp: 3, duplicate: 8, invalidNetwork: 11, invalidVerificationToken: 21 } as const;

/**
 * Everflow server postbacks, each rule with its page:
 * - GET / on the tracking domain with nid and transaction_id at a minimum
 *   (helpdesk.everflow.io/customer/accessing-editing-s2s-postback-urls), or, on offers with email
 *   attribution, the email an earlier conversion registered instead of the transaction id (seed
 *   004, Everflow's Stripe integration guide); amount is the sale amount a CPS/RPS payout is
 *   computed from (helpdesk.everflow.io/en/articles/6279436), currency three letters
 *   (helpdesk.everflow.io/en/articles/6120678); verification_token when the offer uses one (error 21).
 * - Duplicates: rejected with error 8 unless the offer allows duplicate conversions, which
 *   subscriptions need (error-code guide, error 8; seed 004). `allowDuplicates` defaults to true,
 *   the setting Stripe rebills need: then a resend is credited again.
 * - An offer enforcing the advertiser whitelist blocks a postback from an unlisted IP or domain
 *   silently: the advertiser sees 200 OK (error-code guide, errors 2/3;
 *   helpdesk.everflow.io/en/articles/4154199). `blockedByWhitelist` models a dispatcher whose
 *   egress is not on it: answered 200 like a credit, recorded in `rejected`, not credited.
 * - How other rejections are answered is not documented; partner-apis.md notes a bodyless 204,
 *   which the stub answers. The body of a successful postback is not documented either: the
 *   stub's `{ result, conversion_id, transaction_id }` is its own.
 * - GET /reversal by conversion_id, order_id or transaction_id (with verification_token if used)
 *   voids the whole conversion (helpdesk.everflow.io/en/articles/6273089); nothing lowers an amount.
 * - No rate limit of the postback endpoint is documented (the Network API's is, partner-apis.md):
 *   the stub's 429s are injected faults only.
 */
export const startEverflowStub = async (p: {
  verificationToken?: string; allowDuplicates?: boolean; blockedByWhitelist?: boolean; registeredEmails?: string[]; faults?: Faults;
}) => {
  const allowDuplicates = p.allowDuplicates ?? true;
  const conversions: EverflowConversion[] = [];
  const emails = new Set(p.registeredEmails ?? []);
  const book = new CreditBook();
  const rejected: { reason: string; errorCode: number | null; query: Record<string, string> }[] = [];
  let seq = 0;
  const reject = (reason: string, query: Record<string, string>, errorCode: number | null = null): StubReply => {
    rejected.push({ reason, errorCode, query });
    return { status: 204 };
  };

  const server = await startStubServer((r) => {
    if (r.method !== 'GET') return { status: 405 };
    const q = Object.fromEntries(r.url.searchParams);
    if (p.verificationToken && q.verification_token !== p.verificationToken) return reject('invalid verification token', q, EVERFLOW_STUB_ERRORS.invalidVerificationToken);
    if (r.url.pathname === '/reversal') {
      const hits = conversions.filter((c) => !c.reversed && (
        (q.order_id && c.orderId === q.order_id) || (q.conversion_id && c.id === q.conversion_id) ||
        (q.transaction_id && c.transactionId === q.transaction_id)));
      if (hits.length === 0) return reject('nothing to reverse', q);
      for (const c of hits) c.reversed = true;
      return { status: 200, body: { result: 'success', reversed: hits.map((c) => c.id) } };
    }
    if (r.url.pathname !== '/') return { status: 404 };
    if (!q.nid) return reject('nid is required', q, EVERFLOW_STUB_ERRORS.invalidNetwork);
    if (!q.transaction_id && !q.email) return reject('transaction_id or email is required', q);
    if (q.email && !q.transaction_id && !emails.has(q.email.toLowerCase())) return reject('email not attributed', q);
    if (!q.order_id) return reject('order_id is required', q);
    if (q.amount !== undefined && !DECIMAL.test(q.amount)) return reject('amount must be decimal', q);
    if (q.amount !== undefined && (!q.currency || !CURRENCY.test(q.currency))) return reject('currency must be an ISO 4217 code', q);
    const eventId = q.adv_event_id ?? q.event_id ?? null;
    if (p.blockedByWhitelist) {
      rejected.push({ reason: 'advertiser whitelist (IP)', errorCode: EVERFLOW_STUB_ERRORS.whitelistIp, query: q });
      return { status: 200, body: { result: 'success', conversion_id: `conv_blocked_${++seq}`, transaction_id: q.transaction_id ?? null } };
    }
    if (!allowDuplicates && q.transaction_id &&
      conversions.some((c) => c.transactionId === q.transaction_id && c.eventId === eventId)) {
      book.deduped++;
      return reject('duplicate conversion', q, EVERFLOW_STUB_ERRORS.duplicate);
    }
    if (q.email) emails.add(q.email.toLowerCase());
    const c: EverflowConversion = {
      id: `conv_${++seq}`, transactionId: q.transaction_id ?? null, email: q.email ?? null, eventId, orderId: q.order_id,
      amount: Number(q.amount ?? '0'), currency: (q.currency ?? '').toUpperCase(), reversed: false,
    };
    conversions.push(c);
    book.credit(`${eventId ?? 'base'}:${q.order_id}`, c.amount);
    return { status: 200, body: { result: 'success', conversion_id: c.id, transaction_id: c.transactionId } };
  }, p.faults);
  return { ...server, conversions, book, rejected, registerEmail: (e: string) => emails.add(e.toLowerCase()) };
};
export type EverflowStub = Awaited<ReturnType<typeof startEverflowStub>>;
