import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chownSync, closeSync, existsSync, mkdtempSync, openSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort } from './privateKafka.js';
import { waitFor } from './waitFor.js';

const run = promisify(execFile);

/** Debian's PostgreSQL binaries (the newest /usr/lib/postgresql/<v>/bin), or PG_BIN. */
export const postgresBinDir = (): string => {
  const given = process.env.PG_BIN;
  if (given && existsSync(join(given, 'initdb'))) return given;
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root) ? readdirSync(root).filter((v) => existsSync(join(root, v, 'bin', 'initdb'))) : [];
  const newest = versions.sort((a, b) => Number(b) - Number(a))[0];
  if (!newest) throw new Error('no PostgreSQL binaries in /usr/lib/postgresql/*/bin (apt-get install postgresql) and PG_BIN is not set');
  return join(root, newest, 'bin');
};

/** initdb and postgres refuse to run as root: run them as the `postgres` OS user then. */
const serverUser = (): { uid: number; gid: number } | undefined => {
  if (process.getuid?.() !== 0) return undefined;
  const id = (flag: string) => Number(execFileSync('id', [flag, 'postgres'], { encoding: 'utf8' }).trim());
  try {
    return { uid: id('-u'), gid: id('-g') };
  } catch {
    throw new Error('running as root needs a `postgres` OS user for initdb/postgres (apt-get install postgresql creates it)');
  }
};

/** The direct children of a process (a postmaster's backends), from /proc. */
const childPids = (ppid: number): number[] =>
  readdirSync('/proc').filter((d) => /^\d+$/.test(d)).map(Number).filter((pid) => {
    try {
      return Number(readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ')[1]) === ppid;
    } catch {
      return false;
    }
  });

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/**
 * A private PostgreSQL cluster (own port, own data dir, database `affiliate`) for tests that
 * SIGKILL the postmaster and start it again without touching the shared server. fsync is
 * off: a killed process loses nothing the kernel already has, and the cluster starts and
 * commits faster; it does not model a power cut. Starts in about 1-2 s (initdb + start).
 */
export const startPrivatePostgres = async (p: { database?: string } = {}) => {
  const bin = postgresBinDir();
  const user = serverUser();
  const dir = mkdtempSync(join(tmpdir(), 'private-pg-'));
  if (user) chownSync(dir, user.uid, user.gid);
  const data = join(dir, 'data');
  const database = p.database ?? 'affiliate';
  const port = await freePort();
  const asServer = { ...(user ?? {}), env: { ...process.env, LC_ALL: 'C.UTF-8' } };
  await run(join(bin, 'initdb'), ['-D', data, '--auth=trust', '-U', 'postgres', '-E', 'UTF8', '--locale=C.UTF-8', '--no-sync'], asServer).catch((err: Error & { stderr?: string }) => {
    throw new Error(`initdb into ${data} failed: ${err.stderr ?? err.message}`);
  });

  let proc: ChildProcess | null = null;
  let starts = 0;
  let logFile = '';
  const ready = async () => {
    try {
      await run(join(bin, 'pg_isready'), ['-q', '-h', '127.0.0.1', '-p', String(port), '-t', '1']);
      return true;
    } catch {
      return undefined;
    }
  };
  const start = async () => {
    if (proc && proc.exitCode === null && proc.signalCode === null) return;
    logFile = join(dir, `postgres-${++starts}.log`);
    const out = openSync(logFile, 'a');
    if (user) chownSync(logFile, user.uid, user.gid);
    const child = spawn(join(bin, 'postgres'), [
      '-D', data, '-p', String(port), '-c', 'listen_addresses=127.0.0.1', '-c', `unix_socket_directories=${dir}`,
      '-c', 'fsync=off', '-c', 'max_connections=200', '-c', 'shared_buffers=64MB',
    ], { ...asServer, stdio: ['ignore', out, out] });
    closeSync(out);
    proc = child;
    await waitFor(async () => {
      if (child.exitCode !== null || child.signalCode !== null) {
        throw new Error(`postgres exited (${child.exitCode ?? child.signalCode}); log ${logFile}:\n${readFileSync(logFile, 'utf8').slice(-2_000)}`);
      }
      return ready();
    }, { timeoutMs: 30_000, intervalMs: 50, what: `private PostgreSQL on port ${port} (log ${logFile})` }).catch((err) => {
      if (child.exitCode !== null) throw new Error(`postgres exited; log ${logFile}:\n${readFileSync(logFile, 'utf8').slice(-2_000)}`);
      throw err;
    });
  };
  /** SIGKILL the postmaster (no shutdown checkpoint: crash recovery on the next start) and wait until the port is closed. */
  const kill = async () => {
    const child = proc;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const backends = childPids(child.pid!);
    await new Promise<void>((r) => { child.once('exit', () => r()); child.kill('SIGKILL'); });
    // Backends notice their postmaster is gone and exit on their own; a new postmaster cannot
    // start while one still holds the old shared memory, so do not wait on them forever.
    await waitFor(() => (backends.some(alive) ? undefined : true), { timeoutMs: 3_000, intervalMs: 20, what: 'orphaned backends to exit' })
      .catch(() => backends.filter(alive).forEach((pid) => process.kill(pid, 'SIGKILL')));
    await waitFor(async () => ((await ready()) ? undefined : true), { timeoutMs: 5_000, intervalMs: 20, what: `port ${port} to close` });
  };
  const stop = async () => {
    const child = proc;
    if (child && child.exitCode === null && child.signalCode === null) {
      // SIGQUIT: immediate shutdown, like the SIGKILL above but the backends go with it.
      await new Promise<void>((r) => { child.once('exit', () => r()); child.kill('SIGQUIT'); });
    }
    rmSync(dir, { recursive: true, force: true });
  };

  await start();
  await run(join(bin, 'createdb'), ['-h', '127.0.0.1', '-p', String(port), '-U', 'postgres', database]);
  return {
    /** postgres:// URL of the private database (trust authentication). */
    url: `postgres://postgres:postgres@127.0.0.1:${port}/${database}`,
    port,
    get pid(): number | undefined { return proc?.pid; },
    /** The server log of the current (or last) start. */
    get logFile(): string { return logFile; },
    kill,
    /** Start the postmaster again after kill() (crash recovery runs first); no-op while it runs. */
    start,
    /** Stop the server and remove its data directory. */
    stop,
  };
};
export type PrivatePostgres = Awaited<ReturnType<typeof startPrivatePostgres>>;
