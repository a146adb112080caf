import { CURRENCY, CreditBook, DECIMAL, startStubServer, type Faults } from './stubServer.js';

/**
 * Tracknow postback, GET /postback (docs.tracknow.io/integrations-and-tracking/postback-integration):
 * - campaign_id: "required in certain types of integrations", and every documented postback
 *   example carries it (docs.tracknow.io/integrations/supported-parameters): required here.
 * - click_id links the sale to the affiliate (supported-parameters); order_id, amount (the
 *   commission base, a decimal) and currency (three-letter ISO) as documented there. The docs
 *   do not say which of them Tracknow itself refuses when missing: the stub requires them,
 *   which is what our adapter always sends.
 * - new_customer: `true` is the only documented value, and it creates a lifetime association
 *   only together with customer_id (docs.tracknow.io/payouts/lifetime-payout;
 *   docs.tracknow.io/features/clients): anything else, or true without customer_id, is refused.
 * - No dedupe, no refund or reversal call and no rate limit are documented: every accepted
 *   postback is a credit, and a resend shows up in doubleCredits(); 429s are injected faults only.
 * - The answer's body is not documented: the stub answers 200 "OK".
 */
export const startTracknowStub = async (p: { faults?: Faults } = {}) => {
  const postbacks: Record<string, string>[] = [];
  const book = new CreditBook();
  const rejected: { errors: string[]; query: Record<string, string> }[] = [];
  const server = await startStubServer((r) => {
    if (r.method !== 'GET' || r.url.pathname !== '/postback') return { status: 404, body: 'not found' };
    const q = Object.fromEntries(r.url.searchParams);
    const errors: string[] = [];
    for (const k of ['campaign_id', 'click_id', 'order_id', 'amount', 'currency']) if (!q[k]) errors.push(`${k} is required`);
    if (q.amount && !DECIMAL.test(q.amount)) errors.push('amount must be decimal');
    if (q.currency && !CURRENCY.test(q.currency)) errors.push('currency must be an ISO 4217 code');
    if (q.new_customer !== undefined && q.new_customer !== 'true') errors.push('new_customer: the documented value is true');
    if (q.new_customer === 'true' && !q.customer_id) errors.push('new_customer=true needs customer_id (lifetime association)');
    if (errors.length > 0) {
      rejected.push({ errors, query: q });
      return { status: 400, body: { status: 'error', errors } };
    }
    postbacks.push(q);
    book.credit(q.order_id!, Number(q.amount));
    return { status: 200, body: 'OK' };
  }, p.faults);
  return { ...server, postbacks, book, rejected };
};
export type TracknowStub = Awaited<ReturnType<typeof startTracknowStub>>;
