import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bundleIsFresh, repoRoot } from './bundles.js';
import { freePort } from './privateKafka.js';
import { waitFor } from './waitFor.js';

export const PipelineServices = ['ingest', 'mapper', 'scheduler', 'dispatcher'] as const;
export type PipelineService = (typeof PipelineServices)[number];

/** The variable each service takes its HTTP port from (ingest: the webhook server; others: health). */
const portVar: Record<PipelineService, string> = {
  ingest: 'INGEST_PORT', mapper: 'MAPPER_HEALTH_PORT', scheduler: 'SCHEDULER_HEALTH_PORT', dispatcher: 'DISPATCHER_HEALTH_PORT',
};

/**
 * How to run a service: its esbuild bundle (dist/<service>/main.js from `node scripts/build.mjs`,
 * plain JavaScript as in production) when it is newer than every source file it is built
 * from, else the TypeScript through tsx, so a test never runs a stale bundle.
 */
export const serviceCommand = (service: PipelineService, runner: 'auto' | 'bundle' | 'tsx' = 'auto'): string[] => {
  const bundle = join(repoRoot, 'dist', service, 'main.js');
  const tsx = ['--import', 'tsx', join(repoRoot, 'services', service, 'src', 'main.ts')];
  if (runner === 'tsx') return tsx;
  if (runner === 'bundle') {
    if (!existsSync(bundle)) throw new Error(`${bundle} is missing: run node scripts/build.mjs`);
    return [bundle];
  }
  return bundleIsFresh(bundle) ? [bundle] : tsx;
};

export interface ServiceProcess {
  readonly name: PipelineService;
  /** The running child's pid (undefined while stopped). */
  readonly pid: number | undefined;
  /** Base URL of the service's HTTP server: /healthz, /readyz, /metrics (ingest: also /webhooks). */
  readonly url: string;
  /** Where the child's stdout and stderr go (appended across restarts). */
  readonly logFile: string;
  /** Send a signal (default SIGKILL: no shutdown code runs) and wait for the process to exit. */
  kill(signal?: NodeJS.Signals): Promise<void>;
  /**
   * Start it again (SIGKILLing it first if it still runs) on the same port, and wait for /readyz.
   * A consumer service joins its group before it listens, so after a SIGKILL this waits for the
   * dead member's session to expire: give tests a short *_SESSION_TIMEOUT_MS (6000).
   */
  restart(): Promise<void>;
  /** SIGTERM, wait for a clean exit (SIGKILL after `timeoutMs`); resolves to the exit code. */
  stop(timeoutMs?: number): Promise<number | null>;
  /** Poll /readyz until it answers 200. */
  waitReady(timeoutMs?: number): Promise<void>;
}

export interface PipelineOptions {
  /** Environment of every service: KAFKA_BROKERS, DATABASE_URL, SCHEMA_REGISTRY_URL, KAFKA_TOPIC_PREFIX, SECRETS_KEY, ... */
  readonly env: NodeJS.ProcessEnv;
  /** Which services to start (default all four), in this order. */
  readonly services?: readonly PipelineService[];
  /** Extra variables per service (e.g. RETRY_SCHEDULE_MS for the dispatcher). */
  readonly serviceEnv?: Partial<Record<PipelineService, NodeJS.ProcessEnv>>;
  /** Extra node flags per service (e.g. ['--cpu-prof']). */
  readonly nodeArgs?: Partial<Record<PipelineService, string[]>>;
  readonly runner?: 'auto' | 'bundle' | 'tsx';
  /** Where the log files go (default a new directory under os.tmpdir()). */
  readonly logDir?: string;
  readonly readyTimeoutMs?: number;
}

const tail = (file: string, chars = 3_000): string => {
  try {
    return readFileSync(file, 'utf8').slice(-chars);
  } catch {
    return '';
  }
};

const running = (c: ChildProcess): boolean => c.exitCode === null && c.signalCode === null;

