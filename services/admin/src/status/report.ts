import type { GroupLag } from './lag.js';
import type { DestinationLedgerRow, HeldRow } from './queries.js';
import type { ScrapeResult } from './scrape.js';

export interface DestinationStatus extends DestinationLedgerRow {
  /** (sent + dry runs) / (sent + dry runs + failed), null before anything was settled; skips are not counted. */
  readonly successRate: number | null;
}

export interface DeadLetterCounts {
  readonly open: number;
  readonly requeued: number;
  readonly dropped: number;
}

export interface StatusReport {
  readonly integration: { readonly id: string; readonly name: string; readonly status: string };
  readonly topicPrefix: string;
  readonly generatedAt: string;
  /** Per consumer group, over all integrations (a topic is shared by every integration). */
  readonly consumerLag: readonly GroupLag[];
  readonly dispatch: readonly DestinationStatus[];
  readonly heldRefunds: HeldRow;
  readonly deadLetters: { readonly mapper: DeadLetterCounts; readonly dispatcher: DeadLetterCounts };
  /** The services' /metrics, when SAS_METRICS_URLS names them. */
  readonly metrics?: readonly ScrapeResult[];
}

export const successRate = (r: Pick<DestinationLedgerRow, 'sent' | 'dryRun' | 'failed'>): number | null =>
  r.sent + r.dryRun + r.failed === 0 ? null : (r.sent + r.dryRun) / (r.sent + r.dryRun + r.failed);

export const withRates = (rows: readonly DestinationLedgerRow[]): DestinationStatus[] => rows.map((r) => ({ ...r, successRate: successRate(r) }));

/** 1 → "100%", 0.98765 → "98.8%", null → "-". */
export const percent = (rate: number | null): string => {
  if (rate === null) return '-';
  const p = rate * 100;
  return `${Number.isInteger(p) ? p : p.toFixed(1)}%`;
};

/** How long ago (or from now) an ISO time is, roughly: "12s ago", "3m ago", "in 2h", "-". */
export const relative = (iso: string | null, nowMs: number): string => {
  if (!iso) return '-';
  const d = Date.parse(iso) - nowMs;
  const a = Math.abs(d) / 1000;
  const amount = a < 90 ? `${Math.round(a)}s` : a < 5_400 ? `${Math.round(a / 60)}m` : a < 129_600 ? `${Math.round(a / 3_600)}h` : `${Math.round(a / 86_400)}d`;
  return d >= 0 ? `in ${amount}` : `${amount} ago`;
};

const table = (header: string[], rows: string[][], rightAligned: ReadonlySet<number>): string[] => {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (rightAligned.has(i) ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join('  ').trimEnd();
  return [line(header), ...rows.map(line)].map((l) => `  ${l}`);
};

const oneLine = (s: string, max: number) => {
  const flat = s.replace(/\s+/g, ' ');
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
};

/** The report as a compact block for a terminal (pure: the clock is given). */
export const renderStatus = (r: StatusReport, nowMs: number): string => {
  const out: string[] = [];
  out.push(`Integration ${r.integration.id} (${r.integration.name}, ${r.integration.status})${r.topicPrefix ? `  topic prefix ${r.topicPrefix}` : ''}`);
  out.push('', 'Consumer lag (all integrations)');
  out.push(...table(['service', 'group', 'state', 'members', 'lag'],
    r.consumerLag.map((g) => [g.service, g.groupId, g.state, String(g.members), String(g.lag)]), new Set([3, 4])));
  out.push('', 'Dispatch by destination');
  if (r.dispatch.length === 0) out.push('  (no destinations)');
  else {
    out.push(...table(['destination', 'type', 'sent', 'failed', 'pending', 'success', 'last activity', 'last error'],
      r.dispatch.map((d) => [
        d.enabled ? d.destinationId : `${d.destinationId} (disabled)`, d.type, String(d.sent + d.dryRun), String(d.failed), String(d.pending),
        percent(d.successRate), relative(d.lastActivityAt, nowMs), d.lastError ? oneLine(d.lastError, 60) : '-',
      ]), new Set([2, 3, 4, 5])));
  }
  const h = r.heldRefunds;
  out.push('', `Held refunds: ${h.held} held, next due ${h.nextDueAt ? `${h.nextDueAt} (${relative(h.nextDueAt, nowMs)})` : '-'}, ` +
    `${h.releasing} releasing, ${h.unknown} unknown${h.unknown > 0 ? ' (an operator decides: see the scheduler README)' : ''}`);
  const dl = r.deadLetters;
  out.push(`Dead letters (open): mapper ${dl.mapper.open}, dispatcher ${dl.dispatcher.open}` +
    `  (requeued ${dl.mapper.requeued + dl.dispatcher.requeued}, dropped ${dl.mapper.dropped + dl.dispatcher.dropped}; \`sas dlq list --integration ${r.integration.id}\`)`);
  if (r.metrics) {
    out.push('', 'Service metrics (SAS_METRICS_URLS)');
    for (const m of r.metrics) {
      if (!m.ok) { out.push(`  ${m.url}: unreachable (${m.error})`); continue; }
      const samples = Object.entries(m.samples);
      out.push(`  ${m.url}${samples.length === 0 ? ': nothing about this integration' : ''}`);
      for (const [series, value] of samples) out.push(`    ${series} ${value}`);
    }
  }
  return out.join('\n');
};
