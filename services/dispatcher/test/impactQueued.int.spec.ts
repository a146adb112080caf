import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Conversion } from '@sas/contracts';
import { NO_SOURCED_CLICKS } from '@sas/contracts';
import {
  createIntegration, createKafka, createLogger, createPool, createSecretBox, ensureTopics, loadConfig, migrate, parseKey, type Pool,
} from '@sas/runtime';
import { TEST_SECRETS_KEY, serviceEnv, stackEndpoints, startImpactStub, uniqueId, waitFor, type ImpactApiSubmission, type ImpactStub } from '@sas/testkit';
import { dispatcherEnv, startDispatcher, type RunningDispatcher } from '../src/index.js';
import { conversion, createConversionProducer, sha256, watchDispatch } from './fixtures.js';

/**
 * impact.com answers Conversions and Actions calls QUEUED with a QueuedUri and processes them
 * later (https://integrations.impact.com/impact-brand/reference/the-api-submission-object): the
 * dispatcher follows the API submission until it settles. Against the real Kafka and
 * PostgreSQL, with the impact stub holding submissions until the test settles or rejects them.
 */
describe('impact: a queued submission is followed until it settles', () => {
  const prefix = `${uniqueId('dspq')}.`;
  const integrationId = uniqueId('int_');
  const giveUpIntegrationId = uniqueId('int_');
  const destination = `${integrationId}_impact`;
  const giveUpDestination = `${giveUpIntegrationId}_impact`;
  let impact: ImpactStub;
  let dispatcher: RunningDispatcher;
  let pool: Pool;
  let producer: Awaited<ReturnType<typeof createConversionProducer>>;
  let watch: Awaited<ReturnType<typeof watchDispatch>>;
  const env = serviceEnv(prefix, {
    DISPATCHER_HEALTH_PORT: '0', RETRY_SCHEDULE_MS: '200,400', PARTNER_TIMEOUT_MS: '1500', DISPATCH_POLL_MS: '50',
    DISPATCHER_GROUP_ID: uniqueId('g'), SETTINGS_CACHE_MS: '0', DISPATCH_LEASE_MS: '2000',
  });
  const log = createLogger('dispatcher-queued-test', env.LOG_LEVEL);
  const start = () => startDispatcher(loadConfig(dispatcherEnv, env), log);

  beforeAll(async () => {
    impact = await startImpactStub({ accountSid: 'IRsid', authToken: 'tok' });
    await migrate(stackEndpoints().databaseUrl, log);
    pool = createPool(stackEndpoints().databaseUrl);
    const box = createSecretBox(parseKey(TEST_SECRETS_KEY));
    const settings = { accountSid: 'IRsid', campaignId: '1', eventTypeId: '10', recurringEventTypeId: '11', baseUrl: impact.baseUrl, rateLimitPerSecond: 1000 };
    // Checks about 30 s in all: long enough for a test to settle a submission, short enough to run out in one.
    await createIntegration(pool, box, {
      id: integrationId, name: 'Queued test', webhookSecrets: ['whsec_x'],
      destinations: [{ id: destination, type: 'impact', settings: { ...settings, submissionChecksMs: [100, 200, 400, 800, 1600, 3200, 6400, 6400, 6400, 6400] }, credentials: { authToken: 'tok' } }],
    });
    await createIntegration(pool, box, {
      id: giveUpIntegrationId, name: 'Queued give-up test', webhookSecrets: ['whsec_x'],
      destinations: [{ id: giveUpDestination, type: 'impact', settings: { ...settings, submissionChecksMs: '50,50,50' }, credentials: { authToken: 'tok' } }],
    });
    await ensureTopics(createKafka({ brokers: [stackEndpoints().kafkaBrokers], clientId: 'dispatcher-queued-test', log }), prefix);
    dispatcher = await start();
    producer = await createConversionProducer({ brokers: stackEndpoints().kafkaBrokers, registryUrl: stackEndpoints().schemaRegistryUrl, prefix });
    watch = await watchDispatch({ brokers: stackEndpoints().kafkaBrokers, prefix });
  });

  afterAll(async () => {
    await producer?.close();
    await watch?.close();
    await dispatcher?.stop();
    await pool?.end();
    await impact?.close();
  });

  const saleFor = (integration = integrationId) => conversion({
    integrationId: integration, kind: 'SALE_FIRST',
    attribution: { ...NO_SOURCED_CLICKS, clickId: uniqueId('clk'), impactClickId: uniqueId('irclk'), partnerKey: null, customerKey: null, promoCode: null, emailSha256: sha256('jane@example.com'), productKey: null },
  });
  const partialRefundOf = (sale: Conversion) => conversion({
    integrationId, kind: 'REFUND_PARTIAL', orderId: sale.orderId, subscriptionId: sale.subscriptionId, customerId: sale.customerId, attribution: sale.attribution,
    saleReason: 'subscription_create', refundId: uniqueId('re_'), orderAmountMinor: 4_900, refundedTotalMinor: 900, amountMinor: 900, lineItems: [],
  });
  const queuedSubmission = (orderId: string, type: ImpactApiSubmission['type']) =>
    waitFor(() => [...impact.apiSubmissions.values()].find((s) => s.orderId === orderId && s.type === type), { what: `${type} submission of ${orderId}` });
  const ledgerRow = async (orderId: string, action: string, dest = destination) => (await pool.query<{
    status: string; last_error: string | null; queued_uri: string | null; follow_checks: number; attempts: number;
  }>(`SELECT status, last_error, queued_uri, follow_checks, attempts FROM dispatch_ledger WHERE destination_id = $1 AND order_id = $2 AND action = $3`,
    [dest, orderId, action])).rows[0];
  /** The outcome is published before the ledger settles: wait for the row to reach its status. */
  const settledRow = (orderId: string, action: string, status: string, dest = destination) =>
    waitFor(async () => { const r = await ledgerRow(orderId, action, dest); return r?.status === status ? r : undefined; }, { what: `${orderId} ${action} ${status} in the ledger` });
  const final = (c: Conversion) => waitFor(() => watch.outcomes.find((o) => o.conversionId === c.conversionId && ['sent', 'duplicate', 'failed'].includes(o.status)),
    { what: `final outcome of ${c.conversionId}` });

  it('queued then rejected: the sale fails with impact\'s reason (dead letter, ledger failed for `sas status`), and its waiting refund is dead-lettered with it', async () => {
    impact.holdSubmissions(true);
    const sale = saleFor();
    await producer.send([sale]);
    const sub = await queuedSubmission(sale.orderId, 'Conversion');
    // Followed, not credited: the row stays pending with the URI it follows; no outcome says "sent".
    const following = await waitFor(async () => {
      const r = await ledgerRow(sale.orderId, 'credit');
      return r && r.queued_uri && r.follow_checks >= 2 ? r : undefined;
    }, { what: 'ledger row following the submission' });
    expect(following).toMatchObject({ status: expect.stringMatching(/^(pending|sending)$/), queued_uri: `/Advertisers/IRsid/APISubmissions/${sub.batchId}`, attempts: 1 });
    expect(watch.outcomes.filter((o) => o.conversionId === sale.conversionId)).toEqual([]);

    // A refund of the queued sale waits: impact has no action yet (its PUT would 404), so nothing is sent for it.
    const refund = partialRefundOf(sale);
    await producer.send([refund], 'conversionsDue');
    await waitFor(async () => (await ledgerRow(sale.orderId, `refund:${refund.refundId}`)) ?? undefined, { what: 'refund row' });
    expect([...impact.apiSubmissions.values()].filter((s) => s.orderId === sale.orderId && s.type !== 'Conversion')).toEqual([]);

    // impact's documented contract error (the submission object's ErrorType / ErrorReason).
    impact.rejectSubmission(sub.batchId, 'Contract Error', 'CONTRACT_NOT_FOUND');
    const reason = `impact rejected submission /Advertisers/IRsid/APISubmissions/${sub.batchId}: Contract Error: CONTRACT_NOT_FOUND`;
    expect(await final(sale)).toMatchObject({ status: 'failed', action: 'credit', error: reason });
    const dlq = await waitFor(() => watch.deadLetters.find((d) => d.conversionId === sale.conversionId), { what: 'sale dead letter' });
    expect(dlq).toMatchObject({ action: 'credit', reason, attempts: 1 });
    // What `sas status` counts and shows: a failed row with impact's reason; it no longer follows (a requeue sends anew).
    expect(await settledRow(sale.orderId, 'credit', 'failed')).toMatchObject({ status: 'failed', last_error: reason, queued_uri: null, follow_checks: 0 });

    const refundDlq = await waitFor(() => watch.deadLetters.find((d) => d.conversionId === refund.conversionId), { what: 'refund dead letter' });
    expect(refundDlq.reason).toContain(`the sale of order ${sale.orderId} was never credited to this destination (${reason})`);
    expect(impact.credits.has(`10:${sale.orderId}`)).toBe(false);
    expect([...impact.apiSubmissions.values()].filter((s) => s.orderId === sale.orderId && s.type !== 'Conversion')).toEqual([]);
  });

  it('queued then settled: the sale is sent once impact has processed it, and only then its refund', async () => {
    impact.holdSubmissions(true);
    const sale = saleFor();
    await producer.send([sale]);
    const sub = await queuedSubmission(sale.orderId, 'Conversion');
    const refund = partialRefundOf(sale);
    await producer.send([refund], 'conversionsDue');
    await waitFor(async () => ((await ledgerRow(sale.orderId, 'credit'))?.follow_checks ?? 0) >= 2 || undefined, { what: 'two checks of the queued sale' });
    await waitFor(async () => (await ledgerRow(sale.orderId, `refund:${refund.refundId}`)) ?? undefined, { what: 'refund row' });
    expect([...impact.apiSubmissions.values()].filter((s) => s.orderId === sale.orderId && s.type !== 'Conversion')).toEqual([]);

    impact.holdSubmissions(false);
    impact.settleSubmission(sub.batchId);
    expect(await final(sale)).toMatchObject({ status: 'sent', action: 'credit' });
    expect(await settledRow(sale.orderId, 'credit', 'sent')).toMatchObject({ status: 'sent', queued_uri: null });
    expect(impact.credits.get(`10:${sale.orderId}`)).toBe(49);

    // The refund went out after the sale was processed; its own submission (processed at once now) is followed to sent as well.
    expect(await final(refund)).toMatchObject({ status: 'sent', action: 'refund' });
    expect(impact.actions.get(`10:${sale.orderId}`)?.amount).toBe(40);
    expect([...impact.apiSubmissions.values()].filter((s) => s.orderId === sale.orderId).map((s) => [s.type, s.status, s.errorReason]))
      .toEqual([['Conversion', 'Complete', null], ['Modification', 'Complete', null]]);
    expect(watch.deadLetters.filter((d) => d.conversionId === sale.conversionId || d.conversionId === refund.conversionId)).toEqual([]);
  });

  it('a restart while following resumes from the ledger: the submission is checked, not sent again', async () => {
    impact.holdSubmissions(true);
    const sale = saleFor();
    await producer.send([sale]);
    const sub = await queuedSubmission(sale.orderId, 'Conversion');
    await waitFor(async () => ((await ledgerRow(sale.orderId, 'credit'))?.follow_checks ?? 0) >= 1 || undefined, { what: 'a check of the queued sale' });
    await dispatcher.stop();
    const stopped = await ledgerRow(sale.orderId, 'credit');
    expect(stopped).toMatchObject({ status: 'pending', queued_uri: `/Advertisers/IRsid/APISubmissions/${sub.batchId}` });

    impact.holdSubmissions(false);
    impact.settleSubmission(sub.batchId);
    dispatcher = await start();
    expect(await final(sale)).toMatchObject({ status: 'sent', action: 'credit' });
    // The outcome is published before the ledger settles: wait for the settle, then hold it.
    expect(await settledRow(sale.orderId, 'credit', 'sent')).toMatchObject({ status: 'sent', attempts: 1 });
    // One POST in all: the new instance followed the stored URI instead of sending the conversion again.
    expect(impact.submissions.filter((s) => s.fields.OrderId === sale.orderId)).toHaveLength(1);
    expect(impact.duplicates()).toBe(0);
  });

  it('still queued after the whole schedule: gave up following, dead-lettered and failed, never counted as sent', async () => {
    impact.holdSubmissions(true);
    const sale = saleFor(giveUpIntegrationId);
    await producer.send([sale]);
    const sub = await queuedSubmission(sale.orderId, 'Conversion');
    const out = await final(sale);
    expect(out).toMatchObject({ status: 'failed', action: 'credit' });
    expect(out.error).toBe(`gave up following impact submission /Advertisers/IRsid/APISubmissions/${sub.batchId}: still In Progress after 3 checks over 150 ms; not known to be credited, check it in impact`);
    expect(await waitFor(() => watch.deadLetters.find((d) => d.conversionId === sale.conversionId), { what: 'dead letter' })).toMatchObject({ reason: out.error });
    expect(await settledRow(sale.orderId, 'credit', 'failed', giveUpDestination)).toMatchObject({ status: 'failed', last_error: out.error, queued_uri: null });
    impact.holdSubmissions(false);
  });
});
