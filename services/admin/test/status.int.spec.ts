import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { topicName } from '@sas/contracts';
import { createIntegration, createKafka, createLogger, createPool, createSecretBox, ensureTopics, loadConfig, migrate, parseKey, type Pool } from '@sas/runtime';
import { mapperEnv, startMapper, type RunningMapper } from '@sas/mapper';
import { dispatcherEnv, startDispatcher, type RunningDispatcher } from '@sas/dispatcher';
import { TEST_SECRETS_KEY, runSas, serviceEnv, stackEndpoints, startWebhookStub, uniqueId, waitFor, type WebhookStub } from '@sas/testkit';
import { conversion, createConversionProducer } from '../../dispatcher/test/fixtures.js';
import type { StatusReport } from '../src/status/report.js';

/**
 * `sas status` as an operator types it, over a deployment on a private prefix: the real mapper
 * dead-letters a poison event, the real dispatcher sends a sale to one webhook that takes it and
 * one that refuses it, two refunds wait in the scheduler's table, and the scheduler's group
 * has read nothing yet.
 */
describe('sas status', () => {
  const prefix = `${uniqueId('stat')}.`;
  const integrationId = uniqueId('int_stat_');
  const secret = 'whsec_' + Buffer.from('s'.repeat(24)).toString('base64');
  const groups = { MAPPER_GROUP_ID: uniqueId('m-'), SCHEDULER_GROUP_ID: uniqueId('s-'), DISPATCHER_GROUP_ID: uniqueId('d-') };
  const nextDue = new Date(Date.now() + 3_600_000);
  let wh: WebhookStub;
  let pool: Pool;
  let mapper: RunningMapper;
  let dispatcher: RunningDispatcher;
  // Only what the command needs: Kafka, PostgreSQL, the prefix and the services' group ids.
  const env = () => ({ KAFKA_BROKERS: stackEndpoints().kafkaBrokers, DATABASE_URL: stackEndpoints().databaseUrl, KAFKA_TOPIC_PREFIX: prefix, ...groups });

  beforeAll(async () => {
    wh = await startWebhookStub({ secret });
    const log = createLogger('status-test', 'silent');
    const senv = serviceEnv(prefix, { ...groups, MAPPER_HEALTH_PORT: '0', DISPATCHER_HEALTH_PORT: '0', DISPATCH_POLL_MS: '50', LOG_LEVEL: 'silent' });
    await migrate(stackEndpoints().databaseUrl, log);
    pool = createPool(stackEndpoints().databaseUrl);
    await createIntegration(pool, createSecretBox(parseKey(TEST_SECRETS_KEY)), {
      id: integrationId, name: 'Status Inc.', webhookSecrets: ['whsec_x'],
      destinations: [
        { id: `${integrationId}_ok`, type: 'webhook', settings: { url: `${wh.baseUrl}/hooks` }, credentials: { signingSecret: secret } },
        { id: `${integrationId}_bad`, type: 'webhook', settings: { url: `${wh.baseUrl}/hooks` }, credentials: { signingSecret: 'whsec_wrong' } },
      ],
    });
    // Two refunds in the scheduler's table: one waiting for its hold, one whose release is unknown.
    for (const [state, due] of [['held', nextDue], ['unknown', new Date(Date.now() - 60_000)]] as const) {
      await pool.query(
        `INSERT INTO held_conversions (namespace, conversion_id, integration_id, customer_id, not_before, release_after, record_key, record_value, state, lane)
         VALUES ($1, $2, $3, 'cus_1', $4, $4, 'k', '\\x00'::bytea, $5, 0)`,
        [prefix, uniqueId('cnv_'), integrationId, due, state]);
    }
    const kafka = createKafka({ brokers: [stackEndpoints().kafkaBrokers], clientId: 'status-test', log });
    await ensureTopics(kafka, prefix);
    [mapper, dispatcher] = await Promise.all([startMapper(loadConfig(mapperEnv, senv), log), startDispatcher(loadConfig(dispatcherEnv, senv), log)]);
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({ topic: topicName('stripeEvents', prefix), messages: [{ key: 'poison', value: '{"id":', headers: { 'x-integration-id': integrationId } }] });
    await producer.disconnect();
    const conversions = await createConversionProducer({ brokers: stackEndpoints().kafkaBrokers, registryUrl: stackEndpoints().schemaRegistryUrl, prefix });
    await conversions.send([conversion({ integrationId, kind: 'SALE_FIRST' })]);
    await conversions.close();
  });
  afterAll(async () => {
    await Promise.all([mapper?.stop(), dispatcher?.stop()]);
    await pool?.end();
    await wh?.close();
  });

  it('shows lag per group, dispatch per destination, held refunds and open dead letters (--json)', async () => {
    const report = await waitFor(async () => {
      const r = await runSas(['status', integrationId, '--json'], env());
      const s = r.json<StatusReport>();
      const settled = s.dispatch.every((d) => d.pending === 0 && d.sent + d.failed === 1) && s.deadLetters.mapper.open === 1 && s.deadLetters.dispatcher.open === 1
        && s.consumerLag.find((g) => g.service === 'mapper')!.lag === 0 && s.consumerLag.find((g) => g.service === 'dispatcher')!.lag === 0;
      return r.code === 0 && settled ? s : undefined;
    }, { timeoutMs: 50_000, intervalMs: 500, what: 'the sale dispatched, the poison event dead-lettered and both groups caught up' });

    expect(report.integration).toEqual({ id: integrationId, name: 'Status Inc.', status: 'active' });
    const byId = Object.fromEntries(report.dispatch.map((d) => [d.destinationId.slice(integrationId.length + 1), d]));
    expect(byId.ok).toMatchObject({ type: 'webhook', sent: 1, failed: 0, pending: 0, successRate: 1, lastError: null });
    expect(byId.bad).toMatchObject({ type: 'webhook', sent: 0, failed: 1, successRate: 0 });
    expect(byId.bad!.lastError).toMatch(/401/);
    expect(Date.parse(byId.ok!.lastActivityAt!)).toBeGreaterThan(Date.now() - 120_000);

    const lag = Object.fromEntries(report.consumerLag.map((g) => [g.service, g]));
    expect(lag.mapper).toMatchObject({ groupId: `${prefix}${groups.MAPPER_GROUP_ID}`, lag: 0 });
    expect(lag.mapper!.partitions.filter((p) => p.committed !== null).length).toBe(1); // the poison's partition
    expect(lag.dispatcher).toMatchObject({ groupId: `${prefix}${groups.DISPATCHER_GROUP_ID}`, lag: 0 });
    // Nobody runs the scheduler here: its group committed nothing and the sale waits for it.
    expect(lag.scheduler).toMatchObject({ groupId: `${prefix}${groups.SCHEDULER_GROUP_ID}`, lag: 1, members: 0 });
    expect(lag.scheduler!.partitions.every((p) => p.committed === null)).toBe(true);

    expect(report.heldRefunds).toEqual({ held: 1, nextDueAt: nextDue.toISOString(), releasing: 0, unknown: 1 });
    expect(report.deadLetters).toEqual({ mapper: { open: 1, requeued: 0, dropped: 0 }, dispatcher: { open: 1, requeued: 0, dropped: 0 } });
  });

  it('prints a compact block for people, with the services\' /metrics when SAS_METRICS_URLS names them', async () => {
    const r = await runSas(['status', integrationId], { ...env(), SAS_METRICS_URLS: `${mapper.url},${dispatcher.url}/metrics,http://127.0.0.1:9` });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`Integration ${integrationId} (Status Inc., active)`);
    expect(r.stdout).toMatch(new RegExp(`^  scheduler +${prefix.replace(/\./g, '\\.')}${groups.SCHEDULER_GROUP_ID} +\\S+ +0 +1$`, 'm'));
    expect(r.stdout).toMatch(new RegExp(`^  ${integrationId}_ok +webhook +1 +0 +0 +100% `, 'm'));
    expect(r.stdout).toMatch(new RegExp(`^  ${integrationId}_bad +webhook +0 +1 +0 +0% .*401`, 'm'));
    expect(r.stdout).toContain(`Held refunds: 1 held, next due ${nextDue.toISOString()}`);
    expect(r.stdout).toContain('1 unknown');
    expect(r.stdout).toContain('Dead letters (open): mapper 1, dispatcher 1');
    expect(r.stdout).toContain('mapper_events_total{outcome="dead_lettered"} 1');
    expect(r.stdout).toContain(`dispatcher_outcomes_total{destination="${integrationId}_ok",destination_type="webhook",status="sent"} 1`);
    expect(r.stdout).toContain(`dispatcher_dead_letters_total{destination="${integrationId}_bad"} 1`);
    expect(r.stdout).toMatch(/^ {2}http:\/\/127\.0\.0\.1:9: unreachable/m);
  });

  it('fails clearly: unknown integration (exit 1), bad configuration (exit 2), --help; a deployment with no topics yet shows zeros', async () => {
    const [unknown, bad, help, fresh] = await Promise.all([
      runSas(['status', 'int_nobody', '--json'], env()),
      runSas(['status', integrationId], { ...env(), DATABASE_URL: 'not a url' }),
      runSas(['status', '--help'], env()),
      runSas(['status', integrationId, '--json'], { ...env(), KAFKA_TOPIC_PREFIX: `${uniqueId('none')}.` }),
    ]);
    expect(fresh.code).toBe(0);
    expect(fresh.json<StatusReport>()).toMatchObject({
      dispatch: [{ sent: 0, failed: 0, pending: 0, successRate: null }, { sent: 0, failed: 0, pending: 0, successRate: null }],
      heldRefunds: { held: 0, nextDueAt: null, releasing: 0, unknown: 0 },
      deadLetters: { mapper: { open: 0 }, dispatcher: { open: 0 } },
    });
    expect(unknown.code).toBe(1);
    expect(JSON.parse(unknown.stderr)).toEqual({ error: 'no integration int_nobody' });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('DATABASE_URL');
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('consumer lag per group');
  });
});
