import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { Kafka, logLevel } from 'kafkajs';
import { RawEventHeaders, topicName } from '@sas/contracts';
import { createIntegration, createLogger, createPool, createSecretBox, migrate, parseKey } from '@sas/runtime';
import {
  TEST_SECRETS_KEY, freePort, invoicePaidEvent, randomWebhookSecret, serviceEnv, stackEndpoints, stripeSignature,
  uniqueId, waitFor,
} from '@sas/testkit';

const mainTs = fileURLToPath(new URL('../src/main.ts', import.meta.url));

/** SIGTERM under load: stop accepting, answer what is in flight after its write, flush, exit 0. */
describe('ingest shutdown', () => {
  it('on SIGTERM finishes in-flight writes, exits 0, and every 2xx event is in the topic', async () => {
    const prefix = `${uniqueId('term')}.`;
    const integrationId = uniqueId('int_');
    const secret = randomWebhookSecret();
    await migrate(stackEndpoints().databaseUrl, createLogger('t', 'warn'));
    const pool = createPool(stackEndpoints().databaseUrl);
    await createIntegration(pool, createSecretBox(parseKey(TEST_SECRETS_KEY)), { id: integrationId, name: 'Shutdown', webhookSecrets: [secret] });
    await pool.end();

    const port = await freePort();
    const child = spawn(process.execPath, ['--import', 'tsx', mainTs], {
      env: { ...process.env, ...serviceEnv(prefix, { INGEST_PORT: String(port), LOG_LEVEL: 'info' }) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = ''; // stdout (pino) and stderr together
    child.stderr!.on('data', (d: Buffer) => { stderr += d.toString(); });
    child.stdout!.on('data', (d: Buffer) => { stderr += d.toString(); });
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    const url = `http://127.0.0.1:${port}`;
    await waitFor(async () => ((await fetch(`${url}/readyz`).catch(() => null))?.ok ? true : undefined), { timeoutMs: 60_000, what: 'ingest ready' });

    const answers: { id: string; status: number | 'refused' }[] = [];
    let terminated = false;
    const worker = async () => {
      // Keep sending until the server no longer accepts connections after SIGTERM.
      for (;;) {
        const event = invoicePaidEvent();
        const body = JSON.stringify(event);
        try {
          const res = await fetch(`${url}/webhooks/stripe/${integrationId}`, {
            method: 'POST', headers: { 'content-type': 'application/json', 'stripe-signature': stripeSignature(body, secret) }, body,
          });
          await res.arrayBuffer();
          answers.push({ id: event.id, status: res.status });
        } catch {
          answers.push({ id: event.id, status: 'refused' });
          if (terminated) return;
        }
      }
    };
    const workers = Array.from({ length: 16 }, worker);
    await new Promise((r) => setTimeout(r, 1_500));
    const sentBeforeTerm = answers.length;
    terminated = true;
    child.kill('SIGTERM');
    const code = await exited;
    await Promise.all(workers);

    // The process's own errors (a broker hiccup logged by KafkaJS is not one).
    const ownErrors = stderr.split('\n').filter((l) => l.includes('"level":50') && !l.includes('"component":"kafkajs"'));
    expect({ code, ownErrors }).toEqual({ code: 0, ownErrors: [] });
    expect(stderr).toMatch(/"msg":"ingest stopped"/);
    expect(sentBeforeTerm).toBeGreaterThan(20);
    expect(answers.filter((a) => a.status !== 200 && a.status !== 503 && a.status !== 'refused')).toEqual([]);

    const acked = new Set(answers.filter((a) => a.status === 200).map((a) => a.id));
    const kafka = new Kafka({ brokers: [stackEndpoints().kafkaBrokers], logLevel: logLevel.NOTHING });
    const admin = kafka.admin();
    await admin.connect();
    const offsets = await admin.fetchTopicOffsets(topicName('stripeEvents', prefix));
    await admin.disconnect();
    const inTopic = offsets.reduce((n, p) => n + Number(p.high), 0);
    const consumer = kafka.consumer({ groupId: uniqueId('verify') });
    const found = new Set<string>();
    await consumer.connect();
    await consumer.subscribe({ topic: topicName('stripeEvents', prefix), fromBeginning: true });
    await consumer.run({ eachMessage: async ({ message }) => { found.add(String(message.headers?.[RawEventHeaders.eventId])); } });
    await waitFor(() => (found.size >= inTopic ? true : undefined), { timeoutMs: 30_000, what: 'topic read to its end' });
    await consumer.disconnect();
    expect([...acked].filter((id) => !found.has(id))).toEqual([]);
    // Nothing was written that the server did not answer 200 to (a request cut short by shutdown is not half-written).
    expect(inTopic).toBe(acked.size);
  }, 120_000);
});
