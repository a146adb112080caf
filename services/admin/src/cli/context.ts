import type { Command } from 'commander';
import type { z } from 'zod';
import { loadConfig } from '@sas/runtime';

/** What every command gets: how to print, and its environment (validated on first use). */
export interface CliContext {
  /** True when --json was given: print one JSON document on stdout, nothing else. */
  readonly json: () => boolean;
  /** Print a result: JSON with --json, else the human rendering. */
  readonly print: (data: unknown, human?: () => string) => void;
  /** Validate this command's environment; a clear message names what is missing. */
  readonly env: <S extends z.ZodTypeAny>(schema: S) => z.infer<S>;
  readonly stdout: NodeJS.WritableStream & { isTTY?: boolean };
  readonly stderr: NodeJS.WritableStream & { isTTY?: boolean };
}

/** A command module adds its commands to the program. */
export type RegisterCommands = (program: Command, ctx: CliContext) => void;

/** A failure the user can act on: printed as one line (or JSON), exit code `exitCode`. */
export class CliError extends Error {
  override readonly name = 'CliError';
  constructor(message: string, readonly exitCode = 1, readonly details?: unknown) {
    super(message);
  }
}

export const createContext = (program: Command, env: NodeJS.ProcessEnv = process.env): CliContext => {
  const json = () => Boolean(program.opts().json);
  return {
    json,
    print: (data, human) => {
      process.stdout.write(json() || !human ? `${JSON.stringify(data, null, json() ? 0 : 2)}\n` : `${human()}\n`);
    },
    env: (schema) => {
      try {
        return loadConfig(schema, env);
      } catch (err) {
        throw new CliError(err instanceof Error ? err.message : String(err), 2);
      }
    },
    stdout: process.stdout,
    stderr: process.stderr,
  };
};
