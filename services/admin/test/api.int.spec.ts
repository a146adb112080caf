import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pino from 'pino';
import type { FastifyInstance } from 'fastify';
import type pg from 'pg';
import {
  REDACT_PATHS, createPool, createSecretBox, loadDestinations, loadIntegrationSettings, loadWebhookAuth, migrate, parseKey,
} from '@sas/runtime';
import { TEST_SECRETS_KEY, randomWebhookSecret, stackEndpoints, uniqueId } from '@sas/testkit';
import { buildAdminApp } from '../src/api/app.js';

const token = `adm_${randomBytes(16).toString('hex')}`;
const box = createSecretBox(parseKey(TEST_SECRETS_KEY));
/** Every secret value this file sends: none may come back in a response, a log line or the audit trail. */
const secrets: string[] = [token];
const secret = (s: string) => { secrets.push(s); return s; };
const bodies: string[] = [];
const logLines: string[] = [];

let pool: pg.Pool;
let app: FastifyInstance;

type Method = 'GET' | 'POST' | 'PATCH' | 'PUT';
const call = async (method: Method, url: string, payload?: unknown, headers: Record<string, string> = {}) => {
  const r = await app.inject({ method, url, payload: payload as never, headers: { authorization: `Bearer ${token}`, 'x-actor': 'alice', ...headers } });
  bodies.push(r.body);
  return { status: r.statusCode, body: r.body ? (r.json() as Record<string, any>) : {} };
};

/** A request and the refusal it gets (url and body are built when the test runs). */
type Refusal = { name: string; method: Method; url: () => string; body: () => unknown; status: number; message: unknown };

const impactSettings = { accountSid: 'IRsid', campaignId: 1000, eventTypeId: '222', recurringEventTypeId: '333' };

beforeAll(async () => {
  const { databaseUrl, stripeApiBase } = stackEndpoints();
  const log = pino({ level: 'debug', redact: { paths: REDACT_PATHS, censor: '[redacted]' } }, { write: (line: string) => { logLines.push(line); } });
  await migrate(databaseUrl, log);
  pool = createPool(databaseUrl, 4);
  app = await buildAdminApp({
    pool, box, log,
    config: { ADMIN_TOKEN: token, STRIPE_API_BASE: stripeApiBase, PUBLIC_BASE_URL: 'http://127.0.0.1:3000', KAFKA_TOPIC_PREFIX: uniqueId('adm') },
  });
});
afterAll(async () => {
  await app?.close();
  await pool?.end();
});

