import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Kafka, logLevel } from 'kafkajs';
import { RawEventHeaders, topicName } from '@sas/contracts';
import { REDACT_PATHS, createIntegration, createPool, createSecretBox, loadConfig, migrate, parseKey } from '@sas/runtime';
import {
  TEST_SECRETS_KEY, invoicePaidEvent, randomWebhookSecret, serviceEnv, stackEndpoints, stripeSignature,
  stripeSignatureMulti, uniqueId,
} from '@sas/testkit';
import pino from 'pino';
import { ingestEnv, startIngest, type RunningIngest } from '../src/index.js';

/** Ingest against the real broker and PostgreSQL: every answer, and what reached the topic. */
describe('ingest gateway', () => {
  const prefix = `${uniqueId('ing')}.`;
  const integrationId = uniqueId('int_');
  const disabledId = uniqueId('int_');
  const oldSecret = randomWebhookSecret();
  const newSecret = randomWebhookSecret();
  const topic = topicName('stripeEvents', prefix);
  let ingest: RunningIngest;
  let kafka: Kafka;
  let accepted = 0;
  const logLines: string[] = [];

  const recordsInTopic = async (): Promise<number> => {
    const admin = kafka.admin();
    await admin.connect();
    try {
      const offsets = await admin.fetchTopicOffsets(topic);
      return offsets.reduce((n, p) => n + Number(p.high) - Number(p.low), 0);
    } finally {
      await admin.disconnect();
    }
  };

  beforeAll(async () => {
    const env = serviceEnv(prefix, { INGEST_PORT: '0', MAX_BODY_BYTES: String(64 * 1024), SECRETS_CACHE_MS: '300' });
    // Everything ingest logs, at debug level, is kept to check that no secret leaks into it.
    const log = pino({ level: 'debug', redact: { paths: REDACT_PATHS, censor: '[redacted]' } }, { write: (l: string) => { logLines.push(l); } });
    await migrate(stackEndpoints().databaseUrl, log);
    const pool = createPool(stackEndpoints().databaseUrl);
    const box = createSecretBox(parseKey(TEST_SECRETS_KEY));
    await createIntegration(pool, box, { id: integrationId, name: 'Ingest test', webhookSecrets: [oldSecret, newSecret], accounts: ['acct_owned'] });
    await createIntegration(pool, box, { id: disabledId, name: 'Disabled', webhookSecrets: [newSecret] });
    await pool.query(`UPDATE integrations SET status = 'disabled' WHERE id = $1`, [disabledId]);
    await pool.end();
    ingest = await startIngest(loadConfig(ingestEnv, env), log);
    kafka = new Kafka({ brokers: [stackEndpoints().kafkaBrokers], logLevel: logLevel.NOTHING });
  });
  afterAll(async () => {
    await ingest?.stop();
  });

  const inject = async (p: { body: string | Buffer; headers?: Record<string, string>; method?: 'POST' | 'GET' | 'PUT'; id?: string }) => {
    const res = await ingest.app.inject({
      method: p.method ?? 'POST',
      url: `/webhooks/stripe/${p.id ?? integrationId}`,
      headers: { 'content-type': 'application/json', ...p.headers },
      payload: p.body,
    });
    if (res.statusCode === 200) accepted++;
    return res;
  };
  const signed = (body: string, secret = newSecret, t?: number) => ({ 'stripe-signature': stripeSignature(body, secret, t) });

  it('writes a verified event unchanged, keyed per the contract, with its headers, and answers 200', async () => {
    const event = invoicePaidEvent({ customer: 'cus_key', account: 'acct_owned' });
    const body = JSON.stringify(event, null, 1);
    const res = await inject({ body, headers: signed(body) });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ received: true, id: event.id });

    const consumer = kafka.consumer({ groupId: uniqueId('g') });
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    const record = await new Promise<{ key: string; value: string; headers: Record<string, string> }>((resolve) => {
      void consumer.run({
        eachMessage: async ({ message }) => {
          const headers = Object.fromEntries(Object.entries(message.headers ?? {}).map(([k, v]) => [k, String(v)]));
          if (headers[RawEventHeaders.eventId] === event.id) resolve({ key: String(message.key), value: message.value!.toString(), headers });
        },
      });
    });
    await consumer.disconnect();
    expect(record.value).toBe(body);
    expect(record.key).toBe(`${integrationId}:acct_owned:cus_key`);
    expect(record.headers).toMatchObject({
      [RawEventHeaders.integrationId]: integrationId, [RawEventHeaders.eventType]: 'invoice.paid',
      [RawEventHeaders.apiVersion]: event.api_version, [RawEventHeaders.livemode]: 'false', [RawEventHeaders.account]: 'acct_owned',
    });
    expect(Number(record.headers[RawEventHeaders.receivedAt])).toBeGreaterThan(Date.now() - 60_000);
  });

  it.each([
    { name: 'old secret during a roll', sign: (b: string) => ({ 'stripe-signature': stripeSignature(b, oldSecret) }) },
    { name: 'new secret during a roll', sign: (b: string) => ({ 'stripe-signature': stripeSignature(b, newSecret) }) },
    { name: 'both signatures, as Stripe sends them', sign: (b: string) => ({ 'stripe-signature': stripeSignatureMulti(b, [oldSecret, newSecret]) }) },
  ])('accepts $name', async ({ sign }) => {
    const body = JSON.stringify(invoicePaidEvent());
    expect((await inject({ body, headers: sign(body) })).statusCode).toBe(200);
  });

  it('accepts a duplicate delivery again (the mapper dedupes)', async () => {
    const body = JSON.stringify(invoicePaidEvent());
    expect((await inject({ body, headers: signed(body) })).statusCode).toBe(200);
    expect((await inject({ body, headers: signed(body) })).statusCode).toBe(200);
  });

  it.each([
    { name: 'missing signature', req: (b: string) => ({ body: b }), status: 400, reason: 'missing_signature' },
    { name: 'signature by another secret', req: (b: string) => ({ body: b, headers: signed(b, randomWebhookSecret()) }), status: 400, reason: 'signature_mismatch' },
    { name: 'stale timestamp', req: (b: string) => ({ body: b, headers: signed(b, newSecret, Math.floor(Date.now() / 1000) - 301) }), status: 400, reason: 'stale_timestamp' },
    { name: 'malformed header', req: (b: string) => ({ body: b, headers: { 'stripe-signature': 'v1=,t=' } }), status: 400, reason: 'malformed_signature' },
    { name: 'signed body that is not JSON', req: () => ({ body: '{"id": evt_', headers: signed('{"id": evt_') }), status: 400, reason: 'invalid_json' },
    { name: 'Connect event of an account not owned', req: () => { const b = JSON.stringify(invoicePaidEvent({ account: 'acct_stranger' })); return { body: b, headers: signed(b) }; }, status: 403, reason: 'account_not_connected' },
  ])('answers $status ($reason) to $name and writes nothing', async ({ req, status, reason }) => {
    const before = await recordsInTopic();
    const res = await inject(req(JSON.stringify(invoicePaidEvent())));
    expect(res.statusCode).toBe(status);
    expect(res.json()).toMatchObject({ reason });
    expect(await recordsInTopic()).toBe(before);
  });

  it.each([
    { name: 'unknown integration', req: () => { const b = JSON.stringify(invoicePaidEvent()); return { body: b, headers: signed(b), id: 'int_nope' }; }, status: 404 },
    { name: 'disabled integration', req: () => { const b = JSON.stringify(invoicePaidEvent()); return { body: b, headers: signed(b), id: disabledId }; }, status: 404 },
    { name: 'body over the limit', req: () => { const b = JSON.stringify({ ...invoicePaidEvent(), pad: 'x'.repeat(70 * 1024) }); return { body: b, headers: signed(b) }; }, status: 413 },
    { name: 'wrong method', req: () => ({ body: '', method: 'GET' as const }), status: 405 },
    { name: 'wrong content type', req: () => { const b = JSON.stringify(invoicePaidEvent()); return { body: b, headers: { ...signed(b), 'content-type': 'text/plain' } }; }, status: 415 },
    { name: 'empty body', req: () => ({ body: '', headers: signed('') }), status: 400 },
  ])('answers $status to $name and writes nothing', async ({ req, status }) => {
    const before = await recordsInTopic();
    expect((await inject(req())).statusCode).toBe(status);
    expect(await recordsInTopic()).toBe(before);
  });

  it('10,000 malformed or mis-signed requests: no crash, a 4xx each, nothing written', async () => {
    const before = await recordsInTopic();
    const valid = JSON.stringify(invoicePaidEvent());
    const now = Math.floor(Date.now() / 1000);
    const sigOf = (b: string) => stripeSignature(b, newSecret, now);
    // Each generator yields a request and the statuses it may get: all must be refusals.
    const attack = fc.oneof(
      fc.string({ maxLength: 300 }).map((body) => ({ body, headers: { 'stripe-signature': sigOf(valid) }, ok: [400] })),
      fc.uint8Array({ minLength: 1, maxLength: 300 }).map((bytes) => ({ body: Buffer.from(bytes), headers: { 'stripe-signature': sigOf(valid) }, ok: [400] })),
      fc.string({ maxLength: 200 }).map((sig) => ({ body: valid, headers: { 'stripe-signature': sig }, ok: [400] })),
      fc.nat({ max: valid.length - 1 }).chain((i) => fc.integer({ min: 1, max: 255 }).map((d) => {
        const b = Buffer.from(valid);
        b[i] = (b[i]! + d) % 256; // one byte changed after signing
        return { body: b, headers: { 'stripe-signature': sigOf(valid) }, ok: [400] };
      })),
      fc.integer({ min: 301, max: 10 ** 7 }).map((age) => ({ body: valid, headers: { 'stripe-signature': stripeSignature(valid, newSecret, now - age) }, ok: [400] })),
      fc.jsonValue().map((v) => { const b = JSON.stringify(v) ?? 'null'; return { body: b, headers: { 'stripe-signature': sigOf(b) }, ok: [400] }; }),
      fc.constantFrom('text/plain', 'application/xml', 'multipart/form-data; boundary=x', 'application/x-www-form-urlencoded')
        .map((ct) => ({ body: valid, headers: { 'stripe-signature': sigOf(valid), 'content-type': ct }, ok: [400, 415] })),
    );
    const samples = fc.sample(attack, { numRuns: 10_000, seed: 20261125 });
    const seen = new Map<number, number>();
    for (let i = 0; i < samples.length; i += 200) {
      const results = await Promise.all(samples.slice(i, i + 200).map(async (s) => ({ s, res: await inject(s) })));
      for (const { s, res } of results) {
        seen.set(res.statusCode, (seen.get(res.statusCode) ?? 0) + 1);
        if (!s.ok.includes(res.statusCode)) {
          throw new Error(`unexpected ${res.statusCode} for ${JSON.stringify({ ...s, body: String(s.body).slice(0, 80) })}: ${res.body}`);
        }
      }
    }
    expect([...seen.values()].reduce((a, b) => a + b, 0)).toBe(10_000);
    expect(await recordsInTopic()).toBe(before);
    expect((await ingest.app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
  });

  it('has written exactly the events it answered 200 to', async () => {
    expect(await recordsInTopic()).toBe(accepted);
  });

  it('picks up a newly added signing secret without a restart', async () => {
    const added = randomWebhookSecret();
    const body = JSON.stringify(invoicePaidEvent());
    const pool = createPool(stackEndpoints().databaseUrl);
    await pool.query('INSERT INTO webhook_secrets (integration_id, secret_ciphertext) VALUES ($1, $2)', [integrationId, createSecretBox(parseKey(TEST_SECRETS_KEY)).seal(added)]);
    await pool.end();
    await new Promise((r) => setTimeout(r, 400)); // past SECRETS_CACHE_MS
    expect((await inject({ body, headers: signed(body, added) })).statusCode).toBe(200);
  });

  it('never logs a secret, a signature or a payload (nor the email or name in it)', async () => {
    const event = invoicePaidEvent({ customerEmail: 'leak-check@example.com' });
    const body = JSON.stringify({ ...event, data: { object: { ...event.data.object, customer_name: 'Leaky Checkname' } } });
    const header = stripeSignature(body, newSecret, Math.floor(Date.now() / 1000) - 400); // stale: logged as a rejection
    await inject({ body, headers: { 'stripe-signature': header } });
    const all = logLines.join('\n');
    expect(all).toMatch(/webhook rejected/);
    for (const needle of [newSecret, oldSecret, header.split('v1=')[1]!, 'leak-check@example.com', 'Leaky Checkname', TEST_SECRETS_KEY]) {
      expect(all).not.toContain(needle);
    }
  });

  it('reports readiness and Prometheus metrics', async () => {
    const ready = await ingest.app.inject({ method: 'GET', url: '/readyz' });
    expect(ready.json()).toEqual({ status: 'ready', checks: { postgres: 'ok', kafka: 'ok' } });
    const metrics = (await ingest.app.inject({ method: 'GET', url: '/metrics' })).body;
    expect(metrics).toMatch(/ingest_requests_total\{status="200"\} [1-9]/);
    expect(metrics).toMatch(/ingest_verify_failures_total\{reason="signature_mismatch"\} [1-9]/);
    expect(metrics).toMatch(/ingest_produce_latency_seconds_bucket\{le="0.1",outcome="ok"\} [1-9]/);
    expect(metrics).not.toContain(newSecret);
  });
});
