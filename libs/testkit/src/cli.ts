import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { bundleIsFresh, repoRoot } from './bundles.js';

const sasBin = join(repoRoot, 'services/admin/bin/sas.mjs');
const sasBundle = join(repoRoot, 'dist/sas/main.js');
/** The bundled CLI when it is current (it starts in about half the time), else the TypeScript bin. */
const sasEntry = (): string => (bundleIsFresh(sasBundle) ? sasBundle : sasBin);

export interface CliRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
  /** stdout parsed as JSON (for commands run with --json); throws with the output if it is not. */
  json<T = unknown>(): T;
}

/**
 * Run `sas <args>` as a user types it, in a child process with the given environment, and
 * collect what it printed. Never throws on a non-zero exit: tests assert on `code`.
 */
export const runSas = (args: readonly string[], env: NodeJS.ProcessEnv, opts: { timeoutMs?: number; input?: string } = {}): Promise<CliRun> =>
  new Promise((resolve, reject) => {
    const child = execFile(process.execPath, [sasEntry(), ...args], { env: { ...process.env, ...env }, timeout: opts.timeoutMs ?? 60_000, maxBuffer: 64 * 1024 * 1024 },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
        if (err && typeof err.code !== 'number') return reject(new Error(`sas ${args.join(' ')} did not finish: ${err.message}\n${stderr}`));
        resolve({
          code, stdout, stderr,
          json: <T>() => {
            try {
              return JSON.parse(stdout) as T;
            } catch {
              throw new Error(`sas ${args.join(' ')} printed no JSON (exit ${code}):\nstdout: ${stdout}\nstderr: ${stderr}`);
            }
          },
        });
      });
    if (opts.input !== undefined) child.stdin?.end(opts.input);
  });
