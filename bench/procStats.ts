/**
 * What every bench reads from the environment and from /proc (Linux): the stack's endpoints,
 * CPU clock ticks of a process, of a process with its children (PostgreSQL's backends) and of
 * the whole machine, and memory. Clock ticks are 100 per second on these machines.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const TICKS_PER_S = 100;
export const repoRoot = fileURLToPath(new URL('..', import.meta.url));

/** An endpoint the stack exports; the message says how to get it. */
export const requireEnv = (k: string, bench: string): string => {
  const v = process.env[k];
  if (!v) throw new Error(`${k} is not set: run through "npm run bench:${bench}" (it sources scripts/stack.sh env)`);
  return v;
};

const statFields = (pid: number): string[] => readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');

/** utime + stime of a process (plus cutime + cstime with `reaped`), 0 once it is gone. */
export const processTicks = (pid: number, reaped = false): number => {
  try {
    const f = statFields(pid);
    return Number(f[11]) + Number(f[12]) + (reaped ? Number(f[13]) + Number(f[14]) : 0);
  } catch {
    return 0;
  }
};

const childrenOf = (ppid: number): number[] => readdirSync('/proc').filter((d) => /^\d+$/.test(d)).map(Number).filter((pid) => {
  try { return Number(statFields(pid)[1]) === ppid; } catch { return false; }
});

/** A process and its live children (and what it reaped), e.g. the postmaster and its backends. */
export const treeTicks = (pid: number): number => processTicks(pid, true) + childrenOf(pid).reduce((n, p) => n + processTicks(p, true), 0);

/** Busy and all clock ticks of the machine (all cores); idle and iowait are not busy. */
export const machineTicks = (): { busy: number; all: number } => {
  const t = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  const all = t.reduce((a, b) => a + b, 0);
  return { busy: all - t[3]! - (t[4] ?? 0), all };
};

/** Resident and peak resident memory in MB, zeros once the process is gone. */
export const memoryMb = (pid: number): { rss: number; peak: number } => {
  try {
    const s = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (k: string) => Number(new RegExp(`${k}:\\s+(\\d+)`).exec(s)?.[1] ?? 0);
    return { rss: kb('VmRSS') / 1024, peak: kb('VmHWM') / 1024 };
  } catch {
    return { rss: 0, peak: 0 };
  }
};

/** The pid of a service of the native stack (scripts/stack.sh), or null when it runs elsewhere. */
export const stackPid = (name: string): number | null => {
  const f = `${repoRoot}.stack/run/${name}.pid`;
  return existsSync(f) ? Number(readFileSync(f, 'utf8').trim()) || null : null;
};