const startService = async (name: PipelineService, o: PipelineOptions, logDir: string): Promise<ServiceProcess> => {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const logFile = join(logDir, `${name}.log`);
  const args = [...(o.nodeArgs?.[name] ?? []), ...serviceCommand(name, o.runner)];
  const env = { ...process.env, ...o.env, ...o.serviceEnv?.[name], [portVar[name]]: String(port) };
  // Held in an object: TypeScript would narrow a `let` assigned only inside closures to null.
  const current: { child: ChildProcess | null } = { child: null };

  const spawnChild = () => {
    const out = openSync(logFile, 'a');
    current.child = spawn(process.execPath, args, { cwd: repoRoot, env, stdio: ['ignore', out, out] });
    closeSync(out);
  };
  const waitReady = async (timeoutMs = o.readyTimeoutMs ?? 60_000) => {
    const c = current.child;
    await waitFor(async () => {
      if (!c || !running(c)) throw new Error(`${name} exited (${c?.exitCode ?? c?.signalCode}) before it was ready; log ${logFile}:\n${tail(logFile)}`);
      const res = await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(2_000) }).catch(() => null);
      await res?.body?.cancel();
      return res?.status === 200 ? true : undefined;
    }, { timeoutMs, intervalMs: 100, what: `${name} /readyz at ${url} (log ${logFile})` }).catch((err: Error) => {
      throw new Error(`${err.message}${err.message.includes(logFile + ':') ? '' : `\n${tail(logFile)}`}`);
    });
  };
  const kill = async (signal: NodeJS.Signals = 'SIGKILL') => {
    const c = current.child;
    if (!c || !running(c)) return;
    await new Promise<void>((r) => { c.once('exit', () => r()); c.kill(signal); });
  };
  const stop = async (timeoutMs = 15_000): Promise<number | null> => {
    const c = current.child;
    if (!c || !running(c)) return c?.exitCode ?? null;
    const exited = new Promise<void>((r) => c.once('exit', () => r()));
    c.kill('SIGTERM');
    const timer = setTimeout(() => c.kill('SIGKILL'), timeoutMs);
    await exited;
    clearTimeout(timer);
    return c.exitCode;
  };

  spawnChild();
  await waitReady().catch(async (err) => {
    await kill('SIGKILL');
    throw err;
  });
  return {
    name,
    get pid() { const c = current.child; return c && running(c) ? c.pid : undefined; },
    url,
    logFile,
    kill,
    restart: async () => {
      await kill('SIGKILL');
      spawnChild();
      await waitReady();
    },
    stop,
    waitReady,
  };
};

/**
 * The pipeline's services as real child processes (each on a free port, all sharing one
 * environment), for tests and benches that SIGKILL and restart them. They start together and
 * are each waited for on /readyz; if one fails, the others are stopped and its log is in the error.
 */
export const startPipelineProcesses = async (o: PipelineOptions) => {
  const logDir = o.logDir ?? mkdtempSync(join(tmpdir(), 'sas-pipeline-'));
  const started: Partial<Record<PipelineService, ServiceProcess>> = {};
  const stopAll = async () => { await Promise.all(Object.values(started).map((s) => s.stop())); };
  const results = await Promise.allSettled((o.services ?? PipelineServices).map(async (name) => {
    started[name] = await startService(name, o, logDir);
  }));
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) {
    await stopAll();
    throw failed.reason;
  }
  const get = (name: PipelineService): ServiceProcess => {
    const s = started[name];
    if (!s) throw new Error(`${name} was not started (services: ${Object.keys(started).join(', ')})`);
    return s;
  };
  return {
    services: started,
    get ingest() { return get('ingest'); },
    get mapper() { return get('mapper'); },
    get scheduler() { return get('scheduler'); },
    get dispatcher() { return get('dispatcher'); },
    /** The URL Stripe posts an integration's events to. */
    webhookUrl: (integrationId: string) => `${get('ingest').url}/webhooks/stripe/${encodeURIComponent(integrationId)}`,
    logDir,
    /** SIGTERM every service and wait for them to exit. */
    stopAll,
  };
};
export type PipelineProcesses = Awaited<ReturnType<typeof startPipelineProcesses>>;
