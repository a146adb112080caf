import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { Kafka, logLevel } from 'kafkajs';
import { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import { topicName, type MapperDeadLetter } from '@sas/contracts';
import { createIntegration, createKafka, createLogger, createPool, createSecretBox, ensureTopics, migrate, parseKey } from '@sas/runtime';
import { TEST_SECRETS_KEY, invoicePaidEvent, randomWebhookSecret, serviceEnv, stackEndpoints, uniqueId, waitFor } from '@sas/testkit';
import { invoiceSaleId } from '../src/core/invoiceSale.js';
import { rawRecord } from './rawRecords.js';

const repoRoot = fileURLToPath(new URL('../../..', import.meta.url));

/**
 * Exactly-once as downstream sees it: the mapper process is SIGKILLed while it works through
 * a backlog, then started again. Afterwards the conversions topic holds exactly the expected
 * conversion ids, none missing and none extra (a record of the interrupted batch may appear
 * twice, with the same id; downstream ledgers key on it).
 */
describe('mapper killed mid-batch', () => {
  const prefix = `${uniqueId('mkill')}.`;
  const integrationId = uniqueId('int_kill_');
  const children: ChildProcess[] = [];
  afterAll(async () => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  });

  const startChild = (env: NodeJS.ProcessEnv): ChildProcess => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'services/mapper/src/main.ts'], {
      cwd: repoRoot, env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'inherit'],
    });
    children.push(child);
    return child;
  };
  const kill = (c: ChildProcess) => new Promise<void>((r) => { c.once('exit', () => r()); c.kill('SIGKILL'); });

  it('yields every conversion id once it is restarted, and no id that should not exist', async () => {
    const N = 6_000;
    const DUPLICATES = 300; // Stripe delivering some events twice
    const env = serviceEnv(prefix, { MAPPER_HEALTH_PORT: '0', MAPPER_GROUP_ID: uniqueId('mapper-kill-'), LOG_LEVEL: 'error', MAPPER_SESSION_TIMEOUT_MS: '6000' });
    const log = createLogger('mapper-kill', 'silent');
    const { databaseUrl, kafkaBrokers, schemaRegistryUrl } = stackEndpoints();
    await migrate(databaseUrl, log);
    const pool = createPool(databaseUrl);
    await createIntegration(pool, createSecretBox(parseKey(TEST_SECRETS_KEY)), { id: integrationId, name: 'Kill test', webhookSecrets: [randomWebhookSecret()] });

    const kafka = createKafka({ brokers: [kafkaBrokers], clientId: 'mapper-kill-test', log });
    await ensureTopics(kafka, prefix);
    const events = Array.from({ length: N }, (_, i) => invoicePaidEvent({ customer: `cus_k${i % 500}` }));
    const expected = new Set(events.map((e) => invoiceSaleId(integrationId, e.data.object.id)));
    const producer = kafka.producer();
    await producer.connect();
    const records = [...events, ...events.slice(0, DUPLICATES)].map((e) => rawRecord(integrationId, e));
    for (let i = 0; i < records.length; i += 500) {
      await producer.send({ topic: topicName('stripeEvents', prefix), messages: records.slice(i, i + 500) });
    }
    // Poison in the middle of the stream: dead-lettered with its reason, the rest still mapped.
    await producer.send({ topic: topicName('stripeEvents', prefix), messages: [{ key: 'poison', value: '{"id":"evt_poison"', headers: { 'x-integration-id': integrationId, 'x-stripe-event-id': 'evt_poison' } }] });
    await producer.disconnect();

    const seen: string[] = [];
    const watcher = new Kafka({ brokers: [kafkaBrokers], logLevel: logLevel.NOTHING }).consumer({ groupId: uniqueId('watch') });
    const registry = new SchemaRegistry({ host: schemaRegistryUrl });
    await watcher.connect();
    await watcher.subscribe({ topic: topicName('conversions', prefix), fromBeginning: true });
    await watcher.run({ eachMessage: async ({ message }) => { seen.push((await registry.decode(message.value!)).conversionId); } });

    const deadLetters: MapperDeadLetter[] = [];
    const dlqWatcher = new Kafka({ brokers: [kafkaBrokers], logLevel: logLevel.NOTHING }).consumer({ groupId: uniqueId('watch-dlq') });
    await dlqWatcher.connect();
    await dlqWatcher.subscribe({ topic: topicName('mapperDeadLetters', prefix), fromBeginning: true });
    await dlqWatcher.run({ eachMessage: async ({ message }) => { deadLetters.push(JSON.parse(message.value!.toString())); } });

    const first = startChild(env);
    await waitFor(() => (seen.length > 0 ? true : undefined), { timeoutMs: 60_000, intervalMs: 20, what: 'first conversions' });
    await kill(first);
    const seenAtKill = seen.length;
    const handledAtKill = (await pool.query(`SELECT count(*)::int AS n FROM mapper_processed_events WHERE integration_id = $1`, [integrationId])).rows[0].n;

    startChild(env);
    await waitFor(async () => {
      const n = (await pool.query(`SELECT count(*)::int AS n FROM mapper_processed_events WHERE integration_id = $1`, [integrationId])).rows[0].n;
      const ids = new Set(seen);
      return n === N + 1 && [...expected].every((id) => ids.has(id)) ? true : undefined;
    }, { timeoutMs: 90_000, intervalMs: 250, what: 'every conversion after the restart' });
    await new Promise((r) => setTimeout(r, 1_000)); // anything still in flight lands now
    await waitFor(() => (deadLetters.length > 0 ? true : undefined), { timeoutMs: 20_000, what: 'the dead letter' });
    await watcher.disconnect();
    await dlqWatcher.disconnect();
    await pool.end();
    expect(deadLetters[0]).toMatchObject({ code: 'RAW_ERR_JSON', eventId: 'evt_poison', integrationId, topic: topicName('stripeEvents', prefix) });

    // The kill happened mid-stream, not before the first or after the last batch.
    expect(seenAtKill).toBeGreaterThan(0);
    expect(handledAtKill).toBeLessThan(N);
    const distinct = new Set(seen);
    expect([...distinct].filter((id) => !expected.has(id))).toEqual([]);
    expect([...expected].filter((id) => !distinct.has(id))).toEqual([]);
    // Records, not ids, may repeat: the batch cut by the kill and the re-emitted duplicate deliveries.
    expect(seen.length).toBeGreaterThanOrEqual(N);
    log.info({ seenAtKill, handledAtKill, records: seen.length, distinct: distinct.size }, 'kill test');
    process.stderr.write(`mapper kill: ${JSON.stringify({ seenAtKill, handledAtKill, records: seen.length, distinct: distinct.size })}\n`);
  }, 180_000);
});
