import { CURRENCY, CreditBook, DECIMAL, startStubServer, type Faults, type StubReply } from './stubServer.js';

export interface EverflowConversion {
  readonly id: string;
  readonly transactionId: string | null;
  readonly email: string | null;
  readonly eventId: string | null;
  readonly orderId: string;
  readonly amount: number;
  reversed: boolean;
}

/**
 * Everflow server postbacks (partner-apis.md, seed 004): GET / with transaction_id (or email,
 * for offers with email attribution, once an earlier conversion registered it), amount,
 * currency, order_id, verification_token; GET /reversal by order_id, transaction_id or
 * conversion_id. A rejected conversion gets a bodyless 204, as the real one may answer:
 * a wrong token, an unknown email, or a duplicate (same transaction and event) when the offer
 * does not allow duplicates.
 */
export const startEverflowStub = async (p: { verificationToken?: string; allowDuplicates?: boolean; registeredEmails?: string[]; faults?: Faults }) => {
  const conversions: EverflowConversion[] = [];
  const emails = new Set(p.registeredEmails ?? []);
  const book = new CreditBook();
  const rejected: { reason: string; query: Record<string, string> }[] = [];
  let seq = 0;
  const reject = (reason: string, query: Record<string, string>): StubReply => {
    rejected.push({ reason, query });
    return { status: 204 };
  };

  const server = await startStubServer((r) => {
    if (r.method !== 'GET') return { status: 405 };
    const q = Object.fromEntries(r.url.searchParams);
    if (p.verificationToken && q.verification_token !== p.verificationToken) return reject('verification token', q);
    if (r.url.pathname === '/reversal') {
      const hits = conversions.filter((c) => !c.reversed && (
        (q.order_id && c.orderId === q.order_id) || (q.conversion_id && c.id === q.conversion_id) ||
        (q.transaction_id && c.transactionId === q.transaction_id)));
      if (hits.length === 0) return reject('nothing to reverse', q);
      for (const c of hits) c.reversed = true;
      return { status: 200, body: { result: 'success', reversed: hits.map((c) => c.id) } };
    }
    if (r.url.pathname !== '/') return { status: 404 };
    if (!q.transaction_id && !q.email) return reject('transaction_id or email is required', q);
    if (q.email && !q.transaction_id && !emails.has(q.email.toLowerCase())) return reject('email not attributed', q);
    if (!q.order_id) return reject('order_id is required', q);
    if (q.amount !== undefined && !DECIMAL.test(q.amount)) return reject('amount must be decimal', q);
    if (q.amount !== undefined && (!q.currency || !CURRENCY.test(q.currency))) return reject('currency must be an ISO 4217 code', q);
    const eventId = q.adv_event_id ?? q.event_id ?? null;
    if (!p.allowDuplicates && q.transaction_id &&
      conversions.some((c) => c.transactionId === q.transaction_id && c.eventId === eventId)) {
      book.deduped++;
      return reject('duplicate conversion (error 8)', q);
    }
    if (q.email) emails.add(q.email.toLowerCase());
    const c: EverflowConversion = {
      id: `conv_${++seq}`, transactionId: q.transaction_id ?? null, email: q.email ?? null, eventId, orderId: q.order_id,
      amount: Number(q.amount ?? '0'), reversed: false,
    };
    conversions.push(c);
    book.credit(`${eventId ?? 'base'}:${q.order_id}`, c.amount);
    return { status: 200, body: { result: 'success', conversion_id: c.id, transaction_id: c.transactionId } };
  }, p.faults);
  return { ...server, conversions, book, rejected, registerEmail: (e: string) => emails.add(e.toLowerCase()) };
};
export type EverflowStub = Awaited<ReturnType<typeof startEverflowStub>>;
