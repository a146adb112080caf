import { CURRENCY, CreditBook, DECIMAL, startStubServer, type Faults } from './stubServer.js';

/**
 * Tracknow postback (partner-apis.md): GET /postback with click_id, order_id, amount,
 * currency (campaign_id, customer_id, new_customer, coupon, goal optional). Tracknow
 * documents no dedupe, so neither does the stub: every accepted postback is a credit, and a
 * resend shows up in doubleCredits().
 */
export const startTracknowStub = async (p: { faults?: Faults } = {}) => {
  const postbacks: Record<string, string>[] = [];
  const book = new CreditBook();
  const rejected: { errors: string[]; query: Record<string, string> }[] = [];
  const server = await startStubServer((r) => {
    if (r.method !== 'GET' || r.url.pathname !== '/postback') return { status: 404, body: 'not found' };
    const q = Object.fromEntries(r.url.searchParams);
    const errors: string[] = [];
    for (const k of ['click_id', 'order_id', 'amount', 'currency']) if (!q[k]) errors.push(`${k} is required`);
    if (q.amount && !DECIMAL.test(q.amount)) errors.push('amount must be decimal');
    if (q.currency && !CURRENCY.test(q.currency)) errors.push('currency must be an ISO 4217 code');
    if (q.new_customer !== undefined && !['0', '1'].includes(q.new_customer)) errors.push('new_customer must be 0 or 1');
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
