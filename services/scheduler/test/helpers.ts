import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Kafka, logLevel, Partitioners } from 'kafkajs';
import type { FastifyInstance } from 'fastify';
import pg from 'pg';
import { conversionKey, NO_SOURCED_CLICKS, topicName, type Conversion } from '@sas/contracts';
import { createConversionCodec } from '@sas/runtime';
import { serviceEnv, stackEndpoints, uniqueId, waitFor } from '@sas/testkit';

/** A held refund with defaults; `due` is when it is due (epoch ms). */
export const refund = (o: Partial<Conversion> & { due?: number } = {}): Conversion => {
  const { due, ...rest } = o;
  const id = uniqueId('cnv_');
  const notBefore = due ?? Date.now() + 1_000;
  return {
    conversionId: id, kind: 'REFUND_FULL', saleReason: null, sourceEventIds: [uniqueId('evt_')],
    integrationId: 'int_sched', stripeAccount: null, livemode: false,
    occurredAt: notBefore - 3_600_000, receivedAt: notBefore - 3_600_000,
    orderId: `in_${id}`, customerId: 'cus_sched', subscriptionId: 'sub_sched', chargeId: `ch_${id}`,
    attribution: { ...NO_SOURCED_CLICKS, clickId: 'clk', partnerKey: null, customerKey: null, promoCode: null, emailSha256: null, productKey: null },
    attributed: true, currency: 'USD', amountMinor: 4_900, taxMinor: 0, discountMinor: 0, lineItems: [],
    notBefore, refundId: `re_${id}`, orderAmountMinor: 4_900, refundedTotalMinor: 4_900, saleNetMinor: 4_900,
    ...rest,
  };
};

export const keyOf = (c: Conversion) => conversionKey({ account: c.stripeAccount, customerId: c.customerId, subscriptionId: c.subscriptionId, orderId: c.orderId });

export const testKafka = (brokers = stackEndpoints().kafkaBrokers) => new Kafka({ brokers: [brokers], logLevel: logLevel.NOTHING });

/** Encode through the registry and write to `<prefix>conversions.v1`, as the mapper does. */
export const produceConversions = async (prefix: string, conversions: readonly Conversion[], kafka = testKafka()) => {
  const codec = createConversionCodec(stackEndpoints().schemaRegistryUrl);
  const topic = topicName('conversions', prefix);
  const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner, allowAutoTopicCreation: false });
  await producer.connect();
  try {
    const messages = await Promise.all(conversions.map(async (c) => ({ key: keyOf(c), value: await codec.encode(topic, c) })));
    for (let i = 0; i < messages.length; i += 1_000) await producer.send({ topic, acks: -1, messages: messages.slice(i, i + 1_000) });
  } finally {
    await producer.disconnect();
  }
};

export interface DueRecord { readonly conversionId: string; readonly key: string; readonly partition: number; readonly offset: string; readonly value: Buffer }

/** Read `<prefix>conversions.due.v1` from the start; read_committed unless told otherwise. */
export const watchDue = async (prefix: string, opts: { readUncommitted?: boolean; kafka?: Kafka } = {}) => {
  const kafka = opts.kafka ?? testKafka();
  const codec = createConversionCodec(stackEndpoints().schemaRegistryUrl);
  const consumer = kafka.consumer({ groupId: uniqueId('due-watch'), readUncommitted: opts.readUncommitted ?? false });
  const records: DueRecord[] = [];
  await consumer.connect();
  await consumer.subscribe({ topic: topicName('conversionsDue', prefix), fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ partition, message }) => {
      const c = await codec.decode(message.value!);
      records.push({ conversionId: c.conversionId, key: message.key!.toString(), partition, offset: message.offset, value: message.value! });
    },
  });
  return {
    records,
    countOf: (id: string) => records.filter((r) => r.conversionId === id).length,
    /** Wait until every id arrived, then a little longer so a second copy would show up too. */
    waitForAll: async (ids: readonly string[], timeoutMs = 60_000) => {
      await waitFor(() => (ids.every((id) => records.some((r) => r.conversionId === id)) ? true : undefined), { timeoutMs, what: `${ids.length} due records` });
      await new Promise((r) => setTimeout(r, 1_500));
    },
    close: () => consumer.disconnect(),
  };
};

export const duplicatesIn = (records: readonly DueRecord[]) => {
  const n = new Map<string, number>();
  for (const r of records) n.set(r.conversionId, (n.get(r.conversionId) ?? 0) + 1);
  return [...n].filter(([, k]) => k > 1).map(([id, k]) => ({ id, k }));
};

export const stateCounts = async (db: pg.Pool, prefix: string): Promise<Record<string, number>> => {
  const { rows } = await db.query<{ state: string; n: string }>(
    `SELECT state, count(*) AS n FROM held_conversions WHERE namespace = $1 GROUP BY state`, [prefix]);
  return Object.fromEntries(rows.map((r) => [r.state, Number(r.n)]));
};

const mainTs = fileURLToPath(new URL('../src/main.ts', import.meta.url));
const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));

/** The real scheduler as a child process: `node --import tsx services/scheduler/src/main.ts`. */
export const spawnScheduler = (env: NodeJS.ProcessEnv) => {
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', mainTs], {
    cwd: repoRoot, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (d) => { output += d; });
  child.stderr!.on('data', (d) => { output += d; });
  if (process.env.SCHED_DEBUG_DIR) {
    const f = `${process.env.SCHED_DEBUG_DIR}/child-${env.SCHEDULER_CRASH_AT ?? 'plain'}-${Date.now()}.log`;
    child.once('exit', () => { import('node:fs').then((fs) => fs.writeFileSync(f, output)); });
  }
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })));
  return {
    child,
    exited,
    output: () => output,
    kill: async (signal: NodeJS.Signals = 'SIGKILL') => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
};

export const ADMIN_TOKEN = 'test-admin-token-0123456789';

/** A scheduler's environment for in-process tests: short leases and intervals, the operator API on. */
export const schedulerTestEnv = (prefix: string) => serviceEnv(prefix, {
  SCHEDULER_HEALTH_PORT: '0', SCHEDULER_ADMIN_TOKEN: ADMIN_TOKEN, SCHEDULER_LEASE_MS: '1500', RELEASE_INTERVAL_MS: '100',
  SCHEDULER_SESSION_TIMEOUT_MS: '6000',
});

/** An operator's request to /admin through fastify's inject (token null: none sent). */
export const adminRequest = (app: () => Pick<FastifyInstance, 'inject'>) =>
  (method: 'GET' | 'POST', url: string, body?: unknown, token: string | null = ADMIN_TOKEN) =>
    app().inject({
      method, url, payload: body as never,
      headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), 'x-operator': 'ops@example.com' },
    });
