import { describe, expect, it } from 'vitest';
import { PERMISSION_PROBES, interpretProbe, parseStripeKey, permissionReport, type ProbeAnswer } from './keyPermissions.js';

const probe = (id: string) => PERMISSION_PROBES.find((p) => p.id === id)!;
const stripe403 = "The provided key 'rk_test_abcdefghijkl' does not have the required permissions for this endpoint on account 'acct_1'. Having the 'rak_charge_read' permission would allow this request to continue.";

describe('interpretProbe', () => {
  it.each<{ name: string; answer: ProbeAnswer | null; id?: string; then: string }>([
    { name: '200 → ok', answer: { status: 200 }, then: 'ok' },
    { name: '404 (the write probe\'s endpoint does not exist) → ok: past the permission check', answer: { status: 404, message: 'No such webhook endpoint' }, id: 'webhook_endpoints_write', then: 'ok' },
    { name: '400 → ok: past the permission check', answer: { status: 400, message: 'bad param' }, then: 'ok' },
    { name: '403 → missing', answer: { status: 403, message: stripe403 }, then: 'missing' },
    { name: '401 → unknown (the key itself is refused)', answer: { status: 401, message: 'Invalid API Key provided' }, then: 'unknown' },
    { name: '500 → unknown', answer: { status: 500 }, then: 'unknown' },
    { name: 'no answer → unknown', answer: { status: null, message: 'ECONNREFUSED' }, then: 'unknown' },
    { name: 'orders: no API left to probe → not_checkable', answer: null, id: 'orders_read', then: 'not_checkable' },
  ])('$name', ({ answer, id, then }) => {
    expect(interpretProbe(probe(id ?? 'charges_read'), answer).status).toBe(then);
  });

  it('keeps Stripe\'s words on a refusal, without the key', () => {
    const r = interpretProbe(probe('charges_read'), { status: 403, message: stripe403 });
    expect(r.detail).toContain("'rak_charge_read'");
    expect(r.detail).toContain('rk_test_[redacted]');
    expect(r.detail).not.toContain('abcdefghijkl');
  });
});

describe('permissionReport', () => {
  const key = { kind: 'restricted' as const, livemode: false };
  const answers = (over: Record<string, ProbeAnswer>) =>
    PERMISSION_PROBES.map((p) => interpretProbe(p, p.request ? over[p.id] ?? { status: 200 } : null));

  it('all granted → ok, nothing missing (orders cannot be checked and does not fail it)', () => {
    const r = permissionReport(key, answers({}));
    expect(r).toMatchObject({ ok: true, missing: [], problem: null });
    expect(r.permissions.find((p) => p.id === 'orders_read')!.status).toBe('not_checkable');
  });

  it('names exactly what to enable, once per Dashboard setting', () => {
    const r = permissionReport(key, answers({
      checkout_sessions_read: { status: 403 }, invoices_read: { status: 403 }, invoice_payments_read: { status: 403 }, webhook_endpoints_write: { status: 403 },
    }));
    expect(r.ok).toBe(false);
    expect(r.missing).toEqual([
      'Checkout resources → Checkout Sessions: Read',
      'Billing resources → Invoices: Read',
      'Webhook resources → Webhook Endpoints: Write',
    ]);
    expect(r.permissions.filter((p) => p.status === 'missing').map((p) => p.id))
      .toEqual(['checkout_sessions_read', 'invoices_read', 'invoice_payments_read', 'webhook_endpoints_write']);
  });

  it('a refused key is a problem, not a list of missing permissions', () => {
    const r = permissionReport(key, PERMISSION_PROBES.map((p) => interpretProbe(p, p.request ? { status: 401, message: 'Invalid API Key provided: rk_test_****1234' } : null)));
    expect(r.ok).toBe(false);
    expect(r.missing).toEqual([]);
    expect(r.problem).toMatch(/^Stripe refused the key itself \(401\)/);
  });
});

describe('parseStripeKey', () => {
  it.each([
    { given: 'rk_live_51Habcdefghijkl', then: { ok: true, key: { kind: 'restricted', livemode: true } } },
    { given: 'sk_test_51Habcdefghijkl', then: { ok: true, key: { kind: 'secret', livemode: false } } },
    { given: 'pk_live_51Habcdefghijkl', then: { ok: false, reason: expect.stringMatching(/publishable key/) } },
    { given: 'whsec_abc', then: { ok: false, reason: expect.stringMatching(/not a Stripe API key/) } },
  ])('$given', ({ given, then }) => expect(parseStripeKey(given)).toEqual(then));
});
