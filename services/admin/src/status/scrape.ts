/**
 * Optional: the services' own /metrics (SAS_METRICS_URLS), reduced to what `sas status` is
 * about: lag per topic, the integration's destinations, holds, dead letters, ingest's queue.
 */
export type ScrapeResult =
  | { readonly url: string; readonly ok: true; readonly samples: Record<string, number> }
  | { readonly url: string; readonly ok: false; readonly error: string };

/** Kept whole (no labels, or every label value). */
const KEEP = new Set([
  'mapper_events_total', 'mapper_dead_letters_total', 'scheduler_held_conversions', 'scheduler_unknown_conversions',
  'scheduler_oldest_overdue_seconds', 'ingest_pending_events', 'ingest_requests_total',
]);
/** Kept for the integration's destinations only. */
const PER_DESTINATION = new Set([
  'dispatcher_outcomes_total', 'dispatcher_dead_letters_total', 'dispatcher_lane_queued', 'dispatcher_lane_in_flight', 'dispatcher_lane_breaker_open',
]);
/** Summed over partitions, per topic. */
const LAG = /^(mapper|scheduler|dispatcher)_consumer_lag$/;

const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)$/;
const labelsOf = (s: string): Record<string, string> =>
  Object.fromEntries([...s.matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)].map((m) => [m[1]!, m[2]!]));

/** The samples of Prometheus text that matter for one integration (pure). */
export const pickSamples = (text: string, destinationIds: readonly string[]): Record<string, number> => {
  const ours = new Set(destinationIds);
  const out: Record<string, number> = {};
  for (const line of text.split('\n')) {
    const m = SAMPLE.exec(line.trim());
    if (!m) continue;
    const [, name, braces, inner, raw] = m;
    const value = Number(raw);
    if (!Number.isFinite(value)) continue;
    if (KEEP.has(name!)) out[`${name}${braces ?? ''}`] = value;
    else if (PER_DESTINATION.has(name!) && ours.has(labelsOf(inner ?? '').destination ?? '')) out[`${name}${braces}`] = value;
    else if (LAG.test(name!)) {
      const series = `${name}{topic="${labelsOf(inner ?? '').topic ?? ''}"}`;
      out[series] = (out[series] ?? 0) + value;
    }
  }
  return out;
};

/** A base URL (http://host:port) means its /metrics. */
export const metricsUrl = (u: string): string => {
  const url = new URL(u);
  if (url.pathname === '' || url.pathname === '/') url.pathname = '/metrics';
  return url.toString();
};

export const scrapeMetrics = async (urls: readonly string[], destinationIds: readonly string[], timeoutMs = 3_000): Promise<ScrapeResult[]> =>
  Promise.all(urls.map(async (u): Promise<ScrapeResult> => {
    try {
      const url = metricsUrl(u);
      const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
      if (!res.ok) return { url: u, ok: false, error: `HTTP ${res.status}` };
      return { url: u, ok: true, samples: pickSamples(await res.text(), destinationIds) };
    } catch (err) {
      return { url: u, ok: false, error: err instanceof Error ? err.message : String(err) };
    }
  }));
