import { createHash, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pino from 'pino';
import { Kafka, logLevel } from 'kafkajs';
import type { FastifyInstance } from 'fastify';
import { RawEventHeaders, emailSha256Of, stripeEventKey, topicName, type Conversion } from '@sas/contracts';
import {
  REDACT_PATHS, createConversionCodec, createFrameRewriter, createPool, createSecretBox, loadConfig, migrate, parseKey, type Pool,
} from '@sas/runtime';
import {
  TEST_SECRETS_KEY, chargeEvent, customerEvent, invoicePaidEvent, randomWebhookSecret, runSas, serviceEnv, stackEndpoints, startWebhookStub, stripeEvent,
  stripeSignature, uniqueId, waitFor,
} from '@sas/testkit';
import { ingestEnv, startIngest, type RunningIngest } from '@sas/ingest';
import { mapperEnv, startMapper } from '@sas/mapper';
import { schedulerEnv, startScheduler } from '@sas/scheduler';
import { dispatcherEnv, startDispatcher } from '@sas/dispatcher';
import { buildAdminApp } from '../../services/admin/src/api/app.js';
import { startReconcileTargets, RECONCILED_DESTINATIONS, isChargeDestination, type ReconcileTargets } from '../../tools/reconcile/destinations.js';

/**
 * Issue 21, end to end: a customer is erased mid-lifecycle (the sale credited, a partial refund
 * held by the scheduler) through `sas customers erase` and the admin API. The refund still
 * reaches every partner with the right amount; no table and no service log holds the email
 * (plain or as the SHA-256 partners take) or the name afterwards; a replay of the raw events
 * and a backfilled event do not bring it back; Stripe's customer.deleted erases as the command
 * does; bad input changes nothing and says why.
 */
describe('erasure of a customer (issue 21)', () => {
  const prefix = `${uniqueId('era')}.`;
  const integrationId = uniqueId('int_era_');
  const secret = randomWebhookSecret();
  const token = `adm_${randomBytes(16).toString('hex')}`;
  const viewerToken = `view_${randomBytes(16).toString('hex')}`;
  const run = uniqueId('').slice(-8);
  const email = `Ada.Erase.${run}@Example.com`;
  const name = `Ada Lovelace-${run}`;
  const customerId = `cus_era${run}`;
  const logLines: string[] = [];
  let pool: Pool;
  let targets: ReconcileTargets;
  let ingest: RunningIngest;
  let services: { stop(): Promise<void> }[] = [];
  let admin: FastifyInstance;
  let cliEnv: NodeJS.ProcessEnv;
  let kafka: Kafka;
  const codec = createConversionCodec(stackEndpoints().schemaRegistryUrl);

  const send = async (event: { id: string }) => {
    const body = JSON.stringify(event);
    const res = await fetch(`${ingest.url}/webhooks/stripe/${integrationId}`, {
      method: 'POST', headers: { 'content-type': 'application/json', 'stripe-signature': stripeSignature(body, secret) }, body,
    });
    expect(res.status, await res.text()).toBe(200);
  };
  /** Every partner's net for the order, by destination. */
  const netAt = (orderId: string) => Object.fromEntries(RECONCILED_DESTINATIONS.filter((d) => !isChargeDestination(d)).map((d) =>
    [d, targets.credited()[d].find((o) => o.orderId === orderId)?.netMinor])) as Record<string, number | undefined>;
  const allAre = (orderId: string, minor: number) => Object.values(netAt(orderId)).every((v) => v === minor) ? true : undefined;

  /** Rows of every table (bytea as hex in the row's text) holding one of the needles, any case. */
  const tablesHolding = async (needles: readonly string[]): Promise<string[]> => {
    const { rows: tables } = await pool.query<{ t: string }>(
      `SELECT quote_ident(table_name) AS t FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE'`);
    const forms = needles.flatMap((n) => [n.toLowerCase(), Buffer.from(n.toLowerCase()).toString('hex'), Buffer.from(n).toString('hex')]);
    const found: string[] = [];
    for (const { t } of tables) {
      const { rows } = await pool.query<{ n: string }>(
        `SELECT count(*) AS n FROM ${t} x WHERE EXISTS (SELECT 1 FROM unnest($1::text[]) AS f WHERE strpos(lower(x::text), f) > 0)`, [forms]);
      if (Number(rows[0]!.n) > 0) found.push(`${t}: ${rows[0]!.n}`);
    }
    return found;
  };
  const counts = async () => (await pool.query<{ audit: string; erased: string }>(
    `SELECT (SELECT count(*) FROM admin_audit WHERE integration_id = $1) AS audit, (SELECT count(*) FROM erased_customers WHERE integration_id = $1) AS erased`,
    [integrationId])).rows[0];

  beforeAll(async () => {
    const { databaseUrl, schemaRegistryUrl, stripeApiBase } = stackEndpoints();
    // Everything the services log, at debug level, is kept to be searched for the email and the name.
    const log = pino({ level: 'debug', redact: { paths: REDACT_PATHS, censor: '[redacted]' } }, { write: (l: string) => { logLines.push(l); } });
    await migrate(databaseUrl, log);
    pool = createPool(databaseUrl);
    // A refund waits 10 s: long enough to erase the customer while it is held.
    targets = await startReconcileTargets({ integrationId, webhookSecret: secret, refundHoldSeconds: 10, pool });
    const env = serviceEnv(prefix, {
      INGEST_PORT: '0', MAPPER_HEALTH_PORT: '0', SCHEDULER_HEALTH_PORT: '0', DISPATCHER_HEALTH_PORT: '0', LOG_LEVEL: 'debug',
      RETRY_SCHEDULE_MS: '200,500,1000,2000,4000', SETTINGS_CACHE_MS: '0',
    });
    ingest = await startIngest(loadConfig(ingestEnv, env), log.child({ service: 'ingest' }));
    services = await Promise.all([
      startMapper(loadConfig(mapperEnv, env), log.child({ service: 'mapper' })),
      startScheduler(loadConfig(schedulerEnv, env), log.child({ service: 'scheduler' })),
      startDispatcher(loadConfig(dispatcherEnv, env), log.child({ service: 'dispatcher' })),
    ]);
    admin = await buildAdminApp({
      pool, box: createSecretBox(parseKey(TEST_SECRETS_KEY)), log: log.child({ service: 'admin' }), frames: createFrameRewriter(schemaRegistryUrl),
      config: { ADMIN_TOKEN: token, ADMIN_VIEWER_TOKEN: viewerToken, STRIPE_API_BASE: stripeApiBase, PUBLIC_BASE_URL: ingest.url, KAFKA_TOPIC_PREFIX: prefix },
    });
    cliEnv = { ...env, SAS_API_URL: await admin.listen({ host: '127.0.0.1', port: 0 }), SAS_ADMIN_TOKEN: token, USER: 'dpo-test' };
    kafka = new Kafka({ brokers: [stackEndpoints().kafkaBrokers], logLevel: logLevel.NOTHING });
  }, 60_000);

  afterAll(async () => {
    await Promise.all(services.map((s) => s.stop()));
    await ingest?.stop();
    await admin?.close();
    await targets?.close();
    await pool?.end();
  });

  const sale = invoicePaidEvent({ customer: customerId, customerEmail: email, clickId: `IRclk_${run}`, unitAmount: 4_900 });
  const orderId = sale.data.object.id;
  const chargeId = (sale.data.object as { charge: string }).charge;

  it('erased mid-lifecycle: the held refund still reaches every partner with the right amount, and no table nor log keeps the email or the name', async () => {
    const since = new Date(Date.now() - 1_000).toISOString();
    await send(customerEvent('customer.created', { id: customerId, email, name, metadata: { partner_key: `pk_${run}`, customer_key: `ck_${run}` } }));
    await send(sale);
    await waitFor(() => allAre(orderId, 4_900), { what: 'the sale credited at every partner', timeoutMs: 45_000 });

    const refund = chargeEvent('charge.refunded', { id: chargeId, customer: customerId, invoice: orderId, amount: 4_900, email, refunds: [{ amount: 1_500 }] });
    await send(refund);
    await waitFor(async () => ((await pool.query(`SELECT 1 FROM held_conversions WHERE integration_id = $1 AND state = 'held'`, [integrationId])).rowCount ? true : undefined),
      { what: 'the refund held', timeoutMs: 20_000 });
    const store = await pool.query(`SELECT email FROM attribution_store WHERE integration_id = $1 AND customer_id = $2`, [integrationId, customerId]);
    expect(store.rows[0]?.email).toBe(email); // the pipeline did hold it before

    const erase = await runSas(['--json', 'customers', 'erase', integrationId, '--email', email.toUpperCase(), '--reason', 'GDPR art. 17, ticket 4711'], cliEnv);
    expect(erase.code, erase.stderr).toBe(0);
    // The customer, and the refunded charge's payment intent, which the store keeps the charge's billing email under.
    const pi = (refund.data.object as { payment_intent: string }).payment_intent;
    expect(erase.json()).toMatchObject({ integrationId, customerIds: [customerId, pi], alreadyErased: false, scrubbed: { attributionRows: 2, heldConversions: 1 } });
    // Mid-lifecycle indeed: the refund was still held when the erasure was done.
    expect((await pool.query(`SELECT state FROM held_conversions WHERE integration_id = $1`, [integrationId])).rows.map((r) => r.state)).toContain('held');

    // The refund reaches every partner with its amount: each holds 4,900 − 1,500.
    await waitFor(() => allAre(orderId, 3_400), { what: 'the refund credited at every partner', timeoutMs: 45_000 });
    expect(netAt(orderId)).toEqual({ impact: 3_400, impact_one_tracker: 3_400, partnerstack: 3_400, webhook: 3_400 });

    // Idempotent: again, nothing new, the same answer.
    const again = await runSas(['--json', 'customers', 'erase', integrationId, '--customer', customerId, '--reason', 'GDPR art. 17, ticket 4711'], cliEnv);
    expect(again.code, again.stderr).toBe(0);
    expect(again.json()).toMatchObject({ customerIds: [customerId], alreadyErased: true, scrubbed: { attributionRows: 0, ledgerRows: 0, heldConversions: 0 } });

    // Audited, without the email.
    const audit = (await pool.query(`SELECT actor, action, target, after FROM admin_audit WHERE integration_id = $1 AND action = 'customer.erase' ORDER BY id`, [integrationId])).rows;
    expect(audit).toHaveLength(2);
    expect(audit[0]).toMatchObject({ actor: 'dpo-test', target: `customers:${customerId},${pi}`, after: { by: 'email', reason: 'GDPR art. 17, ticket 4711' } });

    // A replay of the raw events re-emits the customer's conversions: without the email hash.
    const fromOffsets = await endOffsets('conversions');
    const replay = await runSas(['--json', 'replay', 'events', integrationId, '--from', since], cliEnv);
    expect(replay.code, replay.stderr).toBe(0);
    const reemitted = await waitFor(async () => {
      const cs = (await readSince('conversions', fromOffsets)).filter((c) => c.customerId === customerId);
      return cs.length >= 2 ? cs : undefined;
    }, { what: 're-emitted conversions', timeoutMs: 30_000 });
    expect(reemitted.map((c) => c.attribution.emailSha256)).toEqual(reemitted.map(() => null));

    // A backfill writes events the mapper may never have seen: one more, the customer's update, with the email.
    const missed = customerEvent('customer.updated', { id: customerId, email, name, metadata: { partner_key: `pk_${run}`, customer_key: `ck_${run}` } });
    await writeRaw(missed, { [RawEventHeaders.backfillRun]: 'bf_erasure_test' });
    await waitFor(async () => ((await pool.query(`SELECT 1 FROM mapper_processed_events WHERE integration_id = $1 AND event_id = $2`, [integrationId, missed.id])).rowCount ? true : undefined),
      { what: 'the backfilled event handled', timeoutMs: 30_000 });

    // A replay of the conversions written before the erasure, to a destination added after it: sent without the hash.
    const lateSecret = `whsec_${Buffer.from(`late${run}`.padEnd(24, '0')).toString('base64')}`;
    const late = await startWebhookStub({ secret: lateSecret });
    try {
      const lateId = `${integrationId}_late`;
      await pool.query(`INSERT INTO destinations (id, integration_id, type, settings, credentials_ciphertext) VALUES ($1, $2, 'webhook', $3, $4)`,
        [lateId, integrationId, JSON.stringify({ url: `${late.baseUrl}/hook` }), createSecretBox(parseKey(TEST_SECRETS_KEY)).seal(JSON.stringify({ signingSecret: lateSecret }))]);
      const conv = await runSas(['--json', 'replay', 'conversions', integrationId, '--from', since, '--destination', lateId], cliEnv);
      expect(conv.code, conv.stderr).toBe(0);
      await waitFor(() => (late.received.filter((r) => (r.payload.data as { orderId?: string }).orderId === orderId).length >= 2 ? true : undefined),
        { what: 'the sale and the refund at the late destination', timeoutMs: 30_000 });
      const mineAtLate = late.received.filter((r) => (r.payload.data as { customerId?: string }).customerId === customerId);
      expect(mineAtLate.map((r) => (r.payload.data as { attribution: { emailSha256: string | null } }).attribution.emailSha256)).toEqual(mineAtLate.map(() => null));
    } finally {
      await late.close();
    }

    // The store keeps what crediting needs, not who the person is.
    expect((await pool.query(`SELECT email, email_sha256, partner_key, customer_key, impact_click_id FROM attribution_store WHERE integration_id = $1 AND customer_id = $2`,
      [integrationId, customerId])).rows[0]).toEqual({ email: null, email_sha256: null, partner_key: `pk_${run}`, customer_key: `ck_${run}`, impact_click_id: `IRclk_${run}` });
    // impact receives the email's SHA-1 (issue 14 item 6): no table or log may keep that either.
    const emailSha1 = createHash('sha1').update(email.trim().toLowerCase()).digest('hex');
    expect(await tablesHolding([email, emailSha256Of(email), emailSha1, name])).toEqual([]);
    const logs = logLines.join('\n').toLowerCase();
    expect(logLines.length).toBeGreaterThan(50);
    for (const needle of [email, emailSha256Of(email), emailSha1, name]) expect(logs).not.toContain(needle.toLowerCase());
    // Still no double credit after the replay.
    expect(netAt(orderId)).toEqual({ impact: 3_400, impact_one_tracker: 3_400, partnerstack: 3_400, webhook: 3_400 });
  }, 180_000);

  it("Stripe's customer.deleted erases the customer as the command does, where the integration's setting is on", async () => {
    const other = `cus_del${run}`;
    const otherEmail = `grace.deleted.${run}@example.com`;
    const otherName = `Grace Hopper-${run}`;
    const otherSale = invoicePaidEvent({ customer: other, customerEmail: otherEmail, clickId: `IRclk2_${run}`, unitAmount: 2_500 });
    await send(customerEvent('customer.created', { id: other, email: otherEmail, name: otherName, metadata: { partner_key: `pk_${run}`, customer_key: `ck2_${run}` } }));
    await send(otherSale);
    await waitFor(() => allAre(otherSale.data.object.id, 2_500), { what: 'the sale credited', timeoutMs: 45_000 });
    const deleted = () => stripeEvent('customer.deleted', customerEvent('customer.updated', { id: other, email: otherEmail, name: otherName }).data.object);
    const setting = async (on: 'on' | 'off') => {
      const r = await runSas(['--json', 'integrations', 'update', integrationId, '--erase-on-customer-deleted', on], cliEnv);
      expect(r.code, r.stderr).toBe(0);
      expect(r.json()).toMatchObject({ eraseOnCustomerDeleted: on === 'on' });
    };
    // Off: the event is handled and nothing is erased.
    await setting('off');
    const ignored = deleted();
    await send(ignored);
    await waitFor(async () => ((await pool.query(`SELECT 1 FROM mapper_processed_events WHERE integration_id = $1 AND event_id = $2`, [integrationId, ignored.id])).rowCount ? true : undefined),
      { what: 'the ignored customer.deleted handled', timeoutMs: 30_000 });
    expect((await pool.query(`SELECT email FROM attribution_store WHERE integration_id = $1 AND customer_id = $2`, [integrationId, other])).rows[0]?.email).toBe(otherEmail);
    expect((await pool.query(`SELECT 1 FROM erased_customers WHERE integration_id = $1 AND subject = $2`, [integrationId, `customer:${other}`])).rowCount).toBe(0);
    // On (the default): erased.
    await setting('on');
    await send(deleted());
    const erased = await waitFor(async () => (await pool.query(`SELECT source, actor, reason FROM erased_customers WHERE integration_id = $1 AND subject = $2`,
      [integrationId, `customer:${other}`])).rows[0], { what: 'the erasure recorded', timeoutMs: 30_000 });
    expect(erased).toMatchObject({ source: 'stripe_customer_deleted', actor: 'stripe', reason: expect.stringMatching(/^Stripe customer\.deleted \(evt_/) });
    expect(await tablesHolding([otherEmail, emailSha256Of(otherEmail), otherName])).toEqual([]);
    expect(netAt(otherSale.data.object.id)).toEqual({ impact: 2_500, impact_one_tracker: 2_500, partnerstack: 2_500, webhook: 2_500 });
  }, 120_000);

  it('bad input changes nothing and says why: an unknown customer, no reason, a token without the operator role', async () => {
    const before = await counts();
    const unknown = await runSas(['customers', 'erase', integrationId, '--customer', 'cus_never_seen', '--reason', 'ticket 1'], cliEnv);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/404 integration .* has no customer cus_never_seen: nothing was erased/);

    const noReason = await runSas(['customers', 'erase', integrationId, '--customer', customerId], cliEnv);
    expect(noReason.code).toBe(2);
    expect(noReason.stderr).toMatch(/--reason is required/);
    const url = `${cliEnv.SAS_API_URL}/v1/integrations/${integrationId}/customers/erase`;
    const post = (auth: string, body: unknown) => fetch(url, { method: 'POST', headers: { authorization: `Bearer ${auth}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const apiNoReason = await post(token, { customerId });
    expect(apiNoReason.status).toBe(400);
    expect(await apiNoReason.json()).toMatchObject({ error: 'invalid', problems: ['body.reason is required'] });
    const blank = await post(token, { customerId, reason: '   ' });
    expect(blank.status).toBe(400);

    const viewer = await post(viewerToken, { customerId, reason: 'ticket 1' });
    expect(viewer.status).toBe(403);
    expect(await viewer.json()).toMatchObject({ error: 'forbidden', message: expect.stringMatching(/viewer role.*needs the operator role.*nothing was changed/) });
    // The viewer may still read.
    expect((await fetch(`${cliEnv.SAS_API_URL}/v1/integrations/${integrationId}`, { headers: { authorization: `Bearer ${viewerToken}` } })).status).toBe(200);

    const both = await post(token, { customerId, email, reason: 'ticket 1' });
    expect(both.status).toBe(400);
    expect(await counts()).toEqual(before);
  }, 60_000);

  // Topic helpers: the private prefix's end offsets, what a topic holds after them, and raw writes as a backfill makes them.
  const endOffsets = async (topic: 'conversions') => {
    const a = kafka.admin();
    await a.connect();
    try {
      return await a.fetchTopicOffsets(topicName(topic, prefix));
    } finally {
      await a.disconnect();
    }
  };
  const readSince = async (topic: 'conversions', from: { partition: number; offset: string }[]): Promise<Conversion[]> => {
    const to = await endOffsets(topic);
    const wanted = to.filter((p) => BigInt(p.offset) > BigInt(from.find((f) => f.partition === p.partition)?.offset ?? '0'));
    if (wanted.length === 0) return [];
    const consumer = kafka.consumer({ groupId: uniqueId('era-read') });
    const out: Conversion[] = [];
    await consumer.connect();
    try {
      await consumer.subscribe({ topic: topicName(topic, prefix), fromBeginning: true });
      const left = new Set(wanted.map((p) => p.partition));
      await new Promise<void>((resolve, reject) => {
        consumer.run({
          eachMessage: async ({ partition, message }) => {
            const start = BigInt(from.find((f) => f.partition === partition)?.offset ?? '0');
            const end = wanted.find((p) => p.partition === partition);
            if (!end || BigInt(message.offset) < start) return;
            out.push(await codec.decode(message.value!));
            if (BigInt(message.offset) + 1n >= BigInt(end.offset)) { left.delete(partition); if (left.size === 0) resolve(); }
          },
        }).catch(reject);
      });
    } finally {
      await consumer.disconnect();
    }
    return out;
  };
  const writeRaw = async (event: { id: string; type: string; data: { object: Record<string, unknown> } }, headers: Record<string, string>) => {
    const producer = kafka.producer({ allowAutoTopicCreation: false });
    await producer.connect();
    try {
      await producer.send({
        topic: topicName('stripeEvents', prefix), acks: -1,
        messages: [{
          key: stripeEventKey({ integrationId, account: null, customerId: (event.data.object.id as string) ?? null, objectId: (event.data.object.id as string) ?? null }),
          value: JSON.stringify(event),
          headers: { [RawEventHeaders.integrationId]: integrationId, [RawEventHeaders.eventId]: event.id, [RawEventHeaders.eventType]: event.type, [RawEventHeaders.receivedAt]: String(Date.now()), ...headers },
        }],
      });
    } finally {
      await producer.disconnect();
    }
  };
});
