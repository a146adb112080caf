import { describe, expect, it } from 'vitest';
import { invoicePaidEvent, stripeSignature, stripeSignatureMulti } from '@sas/testkit';
import { verifyWebhook } from './verifyWebhook.js';

const NOW = 1_764_000_000_000;
const OLD = 'whsec_old_secret_value';
const NEW = 'whsec_new_secret_value';
const event = invoicePaidEvent({ eventId: 'evt_fixed' });
const body = JSON.stringify(event);
const sec = NOW / 1000;

const run = (o: { raw?: string; header?: string | undefined; secrets?: string[]; accounts?: string[] }) =>
  verifyWebhook({
    raw: Buffer.from(o.raw ?? body),
    signatureHeader: 'header' in o ? o.header : stripeSignature(o.raw ?? body, NEW, sec),
    secrets: o.secrets ?? [NEW],
    toleranceSeconds: 300,
    nowMs: NOW,
    connectedAccounts: o.accounts ?? [],
  });

describe('verifyWebhook', () => {
  it('accepts a body signed with the active secret and returns the event', () => {
    const r = run({});
    expect(r.ok && r.event.id).toBe('evt_fixed');
  });

  it.each([
    { name: 'no header', o: { header: undefined }, reason: 'missing_signature' },
    { name: 'garbage header', o: { header: 'nonsense' }, reason: 'malformed_signature' },
    { name: 'other secret', o: { header: stripeSignature(body, 'whsec_attacker', sec) }, reason: 'signature_mismatch' },
    { name: 'body changed by one byte', o: { header: stripeSignature(body, NEW, sec), raw: body.replace('evt_fixed', 'evt_fixeD') }, reason: 'signature_mismatch' },
    { name: 'signed 301 s ago', o: { header: stripeSignature(body, NEW, sec - 301) }, reason: 'stale_timestamp' },
    { name: 'integration without secrets', o: { secrets: [] }, reason: 'signature_mismatch' },
    { name: 'signed non-JSON', o: { raw: 'not json', header: stripeSignature('not json', NEW, sec) }, reason: 'invalid_json' },
    { name: 'signed JSON that is not an event', o: { raw: '{"id":"x"}', header: stripeSignature('{"id":"x"}', NEW, sec) }, reason: 'not_an_event' },
  ])('rejects $name as $reason', ({ o, reason }) => {
    const r = run(o);
    expect(r.ok ? 'accepted' : r.reason).toBe(reason);
  });

  it('accepts a signature 299 s old (within tolerance)', () => {
    expect(run({ header: stripeSignature(body, NEW, sec - 299) }).ok).toBe(true);
  });

  it.each([
    { name: 'old secret only', header: () => stripeSignature(body, OLD, sec) },
    { name: 'new secret only', header: () => stripeSignature(body, NEW, sec) },
    { name: 'both, as Stripe sends during a roll', header: () => stripeSignatureMulti(body, [OLD, NEW], sec) },
  ])('while a secret is rolled, accepts $name', ({ header }) => {
    expect(run({ header: header(), secrets: [NEW, OLD] }).ok).toBe(true);
  });

  it('accepts Connect events only for accounts the integration owns', () => {
    const connected = JSON.stringify(invoicePaidEvent({ account: 'acct_owned' }));
    const foreign = JSON.stringify(invoicePaidEvent({ account: 'acct_other' }));
    expect(run({ raw: connected, header: stripeSignature(connected, NEW, sec), accounts: ['acct_owned'] }).ok).toBe(true);
    const r = run({ raw: foreign, header: stripeSignature(foreign, NEW, sec), accounts: ['acct_owned'] });
    expect(r.ok ? 'accepted' : r.reason).toBe('account_not_connected');
  });
});
