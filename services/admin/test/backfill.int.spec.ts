import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Kafka, logLevel, type Consumer } from 'kafkajs';
import { RawEventHeaders, topicName, type StripeEventEnvelope } from '@sas/contracts';
import {
  createDurableProducer, createIntegration, createKafka, createLogger, createPool, createSecretBox, loadConfig,
  Murmur2Partitioner, parseKey, type DurableProducer, type Pool,
} from '@sas/runtime';
import {
  TEST_SECRETS_KEY, invoicePaidEvent, randomWebhookSecret, runSas, serviceEnv, stackEndpoints, stripeSignature, uniqueId, waitFor,
} from '@sas/testkit';
import { ingestEnv, startIngest, type RunningIngest } from '@sas/ingest';
import { mapperEnv, startMapper, type RunningMapper } from '@sas/mapper';
import { runBackfill } from '../src/backfill/runBackfill.js';
import { asDelivered } from '../src/backfill/stripeEventSource.js';

const sasBin = fileURLToPath(new URL('../bin/sas.mjs', import.meta.url));

/**
 * `sas backfill` against the real stack: stripe-mock's event list, Kafka, PostgreSQL, and the
 * mapper running in-process on a private topic prefix, to show that what a backfill re-sends
 * is handled once.
 */
describe('sas backfill', () => {
  const prefix = `${uniqueId('bf')}.`;
  const integrationId = uniqueId('int_bf_');
  const connectAccount = `acct_${uniqueId('bf')}`;
  const keyless = uniqueId('int_bf_nokey_');
  const webhookSecret = randomWebhookSecret();
  const box = createSecretBox(parseKey(TEST_SECRETS_KEY));
  const env = serviceEnv(prefix, { MAPPER_HEALTH_PORT: '0', INGEST_PORT: '0', MAPPER_GROUP_ID: uniqueId('bf-mapper-'), LOG_LEVEL: 'silent' });
  let pool: Pool;
  let mapper: RunningMapper;
  let ingest: RunningIngest;
  let watcher: Consumer;
  const raw: { key: string; value: Buffer; headers: Record<string, string> }[] = [];
  const conversions: Buffer[] = [];

  /** The mapper's count of consumed events by outcome (mapped, duplicate, unhandled, dead_lettered). */
  const mapperEvents = async (): Promise<Record<string, number>> => {
    const text = await (await fetch(`${mapper.url}/metrics`)).text();
    return Object.fromEntries([...text.matchAll(/^mapper_events_total\{outcome="(\w+)"\} (\d+)$/gm)].map((m) => [m[1]!, Number(m[2])]));
  };
  const consumed = (m: Record<string, number>) => Object.values(m).reduce((a, b) => a + b, 0);
  const waitConsumed = (n: number) => waitFor(async () => {
    const m = await mapperEvents();
    return consumed(m) >= n ? m : undefined;
  }, { timeoutMs: 45_000, intervalMs: 200, what: `the mapper to consume ${n} events` });

  beforeAll(async () => {
    pool = createPool(stackEndpoints().databaseUrl);
    const log = createLogger('backfill-test', 'silent');
    mapper = await startMapper(loadConfig(mapperEnv, env), log);
    await createIntegration(pool, box, { id: integrationId, name: 'Backfill Inc.', webhookSecrets: [webhookSecret], accounts: [connectAccount] });
    await createIntegration(pool, box, { id: keyless, name: 'No key', webhookSecrets: [randomWebhookSecret()] });
    await pool.query(`UPDATE integrations SET stripe_key_ciphertext = $2 WHERE id = $1`, [integrationId, box.seal('sk_test_backfill')]);
    const kafka = new Kafka({ brokers: [stackEndpoints().kafkaBrokers], logLevel: logLevel.NOTHING });
    watcher = kafka.consumer({ groupId: uniqueId('bf-watch-') });
    await watcher.connect();
    await watcher.subscribe({ topics: [topicName('stripeEvents', prefix), topicName('conversions', prefix)], fromBeginning: true });
    await watcher.run({
      eachMessage: async ({ topic, message }) => {
        if (topic === topicName('conversions', prefix)) return void conversions.push(message.value!);
        const headers = Object.fromEntries(Object.entries(message.headers ?? {}).map(([k, v]) => [k, String(v)]));
        raw.push({ key: message.key?.toString() ?? '', value: message.value!, headers });
      },
    });
  });

  afterAll(async () => {
    await watcher?.disconnect();
    await ingest?.stop();
    await mapper?.stop();
    await pool?.end();
  });

  const ofRun = (runId: string) => raw.filter((r) => r.headers[RawEventHeaders.backfillRun] === runId);

  it('writes each account\'s events as ingest would, named by the run; backfilling again changes nothing downstream', async () => {
    const t0 = performance.now();
    const first = await runSas(['--json', 'backfill', integrationId, '--from', '-3d', '--only-failed'], env);
    const wallMs = performance.now() - t0;
    expect(first.stderr).not.toMatch(/^sas:/m);
    expect(first.code).toBe(0);
    const run = first.json<{ runId: string; status: string; onlyFailed: boolean; written: number; accounts: { account: string; written: number; done: boolean }[]; durationMs: number }>();
    expect(run).toMatchObject({ status: 'done', onlyFailed: true, written: 2 });
    expect(run.accounts.map((a) => [a.account, a.written, a.done])).toEqual([['platform', 1, true], [connectAccount, 1, true]]);
    // Not a terminal: one JSON progress line per page on stderr.
    const pages = first.stderr.trim().split('\n').map((l) => JSON.parse(l) as { progress: string; runId: string; account: string; written: number });
    expect(pages.map((p) => [p.progress, p.runId, p.account, p.written])).toEqual(
      expect.arrayContaining([['backfill.page', run.runId, 'platform', 1], ['backfill.page', run.runId, connectAccount, 1]]),
    );

    // On the raw topic: ingest's key format and headers, the run's header, Stripe's event as JSON.
    const records = await waitFor(() => (ofRun(run.runId).length >= 2 ? ofRun(run.runId) : undefined), { what: 'the backfilled records' });
    expect(records).toHaveLength(2);
    for (const r of records) {
      const event = JSON.parse(r.value.toString('utf8')) as StripeEventEnvelope;
      const account = r.headers[RawEventHeaders.account] || null;
      expect(r.headers).toMatchObject({
        [RawEventHeaders.integrationId]: integrationId, [RawEventHeaders.eventId]: event.id, [RawEventHeaders.eventType]: event.type,
        [RawEventHeaders.livemode]: String(event.livemode),
      });
      expect(Number(r.headers[RawEventHeaders.receivedAt])).toBeGreaterThan(Date.now() - 120_000);
      expect(r.key).toBe(`${integrationId}:${account ?? '-'}:${String(event.data.object.id)}`);
      // A Connect account's event names its account in the body too, as its webhook would.
      expect(event.account ?? null).toBe(account);
    }
    expect(records.map((r) => r.headers[RawEventHeaders.account]).sort()).toEqual(['', connectAccount].sort());

    // stripe-mock's list holds one event id for every account: the mapper handles it once and
    // counts the other as a duplicate.
    const afterFirst = await waitConsumed(2);
    expect(afterFirst).toMatchObject({ duplicate: 1, dead_lettered: 0 });
    const { rows: handled } = await pool.query(`SELECT event_id, processed_at FROM mapper_processed_events WHERE integration_id = $1`, [integrationId]);
    expect(handled).toHaveLength(1);

    // The same range again: a new run writes the same events again; the mapper drops both.
    const second = await runSas(['--json', 'backfill', integrationId, '--from', '-3d'], env);
    expect(second.code).toBe(0);
    const again = second.json<{ runId: string; written: number }>();
    expect(again.runId).not.toBe(run.runId);
    expect(again.written).toBe(2);
    const afterSecond = await waitConsumed(4);
    expect(afterSecond).toEqual({ ...afterFirst, duplicate: afterFirst.duplicate! + 2 });
    const { rows: handledAgain } = await pool.query(`SELECT event_id, processed_at FROM mapper_processed_events WHERE integration_id = $1`, [integrationId]);
    expect(handledAgain).toEqual(handled); // same row, same processed_at: nothing was handled anew
    expect(conversions).toHaveLength(0);

    // Both runs are listed, newest first, with each account's cursor.
    const listed = (await runSas(['--json', 'backfill', 'list', integrationId], env)).json<{ runs: { runId: string; accounts: { account: string; cursor: string }[] }[] }>();
    expect(listed.runs.map((r) => r.runId)).toEqual([again.runId, run.runId]);
    expect(listed.runs[1]!.accounts.map((a) => a.cursor)).toEqual([handled[0]!.event_id, handled[0]!.event_id]);
    console.info(`backfill via the CLI: 2 events in ${run.durationMs} ms inside the run, ${Math.round(wallMs)} ms for the whole command (tsx start, migrations, Kafka connect)`);
  });

  it('an invoice.paid that came through ingest and again through a backfill is credited once', async () => {
    ingest = await startIngest(loadConfig(ingestEnv, env), createLogger('ingest', 'silent'));
    const m0 = await mapperEvents();
    const event = invoicePaidEvent({ billingReason: 'subscription_create', clickId: 'IRclick-bf-1', unitAmount: 4_900, paidAt: Math.floor(Date.now() / 1000) - 3_600 });
    const body = JSON.stringify(event, null, 2);
    const res = await fetch(`${ingest.url}/webhooks/stripe/${integrationId}`, {
      method: 'POST', headers: { 'content-type': 'application/json', 'stripe-signature': stripeSignature(body, webhookSecret) }, body,
    });
    expect(res.status).toBe(200);
    await waitFor(() => (conversions.length >= 1 ? true : undefined), { timeoutMs: 45_000, what: 'the conversion of the webhook' });

    // The backfill's own path (run store, record builder, durable producer), fed the same event
    // as Stripe's list would return it: stripe-mock lists only its fixed plan.created event.
    const kafka = createKafka({ brokers: [stackEndpoints().kafkaBrokers], clientId: 'bf-test', log: createLogger('bf', 'silent') });
    const producer: DurableProducer = createDurableProducer(kafka, { createPartitioner: Murmur2Partitioner });
    await producer.connect();
    try {
      const listed = JSON.parse(body) as Record<string, unknown>;
      const result = await runBackfill(
        { kind: 'new', integrationId, fromSec: event.created - 60, toSec: event.created + 60, onlyFailed: false, accounts: [null] },
        {
          pool, box, producer, topicPrefix: prefix, stripeApiBase: stackEndpoints().stripeApiBase, stripeTimeoutMs: 10_000, rate: 20, retries: 0,
          stopRequested: () => false, onPage: () => undefined, onRetry: () => undefined,
          fetchPage: async () => ({ events: [asDelivered(listed, null)], hasMore: false }),
        },
      );
      expect(result.run).toMatchObject({ status: 'done', accounts: [{ account: null, written: 1, cursor: event.id, oldestCreated: event.created, done: true }] });
      const copiesOf = () => raw.filter((r) => r.headers[RawEventHeaders.eventId] === event.id);
      const copies = await waitFor(() => (copiesOf().length >= 2 ? copiesOf() : undefined), { what: 'both copies on the raw topic' });
      expect(copies).toHaveLength(2);
      // Same key (so the same partition, after the webhook's copy) and the same labels but the run's.
      expect(copies[1]!.key).toBe(copies[0]!.key);
      const { [RawEventHeaders.backfillRun]: runHeader, [RawEventHeaders.receivedAt]: _r1, ...backfilledLabels } = copies[1]!.headers;
      const { [RawEventHeaders.receivedAt]: _r0, ...webhookLabels } = copies[0]!.headers;
      expect(runHeader).toBe(result.run.id);
      expect(backfilledLabels).toEqual(webhookLabels);
    } finally {
      await producer.disconnect();
    }
    // The webhook's copy was mapped, the backfill's dropped as a duplicate: one conversion.
    const after = await waitConsumed(consumed(m0) + 2);
    expect(after).toEqual({ ...m0, mapped: m0.mapped! + 1, duplicate: m0.duplicate! + 1 });
    expect(conversions).toHaveLength(1);
  });

  it('a run is paged by one process at a time: resuming it while it runs is refused', async () => {
    const kafka = createKafka({ brokers: [stackEndpoints().kafkaBrokers], clientId: 'bf-lock-test', log: createLogger('bf', 'silent') });
    const producer = createDurableProducer(kafka, { createPartitioner: Murmur2Partitioner });
    await producer.connect();
    let release!: () => void;
    const held = new Promise<void>((r) => { release = r; });
    let asked!: () => void;
    const fetching = new Promise<void>((r) => { asked = r; });
    const deps = {
      pool, box, producer, topicPrefix: prefix, stripeApiBase: stackEndpoints().stripeApiBase, stripeTimeoutMs: 10_000, rate: 20, retries: 0,
      stopRequested: () => false, onPage: () => undefined, onRetry: () => undefined,
    };
    try {
      const nowSec = Math.floor(Date.now() / 1000);
      const first = runBackfill({ kind: 'new', integrationId, fromSec: nowSec - 60, toSec: nowSec, onlyFailed: false, accounts: [null] }, {
        ...deps, fetchPage: async () => { asked(); await held; return { events: [], hasMore: false }; },
      });
      await fetching;
      const runId = (await pool.query<{ id: string }>(`SELECT id FROM backfill_runs WHERE integration_id = $1 AND status = 'running' ORDER BY started_at DESC LIMIT 1`, [integrationId])).rows[0]!.id;
      const second = await runBackfill({ kind: 'resume', integrationId, runId }, deps).catch((e: unknown) => e);
      expect(second).toMatchObject({ name: 'BackfillError', exitCode: 1, message: `run ${runId} is being run by another process` });
      release();
      expect((await first).run).toMatchObject({ id: runId, status: 'done' });
    } finally {
      release();
      await producer.disconnect();
    }
  });

  it('refuses a range older than Stripe keeps, an integration without a Stripe key, and options that do not fit', async () => {
    const [old, noKey, badAccount, resumeWithRange] = await Promise.all([
      runSas(['backfill', integrationId, '--from', '-31d'], env),
      runSas(['backfill', keyless, '--from', '-1d'], env),
      runSas(['backfill', integrationId, '--from', '-1d', '--account', 'platform', '--account', 'cus_123'], env),
      runSas(['backfill', integrationId, '--resume', 'bf_x', '--from', '-1d'], env),
    ]);
    expect([badAccount.code, resumeWithRange.code]).toEqual([2, 2]);
    expect(badAccount.stderr).toContain('--account cus_123: expected acct_... or platform');
    expect(resumeWithRange.stderr).toContain('--resume takes the run\'s own range and accounts');
    expect(old.code).toBe(2);
    expect(old.stderr).toMatch(/more than 30 days ago: Stripe keeps events for 30 days/);
    expect(noKey.code).toBe(2);
    expect(noKey.stderr).toContain(`integration ${keyless} has no Stripe API key: store its restricted (read-only) key first (sas integrations update ${keyless} --stripe-key @env:VAR)`);
  });

  it('a run that failed (Stripe out of reach) is shown with its reason and finishes with --resume', async () => {
    // Stripe out of reach: the run fails, keeps its (empty) cursors and says how to resume.
    const down = await runSas(['--json', 'backfill', integrationId, '--from', '-1d', '--retries', '0'], { ...env, STRIPE_API_BASE: 'http://127.0.0.1:9' });
    expect(down.code).toBe(1);
    const error = JSON.parse(down.stderr.trim().split('\n').at(-1)!) as { error: string; details: { runId: string } };
    const runId = error.details.runId;
    expect(error.error).toContain(`resume with: sas backfill ${integrationId} --resume ${runId}`);
    expect(down.json()).toMatchObject({ runId, status: 'failed', written: 0 });
    // Read-only meanwhile: `show`, and a resume under another integration (refused).
    const [shown, other] = await Promise.all([
      runSas(['--json', 'backfill', 'show', runId], env),
      runSas(['backfill', keyless, '--resume', runId], env),
    ]);
    const failed = shown.json<{ status: string; error: string; accounts: { cursor: string | null }[] }>();
    expect(failed).toMatchObject({ status: 'failed', accounts: [{ cursor: null }, { cursor: null }] });
    expect(failed.error).toMatch(/^platform account: /);
    expect(other.code).toBe(2);
    expect(other.stderr).toContain(`run ${runId} belongs to integration ${integrationId}, not ${keyless}`);

    const resumed = await runSas(['--json', 'backfill', integrationId, '--resume', runId], env);
    expect(resumed.code).toBe(0);
    expect(resumed.json()).toMatchObject({ runId, status: 'done', error: null, written: 2, writtenThisTime: 2 });
    await waitFor(() => (ofRun(runId).length === 2 ? true : undefined), { what: 'the resumed run\'s records' });
  });

  it('Ctrl-C stops after the page in hand and says how to resume; --resume lists the rest', async () => {
    // At 0.2 requests/s the Connect account's request waits 5 s for its slot: Ctrl-C lands there.
    const child = spawn(process.execPath, [sasBin, '--json', 'backfill', integrationId, '--from', '-1d', '--rate', '0.2'], { env: { ...process.env, ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    await waitFor(() => (stderr.includes('"backfill.page"') ? true : undefined), { timeoutMs: 30_000, what: 'the first page' });
    child.kill('SIGINT');
    expect(await exited).toBe(1);
    const result = JSON.parse(stdout) as { runId: string; status: string; accounts: { account: string; written: number; done: boolean }[] };
    expect(result).toMatchObject({ status: 'interrupted', accounts: [{ account: 'platform', written: 1, done: true }, { account: connectAccount, written: 0, done: false }] });
    expect(stderr).toContain('stopping after the current page');
    expect(JSON.parse(stderr.trim().split('\n').at(-1)!)).toMatchObject({ error: `backfill ${result.runId} interrupted; resume with: sas backfill ${integrationId} --resume ${result.runId}` });

    const resumed = await runSas(['--json', 'backfill', integrationId, '--resume', result.runId], env);
    expect(resumed.code).toBe(0);
    expect(resumed.json()).toMatchObject({
      runId: result.runId, status: 'done', written: 2, writtenThisTime: 1,
      accounts: [{ account: 'platform', written: 1, done: true }, { account: connectAccount, written: 1, done: true }],
    });
    const records = await waitFor(() => (ofRun(result.runId).length >= 2 ? ofRun(result.runId) : undefined), { what: 'both accounts\' records' });
    expect(records.map((r) => r.headers[RawEventHeaders.account])).toEqual(['', connectAccount]);
  });
});
