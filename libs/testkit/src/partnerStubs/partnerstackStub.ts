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
 * PartnerStack v2 (partner-apis.md): JSON with Basic public_key:secret_key. Customers need
 * customer_key, a plain email and partner_key; transactions one customer reference, an
 * integer amount (minor units, may be negative), currency, and a key of 4–255 characters,
 * metadata of at most 25 keys. A key already used is refused (409), as a transaction key is
 * unique; DELETE /transactions/{key} removes one.
 */
export const startPartnerstackStub = async (p: { publicKey: string; secretKey: string; requireCustomer?: boolean; faults?: Faults }) => {
  const auth = basicAuthOf(p.publicKey, p.secretKey);
  const customers = new Map<string, { email: string; partnerKey: string; providerKey: string | null }>();
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
    if (typeof b.email === 'string' && !/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(b.email)) errors.push('email must be an email address');
    if (errors.length > 0) return bad('/customers', errors);
    const key = b.customer_key as string;
    if (customers.has(key)) return { status: 409, body: { message: `customer ${key} already exists` } };
    customers.set(key, { email: b.email as string, partnerKey: b.partner_key as string, providerKey: typeof b.provider_key === 'string' ? b.provider_key : null });
    return { status: 200, body: { data: { key, customer_key: key } } };
  };

  const onTransaction = (b: Record<string, unknown>): StubReply => {
    const errors: string[] = [];
    const refs = ['customer_key', 'customer_external_key', 'customer_email'].filter((k) => typeof b[k] === 'string' && b[k]);
    if (refs.length !== 1) errors.push('exactly one of customer_key, customer_external_key, customer_email is required');
    if (typeof b.amount !== 'number' || !Number.isInteger(b.amount)) errors.push('amount must be an integer (cents)');
    if (typeof b.currency !== 'string' || !CURRENCY.test(b.currency)) errors.push('currency must be an ISO 4217 code');
    if (typeof b.key !== 'string' || b.key.length < 4 || b.key.length > 255) errors.push('key must be 4-255 characters');
    if (b.metadata !== undefined && (typeof b.metadata !== 'object' || b.metadata === null || Object.keys(b.metadata).length > 25)) {
      errors.push('metadata must be an object of at most 25 keys');
    }
    if (errors.length > 0) return bad('/transactions', errors);
    const customer = String(b[refs[0]!]);
    if (p.requireCustomer && refs[0] === 'customer_key' && !customers.has(customer)) return { status: 404, body: { message: `customer ${customer} not found` } };
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
