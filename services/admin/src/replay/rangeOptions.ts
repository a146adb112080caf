import { CliError } from '../cli/context.js';
import type { RangeSpec } from './readRange.js';

export interface RangeOptions {
  from?: string;
  to?: string;
  partition?: string;
  fromOffset?: string;
  toOffset?: string;
  destination?: string;
  dryRun?: boolean;
}

/** ISO 8601 or epoch milliseconds. */
const parseTime = (s: string, name: string): number => {
  const ms = /^\d+$/.test(s) ? Number(s) : Date.parse(s);
  if (!Number.isFinite(ms)) throw new CliError(`${name}: not a time (ISO 8601, e.g. 2026-11-25T10:00:00Z, or epoch milliseconds): ${s}`, 2);
  return ms;
};

const offsetOf = (s: string, name: string): string => {
  if (!/^\d+$/.test(s)) throw new CliError(`${name}: not an offset: ${s}`, 2);
  return s;
};

/** The range options → where to read: by time (--from [--to]) or one partition's offsets (--partition --from-offset [--to-offset]). */
export const rangeOf = (o: RangeOptions): RangeSpec => {
  const byOffset = o.partition !== undefined || o.fromOffset !== undefined || o.toOffset !== undefined;
  if (byOffset && (o.from || o.to)) throw new CliError('give a time range (--from/--to) or an offset range (--partition/--from-offset/--to-offset), not both', 2);
  if (byOffset) {
    if (o.partition === undefined || o.fromOffset === undefined) throw new CliError('an offset range needs --partition and --from-offset', 2);
    const fromOffset = offsetOf(o.fromOffset, '--from-offset');
    const toOffset = o.toOffset === undefined ? null : offsetOf(o.toOffset, '--to-offset');
    if (toOffset !== null && BigInt(toOffset) < BigInt(fromOffset)) throw new CliError('--to-offset is before --from-offset', 2);
    return { by: 'offset', partition: Number(offsetOf(o.partition, '--partition')), fromOffset, toOffset };
  }
  if (!o.from) throw new CliError('say what to replay: --from <time> [--to <time>], or --partition <n> --from-offset <offset> [--to-offset <offset>]', 2);
  const fromMs = parseTime(o.from, '--from');
  const toMs = o.to ? parseTime(o.to, '--to') : null;
  if (toMs !== null && toMs < fromMs) throw new CliError('--to is before --from', 2);
  return { by: 'time', fromMs, toMs };
};
