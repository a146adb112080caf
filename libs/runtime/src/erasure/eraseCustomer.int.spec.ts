import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NO_SOURCED_CLICKS, emailSha256Of, erasureIndexOf, erasureSubjectOfEmail, type Conversion } from '@sas/contracts';
import { stackEndpoints, uniqueId } from '@sas/testkit';
import { createPool, migrate, withTransaction, type Pool } from '../db.js';
import { createLogger } from '../logger.js';
import { createConversionCodec } from '../registry.js';
import { createFrameRewriter } from '../frameRewriter.js';
import { ErasureError, eraseCustomer, type ErasureRequest } from './eraseCustomer.js';

/**
 * eraseCustomer against PostgreSQL and the registry, on rows written as the services write
 * them: a guest checkout found by email only, a partner answer and a dry run that echo the
 * email, frames rewritten under their own schema id; someone else's rows untouched. The first
 * case's ledger rows are written as before migration 0038 (no customer_id, no email_sha256s):
 * erasure finds them by the byte search. The last case mixes such a row with rows indexed as
 * the dispatcher writes them now, found by customer and by email hash.
 */
describe('eraseCustomer', () => {
  let pool: Pool;
  const integrationId = uniqueId('int_erc_');
  const topic = `${uniqueId('erc')}.conversions.v1`;
  const codec = createConversionCodec(stackEndpoints().schemaRegistryUrl);
  const frames = createFrameRewriter(stackEndpoints().schemaRegistryUrl);
  const email = `Guest.${uniqueId('')}@Example.com`;
  const other = `other.${uniqueId('')}@example.com`;
  const conversion = (o: Partial<Conversion>): Conversion => ({
    conversionId: uniqueId('cnv_'), kind: 'SALE_ONE_TIME', saleReason: null, sourceEventIds: ['evt_1'], integrationId, stripeAccount: null, livemode: false,
    occurredAt: 1_764_000_000_000, receivedAt: 1_764_000_000_000, orderId: uniqueId('cs_'), customerId: null, subscriptionId: null, chargeId: null,
    attribution: { ...NO_SOURCED_CLICKS, clickId: null, impactClickId: 'clk_1', partnerKey: null, customerKey: null, promoCode: null, emailSha256: emailSha256Of(email), productKey: null },
    attributed: true, currency: 'EUR', amountMinor: 2_500, taxMinor: 0, discountMinor: 0, lineItems: [], notBefore: 1_764_000_000_000,
    refundId: null, orderAmountMinor: null, refundedTotalMinor: null, saleNetMinor: null, ...o,
  } as Conversion);
  const guest = conversion({});
  const someoneElse = conversion({ attribution: { ...guest.attribution, emailSha256: emailSha256Of(other) } });
  const request = (o: Partial<ErasureRequest> = {}): ErasureRequest =>
    ({ integrationId, customerId: null, email, reason: 'ticket 42', actor: 'dpo', source: 'operator', ...o });
  /**
   * A ledger row. `indexed`: with customer_id and email_sha256s as the dispatcher writes them
   * since migration 0038 (erasureIndexOf); else both NULL, as on a row written before it.
   */
  const insertLedgerRow = async (c: Conversion, o: { lastError: string | null; dryRun: unknown; indexed: boolean }) => {
    const index = o.indexed ? erasureIndexOf(c) : { customerId: null, emailSha256s: null };
    await pool.query(
      `INSERT INTO dispatch_ledger (integration_id, destination_id, order_id, action, conversion_id, status, conversion_frame, last_error, dry_run_request,
                                    customer_id, email_sha256s)
       VALUES ($1, 'dst_1', $2, 'credit', $3, 'failed', $4, $5, $6, $7, $8)`,
      [c.integrationId, c.orderId, c.conversionId, await codec.encode(topic, c), o.lastError, o.dryRun === null ? null : JSON.stringify(o.dryRun),
        index.customerId, index.emailSha256s]);
  };

  beforeAll(async () => {
    await migrate(stackEndpoints().databaseUrl, createLogger('erc', 'silent'));
    pool = createPool(stackEndpoints().databaseUrl, 2);
    await pool.query(
      `INSERT INTO attribution_store (integration_id, customer_id, email, email_sha256, client_reference_id) VALUES ($1, 'pi_guest', $2, $3, $4), ($1, 'pi_other', $5, $6, null)`,
      [integrationId, email, emailSha256Of(email), email.toLowerCase(), other, emailSha256Of(other)]);
    for (const [c, lastError, dryRun] of [
      [guest, `409 customer ${email.toLowerCase()} exists`, { body: { CustomerEmail: emailSha256Of(email), amount: '25.00' } }],
      [someoneElse, `409 customer ${other} exists`, null],
    ] as const) {
      await insertLedgerRow(c, { lastError, dryRun, indexed: false });
    }
    await pool.query(
      `INSERT INTO held_conversions (namespace, conversion_id, integration_id, customer_id, not_before, record_key, record_value, state, lane, release_after)
       VALUES ('erc', $1, $2, null, now() + interval '1 hour', 'k', $3, 'held', 0, now() + interval '1 hour')`,
      [guest.conversionId, integrationId, await codec.encode(topic, guest)]);
  });
  afterAll(async () => { await pool?.end(); });

  it('by email: every trace of the guest goes, money and ids stay, someone else is untouched; a second call records nothing new', async () => {
    const r = await withTransaction(pool, (db) => eraseCustomer(db, frames, request()));
    expect(r).toEqual({ integrationId, customerIds: ['pi_guest'], alreadyErased: false, scrubbed: { attributionRows: 1, ledgerRows: 1, heldConversions: 1 } });

    const store = (await pool.query(`SELECT customer_id, email, email_sha256, client_reference_id FROM attribution_store WHERE integration_id = $1 ORDER BY customer_id`, [integrationId])).rows;
    expect(store).toEqual([
      { customer_id: 'pi_guest', email: null, email_sha256: null, client_reference_id: null },
      { customer_id: 'pi_other', email: other, email_sha256: emailSha256Of(other), client_reference_id: null },
    ]);
    const ledger = (await pool.query<{ order_id: string; conversion_frame: Buffer; last_error: string; dry_run_request: unknown }>(
      `SELECT order_id, conversion_frame, last_error, dry_run_request FROM dispatch_ledger WHERE integration_id = $1`, [integrationId])).rows;
    const mine = ledger.find((l) => l.order_id === guest.orderId)!;
    expect(mine.last_error).toBe('409 customer [erased] exists');
    expect(mine.dry_run_request).toEqual({ body: { CustomerEmail: '[erased]', amount: '25.00' } });
    // The same schema id (bytes 1-4), the same conversion but for the hash.
    expect(mine.conversion_frame.subarray(0, 5)).toEqual((await codec.encode(topic, guest)).subarray(0, 5));
    expect(await codec.decode(mine.conversion_frame)).toEqual({ ...guest, attribution: { ...guest.attribution, emailSha256: null } });
    const theirs = ledger.find((l) => l.order_id === someoneElse.orderId)!;
    expect(theirs.last_error).toBe(`409 customer ${other} exists`);
    expect((await codec.decode(theirs.conversion_frame)).attribution.emailSha256).toBe(emailSha256Of(other));
    const held = (await pool.query<{ record_value: Buffer }>(`SELECT record_value FROM held_conversions WHERE namespace = 'erc' AND conversion_id = $1`, [guest.conversionId])).rows[0]!;
    expect((await codec.decode(held.record_value)).attribution.emailSha256).toBeNull();
    expect((await pool.query(`SELECT subject, source, reason, actor FROM erased_customers WHERE integration_id = $1 ORDER BY subject`, [integrationId])).rows).toEqual([
      { subject: 'customer:pi_guest', source: 'operator', reason: 'ticket 42', actor: 'dpo' },
      { subject: erasureSubjectOfEmail(email), source: 'operator', reason: 'ticket 42', actor: 'dpo' },
    ]);

    const again = await withTransaction(pool, (db) => eraseCustomer(db, frames, request({ email: email.toUpperCase() })));
    expect(again).toEqual({ integrationId, customerIds: [], alreadyErased: true, scrubbed: { attributionRows: 0, ledgerRows: 0, heldConversions: 0 } });
  });

  it('by customer (customer.deleted): rows indexed by customer and by email hash are found by index, a row from before migration 0038 by its bytes', async () => {
    const indexedId = uniqueId('int_erc_idx_');
    const ada = `ada.${uniqueId('')}@example.com`;
    const bob = `bob.${uniqueId('')}@example.com`;
    await pool.query(
      `INSERT INTO attribution_store (integration_id, customer_id, email, email_sha256) VALUES ($1, 'cus_ada', $2, $3), ($1, 'pi_ada_guest', $2, $3), ($1, 'cus_bob', $4, $5)`,
      [indexedId, ada, emailSha256Of(ada), bob, emailSha256Of(bob)]);
    const adaAttribution = { ...guest.attribution, emailSha256: emailSha256Of(ada) };
    // Indexed by customer: a sale of the Stripe customer.
    const adaSale = conversion({ integrationId: indexedId, kind: 'SALE_FIRST', orderId: uniqueId('in_'), customerId: 'cus_ada', attribution: adaAttribution });
    // Indexed by email hash only: the same person's guest checkout (its store key, the payment intent, is not on the conversion).
    const adaGuest = conversion({ integrationId: indexedId, customerId: null, attribution: adaAttribution });
    // Written before 0038: both columns NULL, found by the byte search.
    const adaRenewal = conversion({ integrationId: indexedId, kind: 'SALE_RECURRING', orderId: uniqueId('in_'), customerId: 'cus_ada', attribution: adaAttribution });
    const bobSale = conversion({ integrationId: indexedId, kind: 'SALE_FIRST', orderId: uniqueId('in_'), customerId: 'cus_bob', attribution: { ...guest.attribution, emailSha256: emailSha256Of(bob) } });
    await insertLedgerRow(adaSale, { lastError: null, dryRun: null, indexed: true });
    await insertLedgerRow(adaGuest, { lastError: null, dryRun: { body: { emailSha256: emailSha256Of(ada), amount: 2500 } }, indexed: true });
    await insertLedgerRow(adaRenewal, { lastError: `409 customer ${ada} exists`, dryRun: null, indexed: false });
    await insertLedgerRow(bobSale, { lastError: `409 customer ${bob} exists`, dryRun: null, indexed: true });

    const erase = () => withTransaction(pool, (db) => eraseCustomer(db, frames, {
      integrationId: indexedId, customerId: 'cus_ada', email: null, reason: 'Stripe customer.deleted (evt_1)', actor: 'stripe', source: 'stripe_customer_deleted',
    }));
    expect(await erase()).toEqual({
      integrationId: indexedId, customerIds: ['cus_ada', 'pi_ada_guest'], alreadyErased: false, scrubbed: { attributionRows: 2, ledgerRows: 3, heldConversions: 0 },
    });

    const rows = new Map((await pool.query<{ order_id: string; conversion_frame: Buffer; last_error: string | null; dry_run_request: unknown; customer_id: string | null; email_sha256s: string[] | null }>(
      `SELECT order_id, conversion_frame, last_error, dry_run_request, customer_id, email_sha256s FROM dispatch_ledger WHERE integration_id = $1`, [indexedId])).rows
      .map((r) => [r.order_id, r]));
    const scrubbedOf = (c: Conversion): Conversion => ({ ...c, attribution: { ...c.attribution, emailSha256: null } });
    // Found by index: the frame and the dry run lose the hash, and so does the index; the customer id stays.
    expect(await codec.decode(rows.get(adaSale.orderId)!.conversion_frame)).toEqual(scrubbedOf(adaSale));
    expect(rows.get(adaSale.orderId)).toMatchObject({ customer_id: 'cus_ada', email_sha256s: [] });
    expect(await codec.decode(rows.get(adaGuest.orderId)!.conversion_frame)).toEqual(scrubbedOf(adaGuest));
    expect(rows.get(adaGuest.orderId)).toMatchObject({ customer_id: null, email_sha256s: [], dry_run_request: { body: { emailSha256: '[erased]', amount: 2500 } } });
    // Found by the byte search: scrubbed as before, its columns stay NULL.
    expect(await codec.decode(rows.get(adaRenewal.orderId)!.conversion_frame)).toEqual(scrubbedOf(adaRenewal));
    expect(rows.get(adaRenewal.orderId)).toMatchObject({ last_error: '409 customer [erased] exists', customer_id: null, email_sha256s: null });
    // Someone else's indexed row is untouched.
    expect(await codec.decode(rows.get(bobSale.orderId)!.conversion_frame)).toEqual(bobSale);
    expect(rows.get(bobSale.orderId)).toMatchObject({ last_error: `409 customer ${bob} exists`, customer_id: 'cus_bob', email_sha256s: [emailSha256Of(bob)] });

    expect(await erase()).toEqual({
      integrationId: indexedId, customerIds: ['cus_ada'], alreadyErased: true, scrubbed: { attributionRows: 0, ledgerRows: 0, heldConversions: 0 },
    });
  });

  it.each([
    { name: 'no reason', given: { reason: '  ' }, code: 'invalid', field: 'reason' },
    { name: 'both a customer and an email', given: { customerId: 'cus_1' }, code: 'invalid', field: 'customerId' },
    { name: 'not an email', given: { email: 'nobody' }, code: 'invalid', field: 'email' },
    { name: 'a customer the integration never saw', given: { customerId: 'cus_never', email: null }, code: 'unknown_customer', field: 'customerId' },
  ])('refuses $name, naming the field, and writes nothing', async ({ given, code, field }) => {
    const before = (await pool.query(`SELECT count(*)::int AS n FROM erased_customers WHERE integration_id = $1`, [integrationId])).rows[0].n;
    const err = await withTransaction(pool, (db) => eraseCustomer(db, frames, request(given))).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ErasureError);
    expect(err).toMatchObject({ code, field });
    expect((await pool.query(`SELECT count(*)::int AS n FROM erased_customers WHERE integration_id = $1`, [integrationId])).rows[0].n).toBe(before);
  });
});
