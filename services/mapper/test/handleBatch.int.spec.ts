import { createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createIntegration, createLogger, createPool, createSecretBox, migrate, parseKey, type Pool } from '@sas/runtime';
import {
  TEST_SECRETS_KEY, chargeEvent, checkoutSessionCompletedEvent, customerEvent, invoicePaidEvent, randomWebhookSecret,
  stackEndpoints, uniqueId,
} from '@sas/testkit';
import { createMapperStore } from '../src/adapters/mapperStore.js';
import { createEnricher, type Enricher } from '../src/adapters/stripeApi.js';
import { handleBatch, type BatchDeps, type RawRecord } from '../src/handleBatch.js';
import { rawRecord } from './rawRecords.js';

/**
 * The mapper's shell without Kafka: real PostgreSQL state and the real Stripe API (stripe-mock).
 * Batches are handled and committed as the service does, then checked.
 */
describe('handleBatch against PostgreSQL and stripe-mock', () => {
  const log = createLogger('mapper-int', process.env.TEST_LOG_LEVEL ?? 'silent');
  const box = createSecretBox(parseKey(TEST_SECRETS_KEY));
  const withKey = uniqueId('int_key_');
  const withoutKey = uniqueId('int_nokey_');
  let pool: Pool;
  let enricher: Enricher;
  let flaky: Server;
  let flakyFailures = 0;

  const depsFor = (o: Partial<BatchDeps> = {}): BatchDeps => {
    const store = createMapperStore(pool);
    return { store, settingsOf: (id) => store.settingsOf(id), enricher, box, now: Date.now, enrichConcurrency: 4, duplicates: 'reemit', ...o };
  };
  const toRecords = (integrationId: string, events: Parameters<typeof rawRecord>[1][]): RawRecord[] =>
    events.map((e, i) => ({ ...rawRecord(integrationId, e, 1_750_000_000_000), offset: String(i) }));
  /** Handle and commit, as the service does after the produce is acknowledged. */
  const run = async (deps: BatchDeps, records: RawRecord[]) => {
    const out = await handleBatch(deps, 't', 0, records);
    await deps.store.commit(out.effects, out.handled);
    return out;
  };

  beforeAll(async () => {
    const { databaseUrl, stripeApiBase } = stackEndpoints();
    await migrate(databaseUrl, log);
    pool = createPool(databaseUrl);
    await createIntegration(pool, box, { id: withKey, name: 'with key', webhookSecrets: [randomWebhookSecret()] });
    await createIntegration(pool, box, { id: withoutKey, name: 'without key', webhookSecrets: [randomWebhookSecret()] });
    await pool.query(`UPDATE integrations SET stripe_key_ciphertext = $2 WHERE id = $1`, [withKey, box.seal('sk_test_ReadOnly123')]);
    enricher = createEnricher({ apiBase: stripeApiBase, timeoutMs: 5_000, cacheMs: 60_000, cacheMax: 1_000, log });
    // Stripe answering 500 to the first requests, then itself (stripe-mock) again.
    const upstream = new URL(stripeApiBase);
    flaky = createServer((req, res) => {
      if (flakyFailures > 0) {
        flakyFailures--;
        res.writeHead(500, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { type: 'api_error', message: 'boom' } }));
        return;
      }
      const fwd = httpRequest({ host: upstream.hostname, port: upstream.port, path: req.url, method: req.method, headers: req.headers }, (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
      });
      req.pipe(fwd);
    });
    await new Promise<void>((r) => flaky.listen(0, '127.0.0.1', r));
  });
  afterAll(async () => {
    await pool?.end();
    await new Promise<void>((r) => (flaky ? flaky.close(() => r()) : r()));
  });

  it('maps a checkout with line items (products expanded) and its promotion code from the Stripe API', async () => {
    const e = checkoutSessionCompletedEvent({ promotionCode: 'promo_int_1', amountSubtotal: 4_000, discount: 400 });
    const out = await run(depsFor(), toRecords(withKey, [e]));
    expect(out.deadLetters).toEqual([]);
    expect(out.conversions).toHaveLength(1);
    const c = out.conversions[0]!;
    // stripe-mock's line item fixture: a T-shirt whose product comes expanded.
    expect(c.lineItems[0]).toMatchObject({ sku: 'prod_QXg1hqf4jFNsqG', productId: 'prod_QXg1hqf4jFNsqG', description: 'T-shirt' });
    expect(c.attribution.promoCode).toBe('FALL20');
    expect(c).toMatchObject({ kind: 'SALE_ONE_TIME', amountMinor: 3_600, discountMinor: 400, orderId: e.data.object.id });
  });

  it('without a key, the same checkout is still a sale, with one line for the order', async () => {
    const out = await run(depsFor(), toRecords(withoutKey, [checkoutSessionCompletedEvent({ amountSubtotal: 4_000 })]));
    expect(out.conversions[0]!.lineItems).toEqual([expect.objectContaining({ sku: 'order', amountMinor: 4_000 })]);
  });

  it('fills the attribution store from a customer event and uses it for the customer\'s later invoice, in the same batch and after', async () => {
    const customer = uniqueId('cus_');
    const created = customerEvent('customer.created', { id: customer, email: 'Pat@Example.com', metadata: { customer_key: 'ck_pat', partner_key: 'pk_pat' } });
    const first = invoicePaidEvent({ customer, clickId: null, customerEmail: null });
    const out = await run(depsFor(), toRecords(withKey, [created, first]));
    expect(out.conversions.map((c) => c.kind)).toEqual(['CUSTOMER_IDENTITY', 'SALE_FIRST']);
    expect(out.conversions[1]!.attribution).toMatchObject({ customerKey: 'ck_pat', partnerKey: 'pk_pat' });
    const { rows } = await pool.query(`SELECT email, customer_key, partner_key, email_sha256 FROM attribution_store WHERE integration_id = $1 AND customer_id = $2`, [withKey, customer]);
    expect(rows).toEqual([expect.objectContaining({ email: 'Pat@Example.com', customer_key: 'ck_pat', partner_key: 'pk_pat' })]);
    expect(rows[0].email_sha256).toBe(out.conversions[0]!.attribution.emailSha256);
    const renewal = invoicePaidEvent({ customer, clickId: null, customerEmail: null, billingReason: 'subscription_cycle' });
    const later = await run(depsFor(), toRecords(withKey, [renewal]));
    expect(later.conversions[0]).toMatchObject({ kind: 'SALE_RECURRING', attributed: true, attribution: { customerKey: 'ck_pat' } });
  });

  it('keeps every click by its source in the attribution store: a subscription checkout\'s client_reference_id and Tracknow click reach its invoice, beside the invoice\'s impact click (issue 15)', async () => {
    const customer = uniqueId('cus_');
    const checkout = checkoutSessionCompletedEvent({ mode: 'subscription', customer, clientReferenceId: 'user_42', metadata: { tn_click_id: 'tn_sub' } });
    await run(depsFor(), toRecords(withoutKey, [checkout]));
    const { rows } = await pool.query(
      `SELECT click_id, impact_click_id, tracknow_click_id, everflow_transaction_id, client_reference_id FROM attribution_store WHERE integration_id = $1 AND customer_id = $2`,
      [withoutKey, customer]);
    expect(rows).toEqual([{ click_id: null, impact_click_id: null, tracknow_click_id: 'tn_sub', everflow_transaction_id: null, client_reference_id: 'user_42' }]);
    const out = await run(depsFor(), toRecords(withoutKey, [invoicePaidEvent({ customer, clickId: 'IR_inv' })]));
    expect(out.conversions[0]!.attribution).toMatchObject({
      clickId: 'IR_inv', impactClickId: 'IR_inv', tracknowClickId: 'tn_sub', everflowTransactionId: null, clientReferenceId: 'user_42',
    });
  });

  it('a store row written before the by-source columns keeps its click unsourced', async () => {
    const customer = uniqueId('cus_');
    await pool.query(`INSERT INTO attribution_store (integration_id, customer_id, click_id) VALUES ($1, $2, 'clk_before')`, [withoutKey, customer]);
    const out = await run(depsFor(), toRecords(withoutKey, [invoicePaidEvent({ customer, clickId: null })]));
    expect(out.conversions[0]!.attribution).toMatchObject({ clickId: 'clk_before', impactClickId: null, tracknowClickId: null, clientReferenceId: null });
  });

  it('a basil refund before its sale: refunds and the invoice behind the payment come from the API; the order link is kept', async () => {
    const e = chargeEvent('charge.refunded', { shape: 'basil', amount: 100, amountRefunded: 100 });
    const out = await run(depsFor(), toRecords(withKey, [e]));
    expect(out.conversions).toHaveLength(1);
    const c = out.conversions[0]!;
    expect(c.kind).toBe('REFUND_FULL');
    expect(c.refundId).toMatch(/^re_/); // stripe-mock's refund fixture
    expect(c.orderId).toMatch(/^in_/); // the invoice stripe-mock's invoice payment names
    expect(c.notBefore).toBe(1_750_000_000_000 + 3_600_000);
    const { rows } = await pool.query(`SELECT order_id, order_kind, billing_reason FROM mapper_order_links WHERE integration_id = $1 AND ref = $2`, [withKey, e.data.object.id]);
    // The API's invoice says which sale the refund undoes; the link keeps it for the next refund.
    expect(c.saleReason).toEqual(expect.any(String));
    expect(rows).toEqual([{ order_id: c.orderId, order_kind: 'invoice', billing_reason: c.saleReason }]);
    // Delivered again: state is not touched twice, the same id comes out.
    const again = await run(depsFor(), toRecords(withKey, [e]));
    expect(again.duplicates).toBe(1);
    expect(again.conversions.map((x) => x.conversionId)).toEqual([]); // refund already recorded: nothing new to say
  });

  it('a renewal refunded in a later batch: the refund carries the renewal\'s billing reason (impact\'s recurring tracker)', async () => {
    const customer = uniqueId('cus_');
    const invoiceId = uniqueId('in_');
    const chargeId = uniqueId('ch_');
    await run(depsFor(), toRecords(withoutKey, [invoicePaidEvent({ id: invoiceId, customer, billingReason: 'subscription_cycle' })]));
    const { rows } = await pool.query(`SELECT billing_reason FROM mapper_order_links WHERE integration_id = $1 AND ref = $2`, [withoutKey, invoiceId]);
    expect(rows).toEqual([{ billing_reason: 'subscription_cycle' }]);
    const refunded = chargeEvent('charge.refunded', { id: chargeId, invoice: invoiceId, customer, amount: 4_900, refunds: [{ amount: 1_000 }] });
    const out = await run(depsFor(), toRecords(withoutKey, [refunded]));
    expect(out.conversions).toEqual([expect.objectContaining({ kind: 'REFUND_PARTIAL', orderId: invoiceId, saleReason: 'subscription_cycle' })]);
  });

  it('a taxed invoice refunded in a later batch: the refund carries the sale\'s net of tax from the invoice\'s stored link (issue 14)', async () => {
    const customer = uniqueId('cus_');
    const invoiceId = uniqueId('in_');
    const chargeId = uniqueId('ch_');
    await run(depsFor(), toRecords(withoutKey, [invoicePaidEvent({ shape: 'basil', id: invoiceId, customer, unitAmount: 10_000, tax: 2_000 })]));
    const { rows } = await pool.query(`SELECT sale_net_minor FROM mapper_order_links WHERE integration_id = $1 AND ref = $2`, [withoutKey, invoiceId]);
    expect(rows).toEqual([{ sale_net_minor: '10000' }]);
    // A basil charge names no invoice: its link (as the API gave it) has no basis, the invoice's own link has.
    await pool.query(`INSERT INTO mapper_order_links (integration_id, ref, order_id, order_kind, customer_id) VALUES ($1, $2, $3, 'invoice', $4)`,
      [withoutKey, chargeId, invoiceId, customer]);
    const refunded = chargeEvent('charge.refunded', { shape: 'basil', id: chargeId, customer, amount: 12_000, refunds: [{ amount: 1_000 }] });
    const out = await run(depsFor(), toRecords(withoutKey, [refunded]));
    expect(out.conversions).toEqual([expect.objectContaining({ kind: 'REFUND_PARTIAL', orderId: invoiceId, amountMinor: 1_000, orderAmountMinor: 12_000, saleNetMinor: 10_000 })]);
  });

  it('a basil charge linked before billing reasons were stored: the reason comes from its invoice\'s own link', async () => {
    const customer = uniqueId('cus_');
    const invoiceId = uniqueId('in_');
    const chargeId = uniqueId('ch_');
    await run(depsFor(), toRecords(withoutKey, [invoicePaidEvent({ shape: 'basil', id: invoiceId, customer, billingReason: 'subscription_update' })]));
    // As migration 0006 leaves a link written before it: no billing_reason.
    await pool.query(`INSERT INTO mapper_order_links (integration_id, ref, order_id, order_kind, customer_id) VALUES ($1, $2, $3, 'invoice', $4)`,
      [withoutKey, chargeId, invoiceId, customer]);
    const refunded = chargeEvent('charge.refunded', { shape: 'basil', id: chargeId, customer, amount: 4_900, refunds: [{ amount: 4_900 }] });
    const out = await run(depsFor(), toRecords(withoutKey, [refunded]));
    expect(out.conversions).toEqual([expect.objectContaining({ kind: 'REFUND_FULL', orderId: invoiceId, saleReason: 'subscription_update', subscriptionId: expect.stringMatching(/^sub_/) })]);
  });

  it('an invoice linked without its billing reason: the refund asks the API once, the invoice\'s link keeps the answer', async () => {
    const invoiceId = uniqueId('in_');
    const chargeId = uniqueId('ch_');
    await pool.query(`INSERT INTO mapper_order_links (integration_id, ref, order_id, order_kind, subscription_id) VALUES ($1, $2, $2, 'invoice', 'sub_old')`, [withKey, invoiceId]);
    const firstRefund = { id: uniqueId('re_'), amount: 1_000, created: 1_750_000_000 };
    const first = chargeEvent('charge.refunded', { id: chargeId, invoice: invoiceId, amount: 4_900, refunds: [firstRefund] });
    const out = await run(depsFor(), toRecords(withKey, [first]));
    const c = out.conversions[0]!;
    expect(c).toMatchObject({ kind: 'REFUND_PARTIAL', orderId: invoiceId, subscriptionId: 'sub_old', saleReason: expect.any(String) }); // stripe-mock's invoice
    const { rows } = await pool.query(`SELECT billing_reason FROM mapper_order_links WHERE integration_id = $1 AND ref = $2`, [withKey, invoiceId]);
    expect(rows).toEqual([{ billing_reason: c.saleReason }]);
    const before = { ...enricher.stats };
    const second = chargeEvent('charge.refunded', { id: chargeId, invoice: invoiceId, amount: 4_900, refunds: [firstRefund, { id: uniqueId('re_'), amount: 500, created: 1_750_000_100 }] });
    const later = await run(depsFor(), toRecords(withKey, [second]));
    expect(later.conversions.map((x) => x.saleReason)).toEqual([c.saleReason]);
    expect(enricher.stats).toMatchObject({ calls: before.calls, cacheHits: before.cacheHits });
  });

  it('dedupes by Stripe event id: reemit gives the same ids without new state, drop gives nothing', async () => {
    const e = invoicePaidEvent();
    const first = await run(depsFor(), toRecords(withoutKey, [e, e]));
    expect(first.duplicates).toBe(1);
    expect(new Set(first.conversions.map((c) => c.conversionId)).size).toBe(1);
    const again = await run(depsFor(), toRecords(withoutKey, [e]));
    expect(again.conversions.map((c) => c.conversionId)).toEqual([first.conversions[0]!.conversionId]);
    expect(again.handled).toEqual([]);
    const dropped = await run(depsFor({ duplicates: 'drop' }), toRecords(withoutKey, [e]));
    expect(dropped.conversions).toEqual([]);
    const { rows } = await pool.query(`SELECT count(*)::int AS n FROM mapper_processed_events WHERE integration_id = $1 AND event_id = $2`, [withoutKey, e.id]);
    expect(rows[0].n).toBe(1);
  });

  it('charge tracking: one transaction per charge across succeeded/captured/updated, reversed once by charge.failed', async () => {
    const id = uniqueId('int_ps_');
    await createIntegration(pool, box, { id, name: 'PartnerStack style', webhookSecrets: [randomWebhookSecret()] });
    await pool.query(`UPDATE integrations SET charge_tracking = 'all' WHERE id = $1`, [id]);
    const chargeId = uniqueId('ch_');
    const events = [
      chargeEvent('charge.succeeded', { id: chargeId, metadata: { customer_key: 'ck_1', product_key: 'productXYZ-101' } }),
      chargeEvent('charge.captured', { id: chargeId }),
    ];
    const out = await run(depsFor(), toRecords(id, events));
    expect(out.conversions.map((c) => c.kind)).toEqual(['TRANSACTION']);
    const later = await run(depsFor(), toRecords(id, [chargeEvent('charge.updated', { id: chargeId }), chargeEvent('charge.failed', { id: chargeId })]));
    expect(later.conversions.map((c) => [c.kind, c.orderId, c.amountMinor])).toEqual([['REVERSAL', chargeId, 2_000]]);
    const failedAgain = await run(depsFor(), toRecords(id, [chargeEvent('charge.failed', { id: chargeId })]));
    expect(failedAgain.conversions).toEqual([]);
  });

  it('dead-letters poison with the reason and keeps going', async () => {
    const good = invoicePaidEvent();
    const records: RawRecord[] = [
      { value: Buffer.from('{not json'), headers: { 'x-integration-id': withoutKey, 'x-stripe-event-id': 'evt_bad' }, offset: '0' },
      { ...rawRecord(withoutKey, checkoutSessionCompletedEvent({ currency: 'dollars' })), offset: '1' },
      { ...rawRecord(uniqueId('int_unknown_'), invoicePaidEvent()), offset: '2' },
      { ...rawRecord(withoutKey, good), offset: '3' },
    ];
    const out = await run(depsFor(), records);
    expect(out.deadLetters.map((d) => [d.code, d.offset])).toEqual([
      ['RAW_ERR_JSON', '0'], ['CNV_ERR_CURRENCY', '1'], ['RAW_ERR_UNKNOWN_INTEGRATION', '2'],
    ]);
    expect(out.deadLetters[1]!.reason).toMatch(/MappingError: not an ISO 4217 code/);
    expect(Buffer.from(out.deadLetters[0]!.rawBase64!, 'base64').toString()).toBe('{not json');
    expect(out.conversions.map((c) => c.orderId)).toEqual([good.data.object.id]);
  });

  it('retries the Stripe API with backoff when it fails, and maps the event once it answers', async () => {
    const sleeps: number[] = [];
    const retrying = createEnricher({
      apiBase: `http://127.0.0.1:${(flaky.address() as AddressInfo).port}`, timeoutMs: 5_000, cacheMs: 60_000, cacheMax: 100, log,
      sleep: async (ms) => { sleeps.push(ms); },
    });
    flakyFailures = 3;
    const out = await run(depsFor({ enricher: retrying }), toRecords(withKey, [checkoutSessionCompletedEvent()]));
    expect(retrying.stats.retries).toBe(3);
    expect(sleeps).toHaveLength(3);
    expect(sleeps[2]!).toBeGreaterThan(sleeps[0]!);
    expect(out.conversions[0]!.lineItems[0]).toMatchObject({ productId: 'prod_QXg1hqf4jFNsqG' });
  });
});
