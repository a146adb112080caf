/**
 * The paging loop of one account's backfill, with every effect injected: list a page of
 * Stripe events (newest first, 100 a page, `starting_after` the cursor), write it, and only
 * once the broker acknowledged the page move the cursor and save it. Stop when Stripe says
 * there is no more, when asked to stop (between pages), or on an error that retries did not
 * cure: the saved cursor is then the last page written, so a resumed run starts after it.
 */

export interface ListedEvent {
  readonly id: string;
  /** Unix seconds. */
  readonly created: number;
}

export interface PageQuery {
  readonly account: string | null;
  readonly fromSec: number;
  readonly toSec: number;
  readonly onlyFailed: boolean;
  readonly startingAfter: string | null;
  readonly limit: number;
}

export interface Page<E extends ListedEvent> {
  readonly events: readonly E[];
  readonly hasMore: boolean;
}

/** Where one account's backfill stands; what the run store keeps. */
export interface AccountProgress {
  /** Last event written with the broker's acknowledgement; the next page starts after it. */
  readonly cursor: string | null;
  /** Creation time (unix seconds) of the oldest event written: how far back the run got. */
  readonly oldestCreated: number | null;
  readonly read: number;
  readonly written: number;
  readonly pages: number;
  readonly done: boolean;
}

export const START: AccountProgress = { cursor: null, oldestCreated: null, read: 0, written: 0, pages: 0, done: false };

export interface RetryAdvice {
  readonly retry: boolean;
  /** Wait at least this long (Stripe's Retry-After); else exponential backoff. */
  readonly afterMs?: number;
}

export interface LoopDeps<E extends ListedEvent> {
  fetchPage(q: PageQuery): Promise<Page<E>>;
  /** Resolves once every event of the page is acknowledged by the broker; returns how many were written. */
  writePage(events: readonly E[]): Promise<number>;
  save(p: AccountProgress): Promise<void>;
  /** Waits for the next request slot (the client-side rate). */
  pace(): Promise<void>;
  sleep(ms: number): Promise<void>;
  /** True once the operator asked to stop (SIGINT): checked between pages. */
  stopRequested(): boolean;
  /** Whether a failed page fetch is worth another try (rate limited, 5xx, network). */
  advise(err: unknown): RetryAdvice;
  /** Tries after the first, per page, before the run stops (resumable). */
  readonly retries: number;
  readonly backoffBaseMs: number;
  readonly backoffMaxMs: number;
  onPage?(p: AccountProgress): void;
  onRetry?(attempt: number, waitMs: number, err: unknown): void;
}

export type LoopEnd = { readonly outcome: 'done' | 'stopped'; readonly progress: AccountProgress };

export class PageFailedError extends Error {
  override readonly name = 'PageFailedError';
  constructor(readonly progress: AccountProgress, readonly attempts: number, cause: unknown) {
    super(cause instanceof Error ? cause.message : String(cause), { cause });
  }
}

export const PAGE_LIMIT = 100; // Stripe's maximum

export const backoffMs = (attempt: number, baseMs: number, maxMs: number, afterMs?: number): number =>
  Math.max(afterMs ?? 0, Math.min(maxMs, baseMs * 2 ** (attempt - 1)));

/** The next progress after a page was written: cursor at its last (oldest) event. */
export const advance = (p: AccountProgress, page: Page<ListedEvent>, written: number): AccountProgress => {
  const last = page.events.at(-1);
  const oldest = page.events.reduce((m, e) => Math.min(m, e.created), p.oldestCreated ?? Infinity);
  return {
    cursor: last ? last.id : p.cursor,
    oldestCreated: Number.isFinite(oldest) ? oldest : p.oldestCreated,
    read: p.read + page.events.length,
    written: p.written + written,
    pages: p.pages + 1,
    done: !page.hasMore || page.events.length === 0,
  };
};

export const runAccountLoop = async <E extends ListedEvent>(
  deps: LoopDeps<E>,
  q: Omit<PageQuery, 'startingAfter' | 'limit'>,
  from: AccountProgress = START,
): Promise<LoopEnd> => {
  let progress = from;
  while (!progress.done) {
    if (deps.stopRequested()) return { outcome: 'stopped', progress };
    const page = await fetchWithRetry(deps, { ...q, startingAfter: progress.cursor, limit: PAGE_LIMIT }, progress);
    if (page === null) return { outcome: 'stopped', progress };
    let written: number;
    try {
      written = page.events.length > 0 ? await deps.writePage(page.events) : 0;
    } catch (err) {
      throw new PageFailedError(progress, 1, err);
    }
    progress = advance(progress, page, written);
    await deps.save(progress);
    deps.onPage?.(progress);
  }
  return { outcome: 'done', progress };
};

/** A page, or null when the operator asked to stop while it waited (pace or backoff). */
const fetchWithRetry = async <E extends ListedEvent>(deps: LoopDeps<E>, q: PageQuery, progress: AccountProgress): Promise<Page<E> | null> => {
  for (let attempt = 1; ; attempt++) {
    await deps.pace();
    if (deps.stopRequested()) return null; // asked while waiting for the request slot
    try {
      return await deps.fetchPage(q);
    } catch (err) {
      const advice = deps.advise(err);
      if (!advice.retry || attempt > deps.retries) throw new PageFailedError(progress, attempt, err);
      const wait = backoffMs(attempt, deps.backoffBaseMs, deps.backoffMaxMs, advice.afterMs);
      deps.onRetry?.(attempt, wait, err);
      await deps.sleep(wait);
      if (deps.stopRequested()) return null;
    }
  }
};
