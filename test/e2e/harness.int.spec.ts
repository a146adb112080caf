import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  TEST_SECRETS_KEY, stackEndpoints, startPipelineProcesses, startPrivatePostgres, uniqueId, waitFor,
  type PipelineProcesses, type PrivatePostgres,
} from '@sas/testkit';

/**
 * The chaos harness itself: the four services as real processes on a private PostgreSQL;
 * a SIGKILLed service and a SIGKILLed postmaster come back and answer /readyz again.
 */
describe('pipeline process harness', () => {
  let pg: PrivatePostgres;
  let pipeline: PipelineProcesses;
  const readyz = async (url: string) => (await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(3_000) })).status;

  beforeAll(async () => {
    pg = await startPrivatePostgres();
    const s = stackEndpoints();
    pipeline = await startPipelineProcesses({
      env: {
        KAFKA_BROKERS: s.kafkaBrokers, SCHEMA_REGISTRY_URL: s.schemaRegistryUrl, DATABASE_URL: pg.url, STRIPE_API_BASE: s.stripeApiBase,
        KAFKA_TOPIC_PREFIX: `${uniqueId('harness')}.`, SECRETS_KEY: TEST_SECRETS_KEY, LOG_LEVEL: 'warn',
        MAPPER_GROUP_ID: uniqueId('m'), SCHEDULER_GROUP_ID: uniqueId('s'), DISPATCHER_GROUP_ID: uniqueId('d'),
        // A restarted consumer joins its group before /readyz answers; the killed member's session must expire first.
        MAPPER_SESSION_TIMEOUT_MS: '6000', SCHEDULER_SESSION_TIMEOUT_MS: '6000', CONSUMER_SESSION_TIMEOUT_MS: '6000',
      },
    });
  });

  afterAll(async () => {
    await pipeline?.stopAll();
    await pg?.stop();
  });

  it('restarts a SIGKILLed service under a new pid on the same URL', async () => {
    const { mapper } = pipeline;
    const before = mapper.pid;
    expect(before).toBeTypeOf('number');
    await mapper.kill();
    expect(mapper.pid).toBeUndefined();
    await expect(fetch(`${mapper.url}/healthz`)).rejects.toThrow();
    await mapper.restart();
    expect(mapper.pid).toBeTypeOf('number');
    expect(mapper.pid).not.toBe(before);
    expect(await readyz(mapper.url)).toBe(200);
  });

  it('a SIGKILLed private PostgreSQL makes ingest unready until it is started again', async () => {
    const { ingest } = pipeline;
    expect(await readyz(ingest.url)).toBe(200);
    const postmaster = pg.pid;
    await pg.kill();
    await waitFor(async () => ((await readyz(ingest.url)) === 503 ? true : undefined), { timeoutMs: 10_000, what: 'ingest unready without PostgreSQL' });
    await pg.start();
    expect(pg.pid).not.toBe(postmaster);
    await waitFor(async () => ((await readyz(ingest.url)) === 200 ? true : undefined), { timeoutMs: 15_000, what: 'ingest ready again' });
    // An unknown integration is looked up in PostgreSQL: 404 means the database answers again.
    const res = await fetch(pipeline.webhookUrl('int_missing'), { method: 'POST', headers: { 'content-type': 'application/json', 'stripe-signature': 't=1,v1=00' }, body: '{}' });
    expect(res.status).toBe(404);
  });
});
