/** Parsing of the CLI's plain (non-secret) values: durations, settings, tables. */

const UNITS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86_400 };

/** `90`, `90s`, `30m`, `24h`, `7d` → seconds; null when it is none of those. */
export const parseDurationSeconds = (s: string): number | null => {
  const m = /^(\d+)([smhd]?)$/.exec(s.trim());
  if (!m) return null;
  return Number(m[1]) * (UNITS[m[2] || 's'] ?? 1);
};

/**
 * `name=value` of --setting: `true`/`false` become booleans and plain numbers numbers (ids
 * keep leading zeros as text: `0123` stays "0123"); anything else is text.
 */
export const parseSettingArg = (arg: string): [string, unknown] | null => {
  const eq = arg.indexOf('=');
  if (eq <= 0) return null;
  const name = arg.slice(0, eq);
  const raw = arg.slice(eq + 1);
  if (raw === 'true' || raw === 'false') return [name, raw === 'true'];
  if (/^-?(0|[1-9]\d*)(\.\d+)?$/.test(raw) && Number.isSafeInteger(Math.trunc(Number(raw)))) return [name, Number(raw)];
  return [name, raw];
};

/** A plain text table: a header row, then one row per item, columns padded to fit. */
export const renderTable = (headers: readonly string[], rows: readonly (readonly unknown[])[]): string => {
  if (rows.length === 0) return '(none)';
  const cells = [headers, ...rows.map((r) => r.map((c) => (c === null || c === undefined ? '-' : String(c))))];
  const widths = headers.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  return cells.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i] ?? 0))).join('  ').trimEnd()).join('\n');
};

/** One object as `key: value` lines (nested values as JSON). */
export const renderFields = (o: Readonly<Record<string, unknown>>): string => {
  const width = Math.max(...Object.keys(o).map((k) => k.length));
  return Object.entries(o)
    .map(([k, v]) => `${`${k}:`.padEnd(width + 1)} ${v === null || v === undefined ? '-' : typeof v === 'object' ? JSON.stringify(v) : String(v)}`)
    .join('\n');
};
