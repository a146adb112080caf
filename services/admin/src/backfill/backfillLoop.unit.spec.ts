import { describe, expect, it } from 'vitest';
import { START, PageFailedError, advance, backoffMs, runAccountLoop, type AccountProgress, type LoopDeps, type Page, type PageQuery } from './backfillLoop.js';
import { createPacer } from './pacer.js';

interface Ev { id: string; created: number }

/** Stripe's list semantics over a fixed set: newest first, `starting_after` an id, at most `limit`. */
const listOf = (n: number): Ev[] => Array.from({ length: n }, (_, i) => ({ id: `evt_${String(n - i).padStart(4, '0')}`, created: 1_000_000 + (n - i) * 10 }));
const pageOf = (all: Ev[], q: PageQuery): Page<Ev> => {
  const start = q.startingAfter ? all.findIndex((e) => e.id === q.startingAfter) + 1 : 0;
  const events = all.slice(start, start + q.limit);
  return { events, hasMore: start + q.limit < all.length };
};

class RateLimited extends Error {}

type Script = (q: PageQuery, call: number) => Page<Ev> | Error;

const harness = (script: Script, o: { stopAfterPages?: number; failWriteOnPage?: number; retries?: number } = {}) => {
  const log = { queries: [] as (string | null)[], written: [] as string[], saved: [] as AccountProgress[], sleeps: [] as number[], retries: 0 };
  let calls = 0;
  let writes = 0;
  const deps: LoopDeps<Ev> = {
    fetchPage: async (q) => {
      log.queries.push(q.startingAfter);
      const r = script(q, ++calls);
      if (r instanceof Error) throw r;
      return r;
    },
    writePage: async (events) => {
      if (++writes === o.failWriteOnPage) throw new Error('broker unavailable');
      log.written.push(...events.map((e) => e.id));
      return events.length;
    },
    save: async (p) => void log.saved.push(p),
    pace: async () => undefined,
    sleep: async (ms) => void log.sleeps.push(ms),
    stopRequested: () => o.stopAfterPages !== undefined && log.saved.length >= o.stopAfterPages,
    advise: (err) => (err instanceof RateLimited ? { retry: true, afterMs: 1_500 } : { retry: false }),
    retries: o.retries ?? 3,
    backoffBaseMs: 500,
    backoffMaxMs: 8_000,
    onRetry: () => void log.retries++,
  };
  return { deps, log };
};

const Q = { account: null, fromSec: 0, toSec: 2_000_000, onlyFailed: false };
const ids = (all: Ev[], from: number, to: number) => all.slice(from, to).map((e) => e.id);

