import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Kafka, logLevel, type Message, type Producer, type RecordMetadata, type Transaction } from 'kafkajs';
import { stackEndpoints, uniqueId } from '@sas/testkit';
import { readRanges, resolveRanges, type PartitionRange, type RangeSpec } from '../src/replay/readRange.js';

/**
 * readRanges against the real broker, each case on a fresh topic: a range is read exactly,
 * whatever transaction markers and aborted records sit in it, however many fetches it takes;
 * a range that ends inside a transaction still open waits for it, and fails loudly, naming
 * the partition, if nobody decides it.
 */
describe('readRanges', () => {
  let kafka: Kafka;
  let plain: Producer;
  const producers: Producer[] = [];
  const transactions: Transaction[] = [];
  const all: RangeSpec = { by: 'time', fromMs: null, toMs: null };

  beforeAll(async () => {
    kafka = new Kafka({ brokers: [stackEndpoints().kafkaBrokers], logLevel: logLevel.NOTHING, clientId: 'read-range-spec' });
    plain = kafka.producer({ idempotent: true, allowAutoTopicCreation: false });
    producers.push(plain);
    await plain.connect();
  });
  afterAll(async () => {
    for (const t of transactions) if (t.isActive()) await t.abort().catch(() => undefined);
    await Promise.all(producers.map((p) => p.disconnect().catch(() => undefined)));
  });

  const freshTopic = async (numPartitions = 1) => {
    const topic = uniqueId('read-range.');
    const admin = kafka.admin();
    await admin.connect();
    try {
      await admin.createTopics({ topics: [{ topic, numPartitions }], waitForLeaders: true });
    } finally {
      await admin.disconnect();
    }
    return topic;
  };
  const messages = (values: string[], partition = 0): Message[] => values.map((value) => ({ value, partition }));
  /** The offset after the records of a send to one partition: the high watermark, markers aside. */
  const endOf = (sent: RecordMetadata[], count: number) => String(BigInt(sent[0]!.baseOffset!) + BigInt(count));
  const send = (topic: string, values: string[], partition = 0) => plain.send({ topic, acks: -1, messages: messages(values, partition) });
  /** A transaction on its own producer, with these records written and left open; `end`: the offset after them. */
  const openTransaction = async (topic: string, msgs: Message[]) => {
    const p = kafka.producer({ transactionalId: uniqueId('read-range-tx-'), idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false });
    producers.push(p);
    await p.connect();
    const tx = await p.transaction();
    transactions.push(tx);
    const sent = await tx.send({ topic, acks: -1, messages: msgs });
    return { tx, end: endOf(sent, msgs.length) };
  };
  const committed = async (topic: string, values: string[]) => (await openTransaction(topic, messages(values))).tx.commit();
  const aborted = async (topic: string, values: string[]) => (await openTransaction(topic, messages(values))).tx.abort();
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

  /**
   * Read `range` (a spec resolved now, at the start, or ranges given as they are), running
   * `meanwhile` while the read runs; the values read, up to a '|'.
   */
  const read = async (topic: string, range: RangeSpec | PartitionRange[], meanwhile: () => Promise<void> = async () => undefined, options?: { stallMs?: number }) => {
    const ranges = Array.isArray(range) ? range : await resolveRanges(kafka, topic, range);
    const values: string[] = [];
    const reading = readRanges(kafka, uniqueId('read-range-'), ranges, (records) => {
      values.push(...records.map((r) => r.message.value!.toString().split('|')[0]!));
    }, options);
    await Promise.all([reading, meanwhile()]);
    return values;
  };
  /** The whole partition 0 up to `to`: a range resolveRanges does not give while a transaction is open (it ends at the last stable offset). */
  const upTo = (topic: string, to: string): PartitionRange[] => [{ topic, partition: 0, from: '0', to }];

  type Case = {
    name: string;
    /** Writes what is there at the start; returns the range to read (default: the whole topic, resolved at the start) and what happens while it is read. */
    given: (topic: string) => Promise<{ range?: PartitionRange[]; meanwhile?: () => Promise<void> }>;
    then: string[];
  };
  const big = (i: number) => `r${i}|${'x'.repeat(100 * 1024)}`;
  const offsetCases: Case[] = [
    {
      name: 'a range ending inside a transaction open at the start, committed while the read runs: its records are read',
      given: async (topic) => {
        await send(topic, ['a']);
        const { tx, end } = await openTransaction(topic, messages(['b', 'c', 'd']));
        return { range: upTo(topic, end), meanwhile: async () => { await sleep(2_000); await tx.commit(); } };
      },
      then: ['a', 'b', 'c', 'd'],
    },
    {
      name: 'resolved while a transaction is open: the range holds what was committed at the start',
      given: async (topic) => {
        await send(topic, ['a']);
        const { tx } = await openTransaction(topic, messages(['b']));
        return { meanwhile: () => tx.commit() };
      },
      then: ['a'],
    },
    {
      name: 'a range that ends on a commit marker',
      given: async (topic) => { await send(topic, ['a']); await committed(topic, ['b', 'c']); return {}; },
      then: ['a', 'b', 'c'],
    },
    {
      name: 'a range holding aborted transactions, ending on an abort marker',
      given: async (topic) => { await committed(topic, ['a']); await aborted(topic, ['x', 'y']); await send(topic, ['b']); await aborted(topic, ['z']); return {}; },
      then: ['a', 'b'],
    },
    {
      name: 'a range larger than one fetch (1 MiB a partition): every record once, in order',
      given: async (topic) => {
        for (let i = 0; i < 25; i += 5) await send(topic, [0, 1, 2, 3, 4].map((j) => big(i + j)));
        return {};
      },
      then: Array.from({ length: 25 }, (_, i) => `r${i}`),
    },
    {
      name: 'records appended after the start are not read',
      given: async (topic) => {
        await send(topic, ['a', 'b']);
        return { meanwhile: async () => { await send(topic, ['late-1']); await committed(topic, ['late-2']); } };
      },
      then: ['a', 'b'],
    },
    {
      name: 'records a transaction open at the start appends after it are not read, the ones before are',
      given: async (topic) => {
        const { tx, end } = await openTransaction(topic, messages(['a', 'b']));
        return { range: upTo(topic, end), meanwhile: async () => { await tx.send({ topic, acks: -1, messages: messages(['late']) }); await sleep(2_000); await tx.commit(); } };
      },
      then: ['a', 'b'],
    },
  ];
  it.each(offsetCases)('$name', async ({ given, then }) => {
    const topic = await freshTopic();
    const { range, meanwhile } = await given(topic);
    expect(await read(topic, range ?? all, meanwhile)).toEqual(then);
  });

  // Records one second apart from `base`: t0 … t4.
  const base = Date.now() - 60_000;
  const stamped = messages(['t0', 't1', 't2', 't3', 't4']).map((m, i) => ({ ...m, timestamp: String(base + i * 1_000) }));
  const timeCases = [
    { name: 'from ≤ timestamp < to', fromMs: base + 1_000, toMs: base + 3_000, then: ['t1', 't2'] },
    { name: 'between records: from the next one on', fromMs: base + 500, toMs: base + 2_500, then: ['t1', 't2'] },
    { name: 'to the end', fromMs: base + 3_000, toMs: null, then: ['t3', 't4'] },
    { name: 'from the start', fromMs: null, toMs: base + 1_000, then: ['t0'] },
    { name: 'after the last record', fromMs: base + 5_000, toMs: null, then: [] },
  ];
  it.each(timeCases.flatMap((c) => [{ ...c, writer: 'a plain producer' }, { ...c, writer: 'one committed transaction' }]))(
    'by time, $name (written by $writer)', async ({ fromMs, toMs, then, writer }) => {
      const topic = await freshTopic();
      if (writer === 'a plain producer') await plain.send({ topic, acks: -1, messages: stamped });
      else await (await openTransaction(topic, stamped)).tx.commit();
      expect(await read(topic, { by: 'time', fromMs, toMs })).toEqual(then);
    });

  it('a transaction left open longer than the stall period fails the read, naming its partition', async () => {
    const topic = await freshTopic(2);
    const done = await send(topic, ['done'], 0);
    const { tx, end } = await openTransaction(topic, messages(['stuck'], 1));
    const ranges: PartitionRange[] = [{ topic, partition: 0, from: '0', to: endOf(done, 1) }, { topic, partition: 1, from: '0', to: end }];
    try {
      const started = Date.now();
      await expect(read(topic, ranges, undefined, { stallMs: 3_000 })).rejects.toMatchObject({
        name: 'ReadStalledError',
        partitions: [{ topic, partition: 1, position: '0', to: '1' }],
        message: expect.stringMatching(new RegExp(`${topic.replace(/\./g, '\\.')} partition 1 .*open transaction`)),
      });
      expect(Date.now() - started).toBeLessThan(30_000);
    } finally {
      await tx.abort();
    }
  });
});
