import { describe, expect, it } from 'vitest';
import { createRenewing } from './renewingProducer.js';

/** In-memory producers that record what happened to them (the renewal logic alone; Kafka is in ingest's broker-kill test). */
const fleet = () => {
  const made: { id: number; connected: number; disconnected: number; sent: string[] }[] = [];
  const newProducer = () => {
    const p = { id: made.length + 1, connected: 0, disconnected: 0, sent: [] as string[] };
    made.push(p);
    return { p, connect: async () => { p.connected++; }, disconnect: async () => { p.disconnected++; } };
  };
  return { made, newProducer };
};

describe('createRenewing', () => {
  it('keeps one producer while sends succeed', async () => {
    const f = fleet();
    const r = createRenewing(f.newProducer);
    await r.connect();
    await r.use(async (x) => x.p.sent.push('a'));
    await r.use(async (x) => x.p.sent.push('b'));
    expect(f.made.map((p) => ({ id: p.id, sent: p.sent, connected: p.connected }))).toEqual([{ id: 1, sent: ['a', 'b'], connected: 1 }]);
  });

  it('after a failed send, the next send goes through a new producer and the old one is disconnected', async () => {
    const f = fleet();
    const renewals: unknown[] = [];
    const r = createRenewing(f.newProducer, (cause) => renewals.push(cause));
    await r.use(async (x) => x.p.sent.push('a'));
    const boom = new Error('OUT_OF_ORDER_SEQUENCE_NUMBER');
    await expect(r.use(async () => { throw boom; })).rejects.toBe(boom);
    await r.use(async (x) => x.p.sent.push('b'));
    await new Promise((res) => setImmediate(res));
    expect(renewals).toEqual([boom]);
    expect(f.made.map((p) => ({ id: p.id, sent: p.sent, disconnected: p.disconnected }))).toEqual([
      { id: 1, sent: ['a'], disconnected: 1 },
      { id: 2, sent: ['b'], disconnected: 0 },
    ]);
  });

  it('a failed connect is retried with a new producer on the next send; after disconnect nothing is sent', async () => {
    const f = fleet();
    let failConnect = true;
    const r = createRenewing(() => {
      const x = f.newProducer();
      return { ...x, connect: async () => { if (failConnect) throw new Error('broker down'); await x.connect(); } };
    });
    await expect(r.use(async (x) => x.p.sent.push('a'))).rejects.toThrow('broker down');
    failConnect = false;
    await r.use(async (x) => x.p.sent.push('b'));
    expect(f.made.map((p) => p.sent)).toEqual([[], ['b']]);
    await r.disconnect();
    expect(f.made[1]!.disconnected).toBe(1);
    await expect(r.use(async (x) => x.p.sent.push('c'))).rejects.toThrow('producer is disconnected');
  });
});

describe('createRenewing, concurrent callers', () => {
  it('runs sends one at a time, so a send queued behind a failing one already gets the new producer', async () => {
    const f = fleet();
    const r = createRenewing(f.newProducer);
    let release!: () => void;
    const gate = new Promise<void>((res) => { release = res; });
    const order: string[] = [];
    const failing = r.use(async (x) => { order.push(`start fail on ${x.p.id}`); await gate; throw new Error('NOT_ENOUGH_REPLICAS'); });
    const next = r.use(async (x) => { order.push(`start next on ${x.p.id}`); x.p.sent.push('next'); });
    await new Promise((res) => setTimeout(res, 10));
    expect(order).toEqual(['start fail on 1']); // the second send waits
    release();
    await expect(failing).rejects.toThrow('NOT_ENOUGH_REPLICAS');
    await next;
    expect(order).toEqual(['start fail on 1', 'start next on 2']);
    expect(f.made.map((p) => p.sent)).toEqual([[], ['next']]);
  });

  it('a producer whose connect failed is disconnected', async () => {
    const f = fleet();
    const r = createRenewing(() => {
      const x = f.newProducer();
      return { ...x, connect: async () => { throw new Error('broker down'); } };
    });
    await expect(r.connect()).rejects.toThrow('broker down');
    await new Promise((res) => setImmediate(res));
    expect(f.made[0]!.disconnected).toBe(1);
  });
});
