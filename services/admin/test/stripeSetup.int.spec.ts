import { randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pino from 'pino';
import type { FastifyInstance } from 'fastify';
import type pg from 'pg';
import { createPool, createSecretBox, loadWebhookAuth, migrate, parseKey } from '@sas/runtime';
import { TEST_SECRETS_KEY, randomWebhookSecret, runSas, stackEndpoints, stripeSignature, uniqueId } from '@sas/testkit';
import { buildAdminApp } from '../src/api/app.js';
import { verifyWebhook } from '../../ingest/src/core/verifyWebhook.js';

/**
 * stripe-mock answers every key alike and from fixed fixtures, so a small proxy in front of it
 * models three things it cannot: the signing secret Stripe returns on creation (stripe-mock's
 * fixture omits it, the field being optional in Stripe's spec), a restricted key without some
 * permissions (Stripe's 403 permission error body), and an account that already has 16
 * endpoints. Everything else goes to stripe-mock, which validates each request against Stripe's
 * OpenAPI spec.
 */
const NO_CHECKOUT_KEY = 'rk_test_sasNoCheckoutNoWebhooks1';
const FULL_ACCOUNT_KEY = 'rk_test_sasSixteenEndpoints1';
const GOOD_KEY = 'rk_test_sasAllPermissions12345';

interface ProxyLog { readonly method: string; readonly path: string; readonly key: string }

const startStripeProxy = async (upstream: string) => {
  const calls: ProxyLog[] = [];
  const secretsByEndpoint = new Map<string, string>();
  const server = http.createServer((req, res) => {
    const key = (req.headers.authorization ?? '').replace(/^Bearer /, '');
    const path = (req.url ?? '').split('?')[0]!;
    calls.push({ method: req.method!, path, key });
    const json = (status: number, body: unknown) => { res.writeHead(status, { 'content-type': 'application/json' }); res.end(JSON.stringify(body)); };
    if (key === NO_CHECKOUT_KEY && (path === '/v1/checkout/sessions' || (req.method === 'POST' && path.startsWith('/v1/webhook_endpoints')))) {
      const perm = path === '/v1/checkout/sessions' ? 'rak_checkout_session_read' : 'rak_webhook_write';
      return json(403, { error: {
        type: 'invalid_request_error',
        message: `The provided key '${key.slice(0, 8)}****${key.slice(-4)}' does not have the required permissions for this endpoint on account 'acct_1Sas'. Having the '${perm}' permission would allow this request to continue.`,
      } });
    }
    if (key === FULL_ACCOUNT_KEY && req.method === 'GET' && path === '/v1/webhook_endpoints') {
      const data = Array.from({ length: 16 }, (_, i) => ({
        id: `we_full${i}`, object: 'webhook_endpoint', url: `https://other${i}.example/hook`, enabled_events: i === 3 ? ['*'] : ['charge.succeeded'],
        status: 'enabled', api_version: null, application: null, created: 1_700_000_000, description: null, livemode: false, metadata: {},
      }));
      return json(200, { object: 'list', url: '/v1/webhook_endpoints', has_more: false, data });
    }
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const up = http.request(`${upstream}${req.url}`, { method: req.method, headers: { ...req.headers, host: new URL(upstream).host } }, (ur) => {
        const body: Buffer[] = [];
        ur.on('data', (c: Buffer) => body.push(c));
        ur.on('end', () => {
          let out = Buffer.concat(body);
          if (req.method === 'POST' && path === '/v1/webhook_endpoints' && ur.statusCode === 200) {
            const e = JSON.parse(out.toString()) as { id: string };
            const secret = randomWebhookSecret();
            secretsByEndpoint.set(e.id, secret);
            out = Buffer.from(JSON.stringify({ ...e, secret }));
          }
          res.writeHead(ur.statusCode ?? 502, { 'content-type': 'application/json' });
          res.end(out);
        });
      });
      up.on('error', (err) => json(502, { error: { type: 'api_error', message: String(err) } }));
      up.end(Buffer.concat(chunks));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, calls, secretsByEndpoint, close: () => new Promise<void>((r) => server.close(() => r())) };
};

const token = `adm_${randomBytes(16).toString('hex')}`;
const box = createSecretBox(parseKey(TEST_SECRETS_KEY));
const logLines: string[] = [];
let pool: pg.Pool;
let app: FastifyInstance;
let proxy: Awaited<ReturnType<typeof startStripeProxy>>;
let env: NodeJS.ProcessEnv;
const outputs: string[] = [];

const sas = async (args: string[], extra: NodeJS.ProcessEnv = {}) => {
  const r = await runSas(args, { ...env, ...extra });
  outputs.push(r.stdout, r.stderr);
  return r;
};

const newIntegration = async (destinations: { type: string; settings: Record<string, unknown> }[]) => {
  const id = uniqueId('stripe');
  await pool.query(`INSERT INTO integrations (id, name) VALUES ($1, $1)`, [id]);
  for (const [i, d] of destinations.entries()) {
    await pool.query(`INSERT INTO destinations (id, integration_id, type, settings) VALUES ($1, $2, $3, $4)`, [`${id}-d${i}`, id, d.type, JSON.stringify(d.settings)]);
  }
  return id;
};

/** What ingest does with a delivery: the integration's active secrets, then the signature check. */
const ingestAccepts = async (integrationId: string, secret: string): Promise<boolean> => {
  const auth = await loadWebhookAuth(pool, box, integrationId);
  const raw = JSON.stringify({ id: `evt_${randomBytes(6).toString('hex')}`, object: 'event', type: 'invoice.paid', api_version: '2025-03-31.basil', created: Math.floor(Date.now() / 1000), livemode: false, data: { object: { id: 'in_1' } } });
  return verifyWebhook({
    raw: Buffer.from(raw), signatureHeader: stripeSignature(raw, secret), secrets: auth?.secrets ?? [], toleranceSeconds: 300, nowMs: Date.now(), connectedAccounts: [],
  }).ok;
};

beforeAll(async () => {
  const { databaseUrl, stripeApiBase } = stackEndpoints();
  const log = pino({ level: 'debug' }, { write: (line: string) => { logLines.push(line); } });
  await migrate(databaseUrl, log);
  pool = createPool(databaseUrl, 4);
  proxy = await startStripeProxy(stripeApiBase);
  app = await buildAdminApp({
    pool, box, log,
    config: { ADMIN_TOKEN: token, STRIPE_API_BASE: proxy.url, PUBLIC_BASE_URL: 'https://hooks.example', KAFKA_TOPIC_PREFIX: uniqueId('adm') },
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  env = { SAS_API_URL: `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`, SAS_ADMIN_TOKEN: token, USER: 'alice', STRIPE_KEY: GOOD_KEY };
});
afterAll(async () => {
  await app?.close();
  await proxy?.close();
  await pool?.end();
});

describe('sas stripe: check, connect, roll against stripe-mock', () => {
  let integrationId: string;
  let firstEndpoint: string;
  let firstSecret: string;

  it('check: every permission ok, Orders named as not checkable', async () => {
    integrationId = await newIntegration([{ type: 'impact', settings: { accountSid: 'IRsid', campaignId: 1, eventTypeId: '2', recurringEventTypeId: '3' } }]);
    const r = await sas(['stripe', 'check', integrationId, '--key', '@env:STRIPE_KEY']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Stripe key: restricted, test mode');
    expect(r.stdout).toMatch(/^ {2}ok {7}Core resources → Charges: Read/m);
    expect(r.stdout).toMatch(/^ {2}ok {7}Webhook resources → Webhook Endpoints: Write/m);
    expect(r.stdout).toMatch(/^ {2}n\/a {6}Orders resources: Read/m);
    // The write probe updated an id that does not exist; nothing was created or deleted.
    expect(proxy.calls.filter((c) => c.key === GOOD_KEY && c.method !== 'GET').map((c) => c.path)).toEqual(['/v1/webhook_endpoints/we_sas_permission_probe']);
  });

  it('connect: registers the endpoint with the events impact needs, stores the sealed key and the signing secret ingest then accepts', async () => {
    const r = await sas(['--json', 'stripe', 'connect', integrationId, '--key', '@env:STRIPE_KEY']);
    expect(r.code).toBe(0);
    const out = r.json<{ url: string; endpoint: { id: string; action: string; enabledEvents: string[] } }>();
    expect(out.url).toBe(`https://hooks.example/webhooks/stripe/${integrationId}`);
    // customer.deleted: the integration erases deleted customers (erase_on_customer_deleted, on by default; issue 21).
    expect(out.endpoint).toMatchObject({ action: 'created', enabledEvents: ['charge.refunded', 'checkout.session.async_payment_succeeded', 'checkout.session.completed', 'customer.deleted', 'invoice.paid'] });
    firstEndpoint = out.endpoint.id;
    firstSecret = proxy.secretsByEndpoint.get(firstEndpoint)!;
    expect(firstSecret).toMatch(/^whsec_/);

    const { rows } = await pool.query(`SELECT stripe_key_ciphertext FROM integrations WHERE id = $1`, [integrationId]);
    expect(box.open(rows[0].stripe_key_ciphertext)).toBe(GOOD_KEY);
    expect(await ingestAccepts(integrationId, firstSecret)).toBe(true);
    expect(await ingestAccepts(integrationId, randomWebhookSecret())).toBe(false);
  });

  it('connect again with the stored key: the same endpoint brought up to date, no new secret', async () => {
    // stripe-mock answers a retrieve with its fixture (another URL and events), so this is an update.
    const r = await app.inject({ method: 'POST', url: `/v1/integrations/${integrationId}/stripe/connect`, headers: { authorization: `Bearer ${token}`, 'x-actor': 'alice' }, payload: {} });
    outputs.push(r.body);
    expect(r.statusCode).toBe(200);
    expect(r.json()).toMatchObject({ endpoint: { id: firstEndpoint, action: 'updated' } });
    expect(proxy.calls.at(-1)).toEqual({ method: 'POST', path: `/v1/webhook_endpoints/${firstEndpoint}`, key: GOOD_KEY });
    expect((await loadWebhookAuth(pool, box, integrationId))!.secrets).toEqual([firstSecret]);
  });

  it('roll-secret: a new endpoint and secret; the old secret stays accepted until the window ends', async () => {
    const before = Date.now();
    const r = await sas(['--json', 'stripe', 'roll-secret', integrationId, '--window', '2h']);
    expect(r.code).toBe(0);
    const out = r.json<{ newEndpointId: string; oldEndpointId: string; oldSecretExpiresAt: string; windowSeconds: number }>();
    expect(out).toMatchObject({ oldEndpointId: firstEndpoint, windowSeconds: 7200 });
    const newSecret = proxy.secretsByEndpoint.get(out.newEndpointId)!;
    expect(newSecret).toBeDefined();
    expect(newSecret).not.toBe(firstSecret);

    const auth = await loadWebhookAuth(pool, box, integrationId);
    expect(auth!.secrets).toEqual([newSecret, firstSecret]);
    expect(await ingestAccepts(integrationId, firstSecret)).toBe(true);
    expect(await ingestAccepts(integrationId, newSecret)).toBe(true);
    const { rows } = await pool.query<{ expires_at: Date | null }>(
      `SELECT s.expires_at FROM webhook_secrets s JOIN stripe_webhook_endpoints e ON e.secret_id = s.id WHERE e.endpoint_id = $1`, [firstEndpoint]);
    const expires = rows[0]!.expires_at!.getTime();
    expect(expires).toBeGreaterThanOrEqual(before + 7_200_000 - 1000);
    expect(expires).toBeLessThanOrEqual(Date.now() + 7_200_000 + 1000);

    const shown = await sas(['stripe', 'show', integrationId]);
    expect(shown.stdout).toContain(`${firstEndpoint}  test  retires ${new Date(expires).toISOString()}`);
    expect(shown.stdout).toContain(`${out.newEndpointId}  test  current`);
  });

  it('finish-roll --now: deletes the old endpoint from Stripe; its secret is no longer accepted', async () => {
    const r = await sas(['stripe', 'finish-roll', integrationId, '--now']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`Deleted ${firstEndpoint}; their secrets are no longer accepted.`);
    expect(proxy.calls).toContainEqual({ method: 'DELETE', path: `/v1/webhook_endpoints/${firstEndpoint}`, key: GOOD_KEY });
    expect(await ingestAccepts(integrationId, firstSecret)).toBe(false);
    expect((await loadWebhookAuth(pool, box, integrationId))!.secrets).toHaveLength(1);
  });

  it('audits connect, roll and retirement without a key or secret', async () => {
    const { rows } = await pool.query<{ actor: string; action: string; before: unknown; after: unknown }>(
      `SELECT actor, action, before, after FROM admin_audit WHERE integration_id = $1 ORDER BY id`, [integrationId]);
    expect(rows.map((x) => `${x.actor} ${x.action}`)).toEqual(['alice stripe.connect', 'alice stripe.connect', 'alice stripe.roll_secret', 'alice stripe.endpoint_retired']);
    expect(rows[0]!.after).toMatchObject({ stripeKey: '(write-only)', signingSecret: '(write-only)' });
    // The update's before is the endpoint as Stripe had it (stripe-mock's fixture).
    expect(rows[1]!.before).toMatchObject({ endpointId: firstEndpoint, url: 'https://example.com/my/webhook/endpoint' });
  });
});

describe('sas stripe: what stripe-mock cannot show (modelled by the proxy)', () => {
  it('a key without Checkout and webhook write: check names exactly those, exit 1; connect changes nothing', async () => {
    const id = await newIntegration([{ type: 'tracknow', settings: { namespace: 'acme', campaignId: '1' } }]);
    const calls = proxy.calls.length;
    const check = await sas(['stripe', 'check', id, '--key', '@env:K'], { K: NO_CHECKOUT_KEY });
    expect(check.code).toBe(1);
    expect(check.stdout).toMatch(/^ {2}MISSING {2}Checkout resources → Checkout Sessions: Read/m);
    expect(check.stdout).toMatch(/^ {2}MISSING {2}Webhook resources → Webhook Endpoints: Write/m);
    expect(check.stdout).toContain("Stripe: The provided key 'rk_test_[redacted]' does not have the required permissions for this endpoint on account 'acct_1Sas'. Having the 'rak_checkout_session_read' permission would allow this request to continue.");
    expect(check.stdout.match(/MISSING/g)).toHaveLength(2);
    expect(check.stderr).toBe('sas: the key lacks 2 permissions: Checkout resources → Checkout Sessions: Read; Webhook resources → Webhook Endpoints: Write\n');

    const conn = await app.inject({ method: 'POST', url: `/v1/integrations/${id}/stripe/connect`, headers: { authorization: `Bearer ${token}` }, payload: { key: NO_CHECKOUT_KEY } });
    outputs.push(conn.body);
    expect(conn.statusCode).toBe(422);
    expect(conn.json()).toMatchObject({
      error: 'missing_permissions',
      message: expect.stringMatching(/^the key lacks: Checkout resources → Checkout Sessions: Read; Webhook resources → Webhook Endpoints: Write\. Edit the restricted key/),
      details: { ok: false, missing: ['Checkout resources → Checkout Sessions: Read', 'Webhook resources → Webhook Endpoints: Write'] },
    });
    expect(proxy.calls.slice(calls).filter((c) => c.method === 'POST' && c.path === '/v1/webhook_endpoints')).toEqual([]);
    const { rows } = await pool.query(`SELECT stripe_key_ciphertext FROM integrations WHERE id = $1`, [id]);
    expect(rows[0].stripe_key_ciphertext).toBeNull();
  });

  it('an account with 16 endpoints: connect explains the limit and lists them, creates nothing', async () => {
    const id = await newIntegration([]);
    const calls = proxy.calls.length;
    const r = await sas(['stripe', 'connect', id, '--key', '@env:K'], { K: FULL_ACCOUNT_KEY });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^sas: the Stripe account already has 16 webhook endpoints, Stripe's limit is 16, and registering this integration's endpoint needs one more\. Delete an endpoint you no longer use, then run connect again/);
    expect(r.stderr).toContain('  we_full3  https://other3.example/hook  enabled  [*]');
    expect(r.stderr.match(/^ {2}we_full\d+/gm)).toHaveLength(16);
    expect(proxy.calls.slice(calls).filter((c) => c.method === 'POST' && c.path === '/v1/webhook_endpoints')).toEqual([]);
  });

});

describe('admin API against stripe-mock itself', () => {
  it('stripe-mock returns no signing secret on create: connect deletes the endpoint again and stores nothing (502)', async () => {
    const direct = await buildAdminApp({
      pool, box, log: pino({ level: 'silent' }),
      config: { ADMIN_TOKEN: token, STRIPE_API_BASE: stackEndpoints().stripeApiBase, PUBLIC_BASE_URL: 'https://hooks.example', KAFKA_TOPIC_PREFIX: 'x' },
    });
    try {
      const id = await newIntegration([]);
      const r = await direct.inject({ method: 'POST', url: `/v1/integrations/${id}/stripe/connect`, headers: { authorization: `Bearer ${token}` }, payload: { key: GOOD_KEY } });
      expect(r.statusCode).toBe(502);
      expect(r.json()).toMatchObject({ error: 'no_signing_secret' });
      const { rows } = await pool.query(`SELECT (SELECT count(*)::int FROM stripe_webhook_endpoints WHERE integration_id = $1) AS endpoints, (SELECT count(*)::int FROM webhook_secrets WHERE integration_id = $1) AS secrets`, [id]);
      expect(rows[0]).toEqual({ endpoints: 0, secrets: 0 });
    } finally {
      await direct.close();
    }
  });
});

describe('no key or signing secret leaves the admin API', () => {
  it('in any output or log line', () => {
    const text = [...outputs, ...logLines].join('\n');
    for (const s of [GOOD_KEY, NO_CHECKOUT_KEY, FULL_ACCOUNT_KEY, ...proxy.secretsByEndpoint.values()]) expect(text).not.toContain(s);
  });
});
