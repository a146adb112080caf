import cliProgress from 'cli-progress';
import type { AccountProgress } from './backfillLoop.js';
import { runFraction } from './progress.js';
import type { BackfillRun } from './runStore.js';

export interface ProgressReporter {
  page(run: BackfillRun, account: string | null, p: AccountProgress): void;
  retry(account: string | null, attempt: number, waitMs: number, reason: string): void;
  note(message: string): void;
  stop(): void;
}

const accountName = (a: string | null): string => a ?? 'platform';
const totals = (run: BackfillRun) => run.accounts.reduce(
  (t, a) => ({ read: t.read + a.read, written: t.written + a.written, pages: t.pages + a.pages }), { read: 0, written: 0, pages: 0 },
);

/** On a terminal: one bar over the time range covered, all accounts together, with counts. */
export const createBarReporter = (stream: NodeJS.WritableStream): ProgressReporter => {
  const bar = new cliProgress.SingleBar({
    stream,
    format: 'backfill {bar} {percentage}% | {account} | {written} events written | {pages} pages | {eta_formatted} left',
    hideCursor: true,
    clearOnComplete: false,
    etaBuffer: 20,
  }, cliProgress.Presets.shades_classic);
  let started = false;
  const line = (s: string) => {
    // A message between bar redraws: clear the bar's line, print, the next update redraws it.
    stream.write(`\r\x1b[2K${s}\n`);
  };
  return {
    page: (run, account) => {
      const t = totals(run);
      const payload = { account: accountName(account), written: t.written, pages: t.pages };
      const value = Math.round(runFraction(run.accounts, run.fromSec, run.toSec) * 1000);
      if (!started) {
        bar.start(1000, value, payload);
        started = true;
      } else bar.update(value, payload);
    },
    retry: (account, attempt, waitMs, reason) => line(`${accountName(account)}: ${reason}; try ${attempt + 1} in ${(waitMs / 1000).toFixed(1)} s`),
    note: line,
    stop: () => {
      if (started) bar.stop();
      started = false;
    },
  };
};

/** Elsewhere (CI, pipes, logs): one JSON line per page on stderr, for a machine to follow. */
export const createJsonLineReporter = (stream: NodeJS.WritableStream): ProgressReporter => {
  const write = (o: Record<string, unknown>) => stream.write(`${JSON.stringify(o)}\n`);
  return {
    page: (run, account, p) => {
      const t = totals(run);
      write({
        progress: 'backfill.page', runId: run.id, account: accountName(account), pages: p.pages, read: p.read, written: p.written,
        cursor: p.cursor, oldestCreated: p.oldestCreated === null ? null : new Date(p.oldestCreated * 1000).toISOString(),
        accountDone: p.done, covered: Number(runFraction(run.accounts, run.fromSec, run.toSec).toFixed(4)), runRead: t.read, runWritten: t.written,
      });
    },
    retry: (account, attempt, waitMs, reason) => write({ progress: 'backfill.retry', account: accountName(account), attempt, waitMs, reason }),
    note: (message) => write({ progress: 'backfill.note', message }),
    stop: () => undefined,
  };
};
