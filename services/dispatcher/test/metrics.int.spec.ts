import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createIntegration, createKafka, createLogger, createPool, createSecretBox, ensureTopics, loadConfig, migrate, parseKey } from '@sas/runtime';
import { TEST_SECRETS_KEY, serviceEnv, stackEndpoints, startWebhookStub, uniqueId, waitFor, type WebhookStub } from '@sas/testkit';
import { dispatcherEnv, startDispatcher, type RunningDispatcher } from '../src/index.js';
import { conversion, createConversionProducer } from './fixtures.js';

/** The value of one sample in Prometheus text, or undefined when it is not there. */
const sample = (text: string, series: string): number | undefined => {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
};

describe('dispatcher /metrics', () => {
  const prefix = `${uniqueId('dmet')}.`;
  const integrationId = uniqueId('int_dmet_');
  const secret = 'whsec_' + Buffer.from('m'.repeat(24)).toString('base64');
  let wh: WebhookStub;
  let dispatcher: RunningDispatcher;
  let producer: Awaited<ReturnType<typeof createConversionProducer>>;

  beforeAll(async () => {
    wh = await startWebhookStub({ secret });
    const env = serviceEnv(prefix, { DISPATCHER_HEALTH_PORT: '0', DISPATCHER_GROUP_ID: uniqueId('g'), DISPATCH_POLL_MS: '50', PARTNER_TIMEOUT_MS: '2000', LOG_LEVEL: 'silent' });
    const log = createLogger('dispatcher-metrics', 'silent');
    await migrate(stackEndpoints().databaseUrl, log);
    const pool = createPool(stackEndpoints().databaseUrl);
    await createIntegration(pool, createSecretBox(parseKey(TEST_SECRETS_KEY)), {
      id: integrationId, name: 'Dispatch metrics', webhookSecrets: ['whsec_x'],
      destinations: [
        { id: `${integrationId}_ok`, type: 'webhook', settings: { url: `${wh.baseUrl}/hooks` }, credentials: { signingSecret: secret } },
        // Signed with the wrong secret: the receiver answers 401, which no retry can fix.
        { id: `${integrationId}_bad`, type: 'webhook', settings: { url: `${wh.baseUrl}/hooks` }, credentials: { signingSecret: 'whsec_wrong' } },
        { id: `${integrationId}_dry`, type: 'dry_run', settings: { target: 'partnerstack', publicKey: 'pub', baseUrl: 'https://api.partnerstack.test/api/v2' }, credentials: {} },
      ],
    });
    await pool.end();
    await ensureTopics(createKafka({ brokers: [stackEndpoints().kafkaBrokers], clientId: 'dispatcher-metrics-test', log }), prefix);
    dispatcher = await startDispatcher(loadConfig(dispatcherEnv, env), log);
    producer = await createConversionProducer({ brokers: stackEndpoints().kafkaBrokers, registryUrl: stackEndpoints().schemaRegistryUrl, prefix });
  });
  afterAll(async () => {
    await producer?.close();
    await dispatcher?.stop();
    await wh?.close();
  });

  it('counts outcomes per destination and status, dead letters per destination, lanes and consumer lag', async () => {
    await producer.send([conversion({ integrationId, kind: 'SALE_FIRST' })]);
    const series = (id: string, type: string, status: string) => `dispatcher_outcomes_total{destination="${integrationId}_${id}",destination_type="${type}",status="${status}"}`;
    const text = await waitFor(async () => {
      const t = await (await fetch(`${dispatcher.url}/metrics`)).text();
      const settled = sample(t, series('ok', 'webhook', 'sent')) === 1 && sample(t, series('bad', 'webhook', 'failed')) === 1 && sample(t, series('dry', 'dry_run', 'dry_run')) === 1;
      // The outcome is counted when it is made; the lane frees its slot once the ledger has it.
      const idle = sample(t, `dispatcher_lane_in_flight{destination="${integrationId}_ok",destination_type="webhook"}`) === 0;
      return settled && idle ? t : undefined;
    }, { timeoutMs: 30_000, intervalMs: 200, what: 'outcomes counted on /metrics' });
    expect(sample(text, `dispatcher_dead_letters_total{destination="${integrationId}_bad"}`)).toBe(1);
    expect(sample(text, `dispatcher_dead_letters_total{destination="${integrationId}_ok"}`)).toBeUndefined();
    expect(sample(text, `dispatcher_lane_in_flight{destination="${integrationId}_ok",destination_type="webhook"}`)).toBe(0);
    expect(sample(text, `dispatcher_lane_queued{destination="${integrationId}_ok",destination_type="webhook"}`)).toBe(0);
    expect(sample(text, `dispatcher_lane_breaker_open{destination="${integrationId}_bad",destination_type="webhook"}`)).toBe(0);
    const lags = [...text.matchAll(/^dispatcher_consumer_lag\{topic="([^"]+)",partition="\d+"\} (\d+)$/gm)];
    expect(lags.map((m) => m[1])).toContain(`${prefix}conversions.v1`);
    expect(lags.every((m) => m[2] === '0')).toBe(true);
    expect(text).toMatch(/^dispatcher_process_cpu_seconds_total /m);
    // The lanes' JSON moved to /metrics/lanes.
    const lanes = (await (await fetch(`${dispatcher.url}/metrics/lanes`)).json()) as { lanes: Record<string, { held: number; inFlight: number }> };
    expect(lanes.lanes[`${integrationId}_ok`]).toMatchObject({ held: 0, inFlight: 0 });
  });
});