describe('runAccountLoop', () => {
  const all = listOf(250);

  it.each([
    { why: '250 events in pages of 100, 100, 50', n: 250, pages: 3, queries: [null, 'evt_0151', 'evt_0051'] },
    { why: 'exactly one full page: Stripe says no more', n: 100, pages: 1, queries: [null] },
    { why: 'an empty range: one empty page', n: 0, pages: 1, queries: [null] },
  ])('$why', async ({ n, pages, queries }) => {
    const events = listOf(n);
    const { deps, log } = harness((q) => pageOf(events, q));
    const end = await runAccountLoop(deps, Q);
    expect(end.outcome).toBe('done');
    expect(log.queries).toEqual(queries);
    expect(log.written).toEqual(events.map((e) => e.id));
    expect(log.saved).toHaveLength(pages);
    expect(end.progress).toEqual({
      cursor: events.at(-1)?.id ?? null, oldestCreated: events.at(-1)?.created ?? null, read: n, written: n, pages, done: true,
    });
  });

  it('a full last page with has_more ends on the next, empty page', async () => {
    const { deps, log } = harness((q) => (q.startingAfter === null ? { events: listOf(100), hasMore: true } : { events: [], hasMore: false }));
    const end = await runAccountLoop(deps, Q);
    expect(log.queries).toEqual([null, 'evt_0001']);
    expect(end.progress).toMatchObject({ cursor: 'evt_0001', read: 100, pages: 2, done: true });
  });

  it('resumes after its cursor, adding to the counts it had', async () => {
    const { deps, log } = harness((q) => pageOf(all, q));
    const resumed: AccountProgress = { cursor: 'evt_0151', oldestCreated: all[99]!.created, read: 100, written: 100, pages: 1, done: false };
    const end = await runAccountLoop(deps, Q, resumed);
    expect(log.queries).toEqual(['evt_0151', 'evt_0051']);
    expect(log.written).toEqual(ids(all, 100, 250));
    expect(end.progress).toEqual({ cursor: 'evt_0001', oldestCreated: 1_000_010, read: 250, written: 250, pages: 3, done: true });
  });

  it('a finished run resumed does nothing', async () => {
    const { deps, log } = harness((q) => pageOf(all, q));
    const end = await runAccountLoop(deps, Q, { ...START, cursor: 'evt_0001', done: true });
    expect(end.outcome).toBe('done');
    expect(log.queries).toEqual([]);
  });

  it('a 429 is retried after Stripe\'s wait, then the page goes on', async () => {
    const { deps, log } = harness((q, call) => (call === 2 ? new RateLimited('rate limited') : pageOf(all, q)));
    const end = await runAccountLoop(deps, Q);
    expect(log.queries).toEqual([null, 'evt_0151', 'evt_0151', 'evt_0051']);
    expect(log.sleeps).toEqual([1_500]);
    expect(log.written).toEqual(ids(all, 0, 250));
    expect(end.progress.written).toBe(250);
  });

  it('stops when retries are used up, keeping the cursor of the last page written', async () => {
    const { deps, log } = harness((q, call) => (call >= 2 ? new RateLimited('rate limited') : pageOf(all, q)), { retries: 2 });
    const err = await runAccountLoop(deps, Q).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PageFailedError);
    expect((err as PageFailedError).attempts).toBe(3);
    expect((err as PageFailedError).progress).toMatchObject({ cursor: 'evt_0151', written: 100, done: false });
    expect(log.saved.map((p) => p.cursor)).toEqual(['evt_0151']);
  });

  it('an error that is not worth retrying stops at once', async () => {
    const { deps, log } = harness((q, call) => (call === 2 ? new Error('invalid api key') : pageOf(all, q)));
    const err = (await runAccountLoop(deps, Q).catch((e: unknown) => e)) as PageFailedError;
    expect(err.message).toBe('invalid api key');
    expect(err.progress.cursor).toBe('evt_0151');
    expect(log.sleeps).toEqual([]);
  });

  it('a page the broker did not acknowledge leaves the cursor where it was', async () => {
    const { deps, log } = harness((q) => pageOf(all, q), { failWriteOnPage: 2 });
    const err = (await runAccountLoop(deps, Q).catch((e: unknown) => e)) as PageFailedError;
    expect(err.message).toBe('broker unavailable');
    expect(err.progress).toMatchObject({ cursor: 'evt_0151', written: 100 });
    expect(log.saved).toHaveLength(1);
  });

  it('a stop asked while a retry waits ends as stopped, not failed', async () => {
    let stop = false;
    const { deps } = harness((q, call) => (call === 2 ? new RateLimited('rate limited') : pageOf(all, q)));
    const end = await runAccountLoop({ ...deps, stopRequested: () => stop, onRetry: () => { stop = true; } }, Q);
    expect(end.outcome).toBe('stopped');
    expect(end.progress).toMatchObject({ cursor: 'evt_0151', written: 100, done: false });
  });

  it('a stop asked while waiting for the request slot sends no request', async () => {
    let stop = false;
    const { deps, log } = harness((q) => pageOf(all, q));
    const end = await runAccountLoop({ ...deps, stopRequested: () => stop, pace: async () => { stop = log.saved.length === 1; } }, Q);
    expect(end.outcome).toBe('stopped');
    expect(log.queries).toEqual([null]);
    expect(end.progress).toMatchObject({ cursor: 'evt_0151', done: false });
  });

  it('stops between pages when asked, with the cursor saved', async () => {
    const { deps, log } = harness((q) => pageOf(all, q), { stopAfterPages: 1 });
    const end = await runAccountLoop(deps, Q);
    expect(end).toEqual({ outcome: 'stopped', progress: log.saved[0] });
    expect(end.progress).toMatchObject({ cursor: 'evt_0151', done: false });
  });
});

describe('advance and backoff', () => {
  it('keeps the oldest creation time seen, whatever order a page has', () => {
    const p = advance(START, { events: [{ id: 'evt_b', created: 50 }, { id: 'evt_a', created: 70 }], hasMore: true }, 2);
    expect(p).toEqual({ cursor: 'evt_a', oldestCreated: 50, read: 2, written: 2, pages: 1, done: false });
  });
  it.each([
    { attempt: 1, after: undefined, then: 500 },
    { attempt: 3, after: undefined, then: 2_000 },
    { attempt: 9, after: undefined, then: 8_000 },
    { attempt: 1, after: 3_000, then: 3_000 },
  ])('attempt $attempt, Retry-After $after → $then ms', ({ attempt, after, then }) => expect(backoffMs(attempt, 500, 8_000, after)).toBe(then));
});

describe('createPacer', () => {
  it('spaces requests evenly at the rate and does not wait when idle long enough', async () => {
    let t = 0;
    const sleeps: number[] = [];
    const pace = createPacer(20, () => t, async (ms) => { sleeps.push(ms); t += ms; });
    await pace(); await pace(); await pace();
    t += 1_000;
    await pace();
    expect(sleeps).toEqual([50, 50]);
  });
});
