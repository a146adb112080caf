import { createHmac, timingSafeEqual } from 'node:crypto';
import { CreditBook, startStubServer, type Faults } from './stubServer.js';

/**
 * A generic webhook receiver that does what the dispatcher's README asks of one: verify
 * `webhook-signature` (v1,<base64 HMAC-SHA256(key, "<webhook-id>.<webhook-timestamp>.<body>")>,
 * key = the bytes after `whsec_` base64-decoded, else the secret's UTF-8 bytes) against the
 * raw body within a 5-minute tolerance, and process each `webhook-id` once.
 */
export const verifyWebhookSignature = (p: { secret: string; id: string; timestamp: string; body: string; signature: string; nowSec?: number; toleranceSec?: number }): boolean => {
  const ts = Number(p.timestamp);
  const now = p.nowSec ?? Math.floor(Date.now() / 1000);
  if (!Number.isInteger(ts) || Math.abs(now - ts) > (p.toleranceSec ?? 300)) return false;
  const key = p.secret.startsWith('whsec_') ? Buffer.from(p.secret.slice(6), 'base64') : Buffer.from(p.secret, 'utf8');
  const expected = createHmac('sha256', key).update(`${p.id}.${p.timestamp}.${p.body}`).digest();
  return p.signature.split(' ').some((part) => {
    const [version, sig] = part.split(',');
    if (version !== 'v1' || !sig) return false;
    const given = Buffer.from(sig, 'base64');
    return given.length === expected.length && timingSafeEqual(given, expected);
  });
};

export const startWebhookStub = async (p: { secret: string; faults?: Faults }) => {
  /** `at`: Date.now() when the request was handled (benches time deliveries with it). */
  const received: { id: string; payload: Record<string, unknown>; at: number }[] = [];
  const book = new CreditBook();
  const rejected: string[] = [];
  const server = await startStubServer((r) => {
    if (r.method !== 'POST') return { status: 405 };
    const id = String(r.headers['webhook-id'] ?? '');
    const timestamp = String(r.headers['webhook-timestamp'] ?? '');
    const signature = String(r.headers['webhook-signature'] ?? '');
    if (!id || !verifyWebhookSignature({ secret: p.secret, id, timestamp, body: r.body, signature })) {
      rejected.push(id || '(no id)');
      return { status: 401, body: { error: 'bad signature' } };
    }
    if (book.has(id)) {
      book.deduped++;
      return { status: 200, body: { received: true, duplicate: true } };
    }
    let payload: Record<string, unknown>;
    try {
      payload = JSON.parse(r.body) as Record<string, unknown>;
    } catch {
      return { status: 400, body: { error: 'bad JSON' } };
    }
    received.push({ id, payload, at: Date.now() });
    book.credit(id, 0);
    return { status: 200, body: { received: true } };
  }, p.faults);
  return { ...server, received, book, rejected };
};
export type WebhookStub = Awaited<ReturnType<typeof startWebhookStub>>;
