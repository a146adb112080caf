import { CURRENCY, CreditBook, basicAuthOf, startStubServer, type Faults, type StubReply, type StubRequest } from './stubServer.js';

export interface PartnerstackTransaction {
  readonly key: string;
  readonly customer: string;
  readonly amount: number;
  readonly currency: string;
  readonly productKey: string | null;
  deleted: boolean;
}

/**
 * PartnerStack v2, JSON with Basic public_key:secret_key. Each rule below names its page:
 * - POST /customers: customer_key (the merchant's "external customer key"), email (4-255,
 *   valid) and partner_key are required; provider_key is the payment provider's id
 *   (docs.partnerstack.com/reference/post_v2-customers-1). The answer's `key` is
 *   PartnerStack's own key for the customer; its shape is not documented, the stub makes one.
 * - POST /transactions: exactly one of customer_key (PartnerStack's own key),
 *   customer_external_key (the merchant's key, as given by PartnerStackJS or POST /customers) or
 *   customer_email; amount an integer in cents within ±50,000,000,000; currency three letters;
 *   key 4-255 characters; metadata at most 25 attributes
 *   (docs.partnerstack.com/reference/post_v2-transactions).
 * - A transaction naming a customer PartnerStack does not know by that field is refused (the
 *   reference lists 404 Not Found among its answers; the exact status for an unknown customer is
 *   not documented, the stub answers 404). `requireCustomer: false` turns this off for runs that
 *   send no customer identities first.
 * - A transaction key already used: 409. The reference does not document the answer to a
 *   duplicate key; a key is the transaction's identity in PartnerStack, and 409 is the stub's choice.
 * - DELETE /transactions/{key}: not in the v2 reference we could find (partner-apis.md: seen in
 *   third-party clients); the stub deletes, and answers 404 for an unknown or deleted key.
 * - Rate limits are not documented (partner-apis.md): the stub's 429s are injected faults only.
 */
export const startPartnerstackStub = async (p: { publicKey: string; secretKey: string; requireCustomer?: boolean; faults?: Faults }) => {
  const requireCustomer = p.requireCustomer ?? true;
  const auth = basicAuthOf(p.publicKey, p.secretKey);
  /** By the merchant's external key (POST /customers customer_key). */
  const customers = new Map<string, { key: string; email: string; partnerKey: string; providerKey: string | null }>();
  let customerSeq = 0;
  /** Finds a customer by the one field a transaction names it with. */
  const knows = (field: string, value: string): boolean => {
    if (field === 'customer_external_key') return customers.has(value);
    if (field === 'customer_key') return [...customers.values()].some((c) => c.key === value);
    return [...customers.values()].some((c) => c.email.toLowerCase() === value.toLowerCase());
  };
  const transactions = new Map<string, PartnerstackTransaction>();
  const book = new CreditBook();
  const rejected: { path: string; errors: string[] }[] = [];

  const bad = (path: string, errors: string[]): StubReply => {
    rejected.push({ path, errors });
    return { status: 400, body: { message: errors.join('; '), errors } };
  };

  const parse = (r: StubRequest): Record<string, unknown> | null => {
    if (!String(r.headers['content-type'] ?? '').startsWith('application/json')) return null;
    try {
      const j = JSON.parse(r.body) as unknown;
      return j && typeof j === 'object' && !Array.isArray(j) ? (j as Record<string, unknown>) : null;
    } catch {
      return null;
    }
  };

  const onCustomer = (b: Record<string, unknown>): StubReply => {
    const errors: string[] = [];
    for (const k of ['customer_key', 'email', 'partner_key']) if (typeof b[k] !== 'string' || !(b[k] as string)) errors.push(`${k} is required`);
    if (typeof b.email === 'string' && (!/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(b.email) || b.email.length < 4 || b.email.length > 255)) {
      errors.push('email must be an email address of 4-255 characters');
    }
    if (errors.length > 0) return bad('/customers', errors);
    const key = b.customer_key as string;
    if (customers.has(key)) return { status: 409, body: { message: `customer ${key} already exists` } };
    const own = `cust_${++customerSeq}`;
    customers.set(key, { key: own, email: b.email as string, partnerKey: b.partner_key as string, providerKey: typeof b.provider_key === 'string' ? b.provider_key : null });
    return { status: 200, body: { data: { key: own, customer_key: key } } };
  };

  const onTransaction = (b: Record<string, unknown>): StubReply => {
    const errors: string[] = [];
    const refs = ['customer_key', 'customer_external_key', 'customer_email'].filter((k) => typeof b[k] === 'string' && b[k]);
    if (refs.length !== 1) errors.push('exactly one of customer_key, customer_external_key, customer_email is required');
    if (typeof b.amount !== 'number' || !Number.isInteger(b.amount) || Math.abs(b.amount) > 50_000_000_000) {
      errors.push('amount must be an integer (cents) between -50000000000 and 50000000000');
    }
    if (typeof b.currency !== 'string' || !CURRENCY.test(b.currency)) errors.push('currency must be an ISO 4217 code');
    if (typeof b.key !== 'string' || b.key.length < 4 || b.key.length > 255) errors.push('key must be 4-255 characters');
    if (b.metadata !== undefined && (typeof b.metadata !== 'object' || b.metadata === null || Object.keys(b.metadata).length > 25)) {
      errors.push('metadata must be an object of at most 25 keys');
    }
    if (errors.length > 0) return bad('/transactions', errors);
    const field = refs[0]!;
    const customer = String(b[field]);
    if (requireCustomer && !knows(field, customer)) {
      rejected.push({ path: '/transactions', errors: [`no customer with ${field} ${customer}`] });
      return { status: 404, body: { message: `customer not found by ${field}: ${customer}` } };
    }
    const key = b.key as string;
    if (transactions.has(key)) {
      book.deduped++;
      return { status: 409, body: { message: `transaction with key ${key} already exists` } };
    }
    transactions.set(key, { key, customer, amount: b.amount as number, currency: b.currency as string, productKey: typeof b.product_key === 'string' ? b.product_key : null, deleted: false });
    book.credit(key, b.amount as number);
    return { status: 200, body: { data: { key, amount: b.amount, currency: b.currency } } };
  };

  const server = await startStubServer((r) => {
    if (r.headers.authorization !== auth) return { status: 401, body: { message: 'unauthorized' } };
    const path = r.url.pathname.replace(/^\/api\/v2/, '');
    if (r.method === 'DELETE' && path.startsWith('/transactions/')) {
      const key = decodeURIComponent(path.slice('/transactions/'.length));
      const t = transactions.get(key);
      if (!t || t.deleted) return { status: 404, body: { message: `transaction ${key} not found` } };
      t.deleted = true;
      return { status: 200, body: { data: { key, deleted: true } } };
    }
    if (r.method !== 'POST' || (path !== '/customers' && path !== '/transactions')) return { status: 404, body: { message: `no route ${r.method} ${path}` } };
    const b = parse(r);
    if (!b) return bad(path, ['body must be a JSON object with content-type application/json']);
    return path === '/customers' ? onCustomer(b) : onTransaction(b);
  }, p.faults);
  return { ...server, customers, transactions, book, rejected, apiBase: `${server.baseUrl}/api/v2` };
};
export type PartnerstackStub = Awaited<ReturnType<typeof startPartnerstackStub>>;