describe('admin API: auth and the OpenAPI document', () => {
  it.each([
    { name: 'no token', headers: {} },
    { name: 'a wrong token', headers: { authorization: `Bearer ${token}x` } },
    { name: 'not a bearer token', headers: { authorization: `Basic ${token}` } },
  ])('401 with $name', async ({ headers }) => {
    const r = await app.inject({ method: 'GET', url: '/v1/integrations', headers });
    bodies.push(r.body);
    expect(r.statusCode).toBe(401);
  });

  it('serves /openapi.json listing every route', async () => {
    const r = await app.inject({ method: 'GET', url: '/openapi.json' });
    expect(r.statusCode).toBe(200);
    const paths = r.json().paths as Record<string, Record<string, unknown>>;
    const routes = Object.entries(paths).flatMap(([p, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${p}`));
    expect(routes).toEqual(expect.arrayContaining([
      'POST /v1/integrations', 'GET /v1/integrations', 'GET /v1/integrations/{integrationId}', 'PATCH /v1/integrations/{integrationId}',
      'POST /v1/integrations/{integrationId}/disable', 'POST /v1/integrations/{integrationId}/enable',
      'POST /v1/integrations/{integrationId}/destinations', 'GET /v1/integrations/{integrationId}/destinations',
      'GET /v1/integrations/{integrationId}/destinations/{destinationId}', 'PATCH /v1/integrations/{integrationId}/destinations/{destinationId}',
      'POST /v1/integrations/{integrationId}/destinations/{destinationId}/disable', 'POST /v1/integrations/{integrationId}/destinations/{destinationId}/enable',
      'POST /v1/integrations/{integrationId}/webhook-secrets', 'GET /v1/integrations/{integrationId}/webhook-secrets',
      'PUT /v1/integrations/{integrationId}/stripe-key', 'GET /v1/audit',
    ]));
  });
});

describe('admin API: integrations', () => {
  const id = uniqueId('adm-int-');

  it('create → get (no secrets) → update → disable → enable, and the services read each change', async () => {
    const created = await call('POST', '/v1/integrations', { id, name: 'Acme', refundHoldSeconds: 600, accounts: ['acct_2', 'acct_1'] });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ id, name: 'Acme', status: 'active', saleTrigger: 'invoice.paid', refundHoldSeconds: 600, chargeTracking: 'off',
      accounts: ['acct_1', 'acct_2'], hasStripeKey: false, activeWebhookSecrets: 0 });

    const key = secret(`rk_test_${randomBytes(12).toString('hex')}`);
    expect((await call('PUT', `/v1/integrations/${id}/stripe-key`, { key })).body).toMatchObject({ id, hasStripeKey: true });
    const sealed = await pool.query('SELECT stripe_key_ciphertext FROM integrations WHERE id = $1', [id]);
    expect(box.open(sealed.rows[0].stripe_key_ciphertext)).toBe(key);

    const got = await call('GET', `/v1/integrations/${id}`);
    expect(got.status).toBe(200);
    // eraseOnCustomerDeleted: the per-integration erasure setting (issue 21).
    expect(Object.keys(got.body).sort()).toEqual(['accounts', 'activeWebhookSecrets', 'chargeTracking', 'createdAt', 'eraseOnCustomerDeleted', 'hasStripeKey', 'id', 'name',
      'refundHoldSeconds', 'saleTrigger', 'status', 'updatedAt']);

    const newKey = secret(`rk_test_${randomBytes(12).toString('hex')}`);
    const updated = await call('PATCH', `/v1/integrations/${id}`, { name: 'Acme Inc', saleTrigger: 'invoice.payment_succeeded', chargeTracking: 'non_invoice', accounts: ['acct_3'], stripeKey: newKey });
    const resealed = await pool.query('SELECT stripe_key_ciphertext FROM integrations WHERE id = $1', [id]);
    expect(box.open(resealed.rows[0].stripe_key_ciphertext)).toBe(newKey);
    expect(updated.body).toMatchObject({ name: 'Acme Inc', saleTrigger: 'invoice.payment_succeeded', chargeTracking: 'non_invoice', refundHoldSeconds: 600, accounts: ['acct_3'] });
    expect(await loadIntegrationSettings(pool, id)).toMatchObject({ name: 'Acme Inc', saleTrigger: 'invoice.payment_succeeded', refundHoldSeconds: 600 });

    expect((await call('POST', `/v1/integrations/${id}/disable`)).body.status).toBe('disabled');
    expect((await loadWebhookAuth(pool, box, id))?.status).toBe('disabled');
    expect((await call('POST', `/v1/integrations/${id}/enable`)).body.status).toBe('active');
    expect(await loadWebhookAuth(pool, box, id)).toMatchObject({ status: 'active', accounts: ['acct_3'] });

    const list = await call('GET', '/v1/integrations');
    expect(list.body.integrations.find((i: { id: string }) => i.id === id)).toMatchObject({ name: 'Acme Inc', hasStripeKey: true });
  });

  it.each<Refusal>([
    { name: 'an id that exists → 409', method: 'POST' as const, url: () => '/v1/integrations', body: () => ({ id, name: 'again' }), status: 409, message: `integration ${id} exists already` },
    { name: 'an unknown integration → 404', method: 'GET' as const, url: () => '/v1/integrations/nope-404', body: () => undefined, status: 404, message: 'integration nope-404 does not exist' },
    { name: 'updating an unknown one → 404', method: 'PATCH' as const, url: () => '/v1/integrations/nope-404', body: () => ({ name: 'x' }), status: 404, message: 'integration nope-404 does not exist' },
    { name: 'disabling an unknown one → 404', method: 'POST' as const, url: () => '/v1/integrations/nope-404/disable', body: () => undefined, status: 404, message: 'integration nope-404 does not exist' },
    { name: 'no name → 400 naming it', method: 'POST' as const, url: () => '/v1/integrations', body: () => ({ id: uniqueId('adm-x-') }), status: 400, message: 'body.name is required' },
    { name: 'a misspelt field → 400 naming it', method: 'PATCH' as const, url: () => `/v1/integrations/${id}`, body: () => ({ saleTriger: 'invoice.paid' }), status: 400, message: 'body.saleTriger is not a known field' },
    { name: 'a negative hold → 400 naming it', method: 'PATCH' as const, url: () => `/v1/integrations/${id}`, body: () => ({ refundHoldSeconds: -1 }), status: 400, message: 'body.refundHoldSeconds must be >= 0' },
    { name: 'an unknown sale trigger → 400', method: 'PATCH' as const, url: () => `/v1/integrations/${id}`, body: () => ({ saleTrigger: 'charge.succeeded' }), status: 400, message: 'body.saleTrigger must be one of invoice.paid, invoice.payment_succeeded' },
    { name: 'an id not fit for a URL → 400', method: 'POST' as const, url: () => '/v1/integrations', body: () => ({ id: 'a:b', name: 'x' }), status: 400, message: expect.stringMatching(/^body\.id must match pattern/) },
    { name: 'a Stripe key that is not one → 400', method: 'PUT' as const, url: () => `/v1/integrations/${id}/stripe-key`, body: () => ({ key: 'pk_test_abc' }), status: 400, message: expect.stringMatching(/^body\.key must match pattern/) },
  ])('$name', async ({ method, url, body, status, message }) => {
    const r = await call(method, url(), body());
    expect({ status: r.status, message: r.body.message }).toEqual({ status, message });
  });
});

describe('admin API: destinations', () => {
  const id = uniqueId('adm-dst-');
  const destId = `${id}-impact`;
  const authToken = secret(`tok_${randomBytes(12).toString('hex')}`);
  beforeAll(async () => { expect((await call('POST', '/v1/integrations', { id, name: 'Dest Co' })).status).toBe(201); });

  it.each([
    { name: 'a missing setting', body: { settings: { ...impactSettings, campaignId: undefined }, credentials: { authToken: 'x' } }, message: 'settings.campaignId is required for impact' },
    { name: 'a missing credential', body: { settings: impactSettings }, message: 'credentials.authToken is required for impact' },
    { name: 'a setting of the wrong kind', body: { settings: { ...impactSettings, baseUrl: 'api.impact.com' }, credentials: { authToken: 'x' } }, message: 'settings.baseUrl must be an http(s) URL' },
    // Issue 14 item 6: integrations.impact.com/impact-brand/docs/impactcom-customer-email-hashing-explained
    { name: 'an email hashing impact does not document', body: { settings: { ...impactSettings, customerEmailHash: 'sha256' }, credentials: { authToken: 'x' } },
      message: 'settings.customerEmailHash must be one of sha1, off (impact matches CustomerEmail raw, as SHA-1 or as its HMAC; SHA-256 is not documented)' },
  ])('refuses an impact destination with $name, naming the field', async ({ body, message }) => {
    const r = await call('POST', `/v1/integrations/${id}/destinations`, { id: destId, type: 'impact', ...body });
    expect({ status: r.status, message: r.body.message }).toEqual({ status: 400, message });
  });

  it('add → get (credentials by name) → update (settings merged, credentials replaced) → disable → enable', async () => {
    const added = await call('POST', `/v1/integrations/${id}/destinations`, { id: destId, type: 'impact', settings: impactSettings, credentials: { authToken } });
    expect(added.status).toBe(201);
    expect(added.body).toMatchObject({ id: destId, integrationId: id, type: 'impact', enabled: true, settings: impactSettings, credentials: ['authToken'] });
    expect((await call('GET', `/v1/integrations/${id}/destinations/${destId}`)).body.credentials).toEqual(['authToken']);
    expect((await loadDestinations(pool, box, id))[0]?.credentials).toEqual({ authToken });

    const newToken = secret(`tok_${randomBytes(12).toString('hex')}`);
    const updated = await call('PATCH', `/v1/integrations/${id}/destinations/${destId}`, { settings: { eventTypeId: '999', dispositionCode: null }, credentials: { authToken: newToken } });
    expect(updated.body).toMatchObject({ settings: { ...impactSettings, eventTypeId: '999' }, credentials: ['authToken'] });
    const [seen] = await loadDestinations(pool, box, id);
    expect(seen).toMatchObject({ settings: { ...impactSettings, eventTypeId: '999' }, credentials: { authToken: newToken } });

    const removing = await call('PATCH', `/v1/integrations/${id}/destinations/${destId}`, { settings: { campaignId: null } });
    expect({ status: removing.status, message: removing.body.message }).toEqual({ status: 400, message: 'settings.campaignId is required for impact' });

    expect((await call('POST', `/v1/integrations/${id}/destinations/${destId}/disable`)).body.enabled).toBe(false);
    expect(await loadDestinations(pool, box, id)).toEqual([]);
    expect((await call('POST', `/v1/integrations/${id}/destinations/${destId}/enable`)).body.enabled).toBe(true);
    expect((await call('GET', `/v1/integrations/${id}/destinations`)).body.destinations.map((d: { id: string }) => d.id)).toEqual([destId]);
  });

  it.each<Refusal>([
    { name: 'a destination id that exists → 409', method: 'POST' as const, url: () => `/v1/integrations/${id}/destinations`,
      body: () => ({ id: destId, type: 'webhook', settings: { url: 'https://hooks.test/x' }, credentials: { signingSecret: 'x' } }), status: 409, message: `destination ${destId} exists already` },
    { name: 'a destination of an unknown integration → 404', method: 'POST' as const, url: () => '/v1/integrations/nope-404/destinations',
      body: () => ({ id: uniqueId('d'), type: 'webhook', settings: { url: 'https://hooks.test/x' }, credentials: { signingSecret: 'x' } }), status: 404, message: 'integration nope-404 does not exist' },
    { name: 'an unknown destination → 404', method: 'GET' as const, url: () => `/v1/integrations/${id}/destinations/nope`, body: () => undefined, status: 404, message: `destination nope of integration ${id} does not exist` },
    // Issue 15 class 6: where impact credits invoices neither first nor cycle is one of three choices.
    { name: 'a misspelt otherInvoiceSales → 400 naming the field and the values', method: 'PATCH' as const, url: () => `/v1/integrations/${id}/destinations/${destId}`,
      body: () => ({ settings: { otherInvoiceSales: 'recurring' } }), status: 400, message: 'settings.otherInvoiceSales must be one of recurringTracker, firstSaleTracker, skip' },
    // Issue 14: a destination breaking a partner's documented rule is refused, naming the field and the rule.
    { name: 'a Tracknow destination without its campaign id → 400 naming the field and the documented rule', method: 'POST' as const, url: () => `/v1/integrations/${id}/destinations`,
      body: () => ({ id: uniqueId('d'), type: 'tracknow', settings: { namespace: 'acme' } }), status: 400,
      message: 'settings.campaignId is required for tracknow: every documented Tracknow postback carries campaign_id, "required in certain types of integrations" (docs.tracknow.io/integrations/supported-parameters, docs.tracknow.io/payouts/lifetime-payout)' },
    { name: 'an Everflow destination without its network id → 400 naming the field and the documented rule', method: 'POST' as const, url: () => `/v1/integrations/${id}/destinations`,
      body: () => ({ id: uniqueId('d'), type: 'everflow', settings: { trackingDomain: 'track.example.com' } }), status: 400,
      message: 'settings.nid is required for everflow: an Everflow S2S postback carries the network id and the transaction id at a minimum (helpdesk.everflow.io/customer/accessing-editing-s2s-postback-urls)' },
    { name: 'an unknown type → 400', method: 'POST' as const, url: () => `/v1/integrations/${id}/destinations`, body: () => ({ id: uniqueId('d'), type: 'mailchimp' }), status: 400,
      message: 'body.type must be one of impact, partnerstack, everflow, tracknow, webhook, dry_run' },
  ])('$name', async ({ method, url, body, status, message }) => {
    const r = await call(method, url(), body());
    expect({ status: r.status, message: r.body.message }).toEqual({ status, message });
  });
});

describe('admin API: webhook signing secrets', () => {
  const id = uniqueId('adm-sec-');
  beforeAll(async () => { expect((await call('POST', '/v1/integrations', { id, name: 'Roll Co' })).status).toBe(201); });

  it('a manual roll: the older secret keeps verifying for 24 h by default, stops at once, or keeps no expiry', async () => {
    const s1 = secret(randomWebhookSecret());
    const s2 = secret(randomWebhookSecret());
    const s3 = secret(randomWebhookSecret());
    const first = await call('POST', `/v1/integrations/${id}/webhook-secrets`, { secret: s1 });
    expect(first.status).toBe(201);
    const second = await call('POST', `/v1/integrations/${id}/webhook-secrets`, { secret: s2 });
    const [old, fresh] = second.body.secrets as { id: string; expiresAt: string | null; active: boolean }[];
    expect(old).toMatchObject({ id: first.body.added.id, active: true });
    expect(Date.parse(old!.expiresAt!) - Date.now()).toBeGreaterThan(86_400_000 - 60_000);
    expect(fresh).toMatchObject({ id: second.body.added.id, expiresAt: null, active: true });
    expect((await loadWebhookAuth(pool, box, id))?.secrets).toEqual([s2, s1]);

    await call('POST', `/v1/integrations/${id}/webhook-secrets`, { secret: s3, expireOthersAfterSeconds: 0 });
    expect((await loadWebhookAuth(pool, box, id))?.secrets).toEqual([s3]);
    const listed = await call('GET', `/v1/integrations/${id}/webhook-secrets`);
    expect(listed.body.secrets.map((s: { active: boolean }) => s.active)).toEqual([false, false, true]);
    expect(Object.keys(listed.body.secrets[0]).sort()).toEqual(['active', 'createdAt', 'expiresAt', 'id']);
    expect((await call('GET', `/v1/integrations/${id}`)).body.activeWebhookSecrets).toBe(1);

    const s4 = secret(randomWebhookSecret());
    const kept = await call('POST', `/v1/integrations/${id}/webhook-secrets`, { secret: s4, expireOthersAfterSeconds: null });
    expect(kept.body.secrets.filter((s: { active: boolean }) => s.active).map((s: { expiresAt: string | null }) => s.expiresAt)).toEqual([null, null]);
    expect((await loadWebhookAuth(pool, box, id))?.secrets).toEqual([s4, s3]);
  });

  it('a manual roll leaves the secret of the endpoint sas registered in Stripe (rolled by sas stripe roll-secret)', async () => {
    const managed = secret(randomWebhookSecret());
    const added = await call('POST', `/v1/integrations/${id}/webhook-secrets`, { secret: managed, expireOthersAfterSeconds: null });
    await pool.query(
      `INSERT INTO stripe_webhook_endpoints (endpoint_id, integration_id, url, enabled_events, livemode, secret_id) VALUES ($1, $2, 'https://in.test/x', '{invoice.paid}', false, $3)`,
      [uniqueId('we_'), id, added.body.added.id]);
    const manual = secret(randomWebhookSecret());
    await call('POST', `/v1/integrations/${id}/webhook-secrets`, { secret: manual, expireOthersAfterSeconds: 0 });
    expect((await loadWebhookAuth(pool, box, id))?.secrets).toEqual([manual, managed]);
  });

  it('refuses a secret that is not a Stripe signing secret, naming the field', async () => {
    const r = await call('POST', `/v1/integrations/${id}/webhook-secrets`, { secret: 'hunter2' });
    expect({ status: r.status, message: r.body.message }).toEqual({ status: 400, message: expect.stringMatching(/^body\.secret must match pattern/) });
  });
});

describe('admin API: the audit trail', () => {
  const id = uniqueId('adm-aud-');
  const destId = `${id}-hook`;

  it('one row per change, with the actor and redacted before/after; a refused change writes none', async () => {
    const signingSecret = secret(`whsec_${randomBytes(18).toString('base64')}`);
    await call('POST', '/v1/integrations', { id, name: 'Audit Co', stripeKey: secret(`rk_test_${randomBytes(12).toString('hex')}`) }, { 'x-actor': '' });
    await call('POST', `/v1/integrations/${id}/destinations`, { id: destId, type: 'webhook', settings: { url: 'https://hooks.test/a' }, credentials: { signingSecret } });
    await call('PATCH', `/v1/integrations/${id}/destinations/${destId}`, { settings: { url: 'ftp://nope' } });
    await call('PATCH', `/v1/integrations/${id}/destinations/${destId}`, { credentials: { signingSecret: secret(`whsec_${randomBytes(18).toString('base64')}`) } });
    await call('PUT', `/v1/integrations/${id}/stripe-key`, { key: secret(`rk_live_${randomBytes(12).toString('hex')}`) });
    await call('POST', `/v1/integrations/${id}/disable`);

    const r = await call('GET', `/v1/audit?integrationId=${id}`);
    const entries = r.body.entries as { actor: string; action: string; target: string; before: any; after: any }[];
    expect(entries.map((e) => [e.actor, e.action, e.target])).toEqual([
      ['alice', 'integration.disable', `integration:${id}`],
      ['alice', 'stripe_key.set', `integration:${id}`],
      ['alice', 'destination.update', `destination:${destId}`],
      ['alice', 'destination.add', `destination:${destId}`],
      ['admin-api', 'integration.create', `integration:${id}`],
    ]);
    const [disable, key, update, add, create] = entries;
    expect(create!.after).toMatchObject({ id, hasStripeKey: true, stripeKey: '(write-only)' });
    expect([disable!.before.status, disable!.after.status]).toEqual(['active', 'disabled']);
    expect(key!.after).toEqual({ hasStripeKey: true, stripeKey: '(write-only)' });
    expect(update!.before.credentials).toEqual({ signingSecret: '(write-only)' });
    expect(update!.after).toMatchObject({ credentials: { signingSecret: '(write-only)' }, credentialsReplaced: true });
    expect(add!.after).toMatchObject({ id: destId, settings: { url: 'https://hooks.test/a' }, credentials: { signingSecret: '(write-only)' } });
  });
});

describe('admin API: secrets stay write-only', () => {
  it('no secret value in any response body, log line or audit row', async () => {
    const { rows } = await pool.query<{ t: string }>(`SELECT row_to_json(a)::text AS t FROM admin_audit a WHERE integration_id LIKE 'adm-%' ORDER BY id DESC LIMIT 2000`);
    // The check must have material to look at: responses, the changes' log lines, audit rows.
    expect(bodies.length).toBeGreaterThan(40);
    expect(logLines.filter((l) => l.includes('admin change')).length).toBeGreaterThan(15);
    expect(rows.length).toBeGreaterThan(15);
    const places = [...bodies.map((b) => ['response', b]), ...logLines.map((l) => ['log', l]), ...rows.map((r) => ['audit', r.t])];
    const leaks = places.flatMap(([where, text]) => secrets.filter((s) => text!.includes(s)).map((s) => `${where}: ${s.slice(0, 8)}…`));
    expect(leaks).toEqual([]);
  });
});
