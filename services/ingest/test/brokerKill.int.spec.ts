import { afterAll, describe, expect, it } from 'vitest';
import { Kafka, logLevel } from 'kafkajs';
import { RawEventHeaders, topicName } from '@sas/contracts';
import { createIntegration, createLogger, createPool, createSecretBox, loadConfig, migrate, parseKey } from '@sas/runtime';
import {
  TEST_SECRETS_KEY, invoicePaidEvent, randomWebhookSecret, serviceEnv, stackEndpoints, startPrivateKafka,
  stripeSignature, uniqueId, waitFor, type PrivateKafka,
} from '@sas/testkit';
import { ingestEnv, startIngest, type RunningIngest } from '../src/index.js';

/**
 * The promise behind every 2xx: the event is durable. A broker of our own is SIGKILLed in the
 * middle of a stream of webhooks and started again; afterwards every event that got a 2xx
 * must be in the topic, and every other request must have been told to retry (503).
 */
describe.skipIf(!stackEndpoints().kafkaLibs)('ingest when the broker dies mid-stream', () => {
  let broker: PrivateKafka | undefined;
  let ingest: RunningIngest | undefined;
  afterAll(async () => {
    await ingest?.stop().catch(() => undefined);
    await broker?.close();
  });

  it('keeps every acknowledged event and answers 503 while Kafka is gone', async () => {
    broker = await startPrivateKafka(stackEndpoints().kafkaLibs!);
    const prefix = `${uniqueId('kill')}.`;
    const integrationId = uniqueId('int_');
    const secret = randomWebhookSecret();
    const env = serviceEnv(prefix, { KAFKA_BROKERS: broker.brokers, INGEST_PORT: '0', PUBLISH_TIMEOUT_MS: '1500' });
    const log = createLogger('broker-kill', env.LOG_LEVEL);
    await migrate(stackEndpoints().databaseUrl, log);
    const pool = createPool(stackEndpoints().databaseUrl);
    await createIntegration(pool, createSecretBox(parseKey(TEST_SECRETS_KEY)), { id: integrationId, name: 'Kill test', webhookSecrets: [secret] });
    await pool.end();
    ingest = await startIngest(loadConfig(ingestEnv, env), log);

    const answers: { id: string; status: number; at: number; retryAfter?: string | null }[] = [];
    const started = Date.now();
    // Workers run until ingest has stored events again after the restart, plus a little more.
    // How long that takes varies (KRaft recovery after SIGKILL, KafkaJS reconnect backoff), so
    // the test waits for the first post-restart 200 itself rather than a fixed time, up to a
    // generous bound that only a real failure to recover exceeds.
    let stopAt = Number.POSITIVE_INFINITY;
    let restartedAt = Number.POSITIVE_INFINITY;
    let recovered!: () => void;
    const recovery = new Promise<void>((r) => { recovered = r; });
    const worker = async () => {
      while (Date.now() < stopAt) {
        const event = invoicePaidEvent();
        const body = JSON.stringify(event);
        try {
          const res = await fetch(`${ingest!.url}/webhooks/stripe/${integrationId}`, {
            method: 'POST',
            headers: { 'content-type': 'application/json', 'stripe-signature': stripeSignature(body, secret) },
            body,
            signal: AbortSignal.timeout(10_000),
          });
          const at = Date.now() - started;
          answers.push({ id: event.id, status: res.status, at, retryAfter: res.headers.get('retry-after') });
          if (res.status === 200 && at > restartedAt) recovered();
          await res.arrayBuffer();
        } catch {
          answers.push({ id: event.id, status: 0, at: Date.now() - started });
        }
        if (answers.at(-1)!.status !== 200) await new Promise((r) => setTimeout(r, 50));
      }
    };
    const chaos = (async () => {
      await new Promise((r) => setTimeout(r, 3_000));
      await broker!.kill();
      const killedAt = Date.now() - started;
      await new Promise((r) => setTimeout(r, 3_000));
      await broker!.restart();
      restartedAt = Date.now() - started;
      let bound: NodeJS.Timeout | undefined;
      await Promise.race([recovery, new Promise((r) => { bound = setTimeout(r, 60_000); })]);
      clearTimeout(bound);
      const recoveredAt = Date.now() - started;
      // Keep the stream going after recovery, so more than one post-restart write is checked.
      stopAt = Date.now() + 2_000;
      return { killedAt, recoveredAt };
    })();
    await Promise.all(Array.from({ length: 8 }, worker));
    const { killedAt, recoveredAt } = await chaos;
    await ingest.stop();
    ingest = undefined;

    log.info(({ killedAt, restartedAt, recoveredAt, timeline: Object.entries(answers.reduce<Record<string, number>>((m, a) => { const k = `${Math.floor(a.at / 1000)}s:${a.status}`; m[k] = (m[k] ?? 0) + 1; return m; }, {})) }), "broker kill timeline");
    const acked = new Set(answers.filter((a) => a.status === 200).map((a) => a.id));
    const statuses = new Set(answers.map((a) => a.status));
    // Every request was answered, and only with "stored" or "retry later".
    expect([...statuses].filter((s) => s !== 200 && s !== 503)).toEqual([]);
    expect(answers.filter((a) => a.at > killedAt + 500 && a.at < restartedAt && a.status === 503).length).toBeGreaterThan(0);
    // Ingest recovers by itself once the broker is back (within the 60 s bound above).
    expect(answers.filter((a) => a.at > restartedAt && a.status === 200).length).toBeGreaterThan(0);
    // Stripe is told when to come back.
    expect(answers.filter((a) => a.status === 503 && !a.retryAfter)).toEqual([]);
    expect(answers.filter((a) => a.at < killedAt && a.status === 200).length).toBeGreaterThan(0);

    const kafka = new Kafka({ brokers: [broker.brokers], logLevel: logLevel.NOTHING });
    const consumer = kafka.consumer({ groupId: uniqueId('verify') });
    const found = new Set<string>();
    await consumer.connect();
    await consumer.subscribe({ topic: topicName('stripeEvents', prefix), fromBeginning: true });
    await consumer.run({ eachMessage: async ({ message }) => { found.add(String(message.headers?.[RawEventHeaders.eventId])); } });
    await waitFor(() => ([...acked].every((id) => found.has(id)) ? true : undefined), { timeoutMs: 60_000, what: 'every 2xx event in the topic' })
      .catch(() => undefined);
    await consumer.disconnect();
    const missing = [...acked].filter((id) => !found.has(id));
    expect({ acked: acked.size, missing }).toEqual({ acked: acked.size, missing: [] });
    expect(acked.size).toBeGreaterThan(50);
  }, 240_000);
});
