import { readFile } from 'node:fs/promises';

/**
 * Where a secret value comes from, so it never has to be typed on the command line (where
 * shell history and `ps` would keep it): `@env:VAR`, `@file:path`, `-` (stdin), or the value
 * itself, which works but earns a warning.
 */
export type SecretSource =
  | { readonly from: 'env'; readonly name: string }
  | { readonly from: 'file'; readonly path: string }
  | { readonly from: 'stdin' }
  | { readonly from: 'literal'; readonly value: string };

export const parseSecretSource = (s: string): SecretSource => {
  if (s === '-') return { from: 'stdin' };
  if (s.startsWith('@env:')) return { from: 'env', name: s.slice(5) };
  if (s.startsWith('@file:')) return { from: 'file', path: s.slice(6) };
  return { from: 'literal', value: s };
};

/** `name=source` of --credential. */
export const parseCredentialArg = (arg: string): { name: string; source: SecretSource } => {
  const eq = arg.indexOf('=');
  if (eq <= 0) throw new SecretInputError(`--credential ${arg.includes('=') ? arg : '<name>'}: expected name=@env:VAR, name=@file:path, name=- or name=value`);
  return { name: arg.slice(0, eq), source: parseSecretSource(arg.slice(eq + 1)) };
};

export class SecretInputError extends Error {
  override readonly name = 'SecretInputError';
}

export interface SecretIo {
  readonly env: NodeJS.ProcessEnv;
  readonly readStdin: () => Promise<string>;
  readonly warn: (message: string) => void;
}

export const readStdin = async (stream: NodeJS.ReadableStream = process.stdin): Promise<string> => {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(typeof c === 'string' ? Buffer.from(c) : c);
  return Buffer.concat(chunks).toString('utf8');
};

/** Resolve one source to its value (trailing newline of a file or stdin dropped). */
export const resolveSecret = async (label: string, src: SecretSource, io: SecretIo): Promise<string> => {
  let value: string;
  switch (src.from) {
    case 'env': {
      const v = io.env[src.name];
      if (!v) throw new SecretInputError(`${label}: environment variable ${src.name} is not set`);
      value = v;
      break;
    }
    case 'file':
      try {
        value = (await readFile(src.path, 'utf8')).replace(/\r?\n$/, '');
      } catch (err) {
        throw new SecretInputError(`${label}: cannot read ${src.path}: ${(err as Error).message}`);
      }
      break;
    case 'stdin':
      value = (await io.readStdin()).replace(/\r?\n$/, '');
      break;
    case 'literal':
      io.warn(`warning: ${label} given on the command line stays in your shell history; prefer @env:VAR, @file:path or - (stdin)`);
      value = src.value;
      break;
    default: {
      const _exhaustive: never = src;
      return _exhaustive;
    }
  }
  if (!value) throw new SecretInputError(`${label} is empty`);
  return value;
};

/**
 * Credentials from --credentials-file (a JSON object; `-` for stdin) and --credential
 * name=source flags (which win). Only one of them may read stdin.
 */
export const resolveCredentials = async (
  args: { file?: string | undefined; credential?: readonly string[] | undefined }, io: SecretIo,
): Promise<Record<string, string> | undefined> => {
  const pairs = (args.credential ?? []).map(parseCredentialArg);
  const stdinUsers = pairs.filter((p) => p.source.from === 'stdin').length + (args.file === '-' ? 1 : 0);
  if (stdinUsers > 1) throw new SecretInputError('only one credential (or --credentials-file -) can be read from stdin');
  if (args.file === undefined && pairs.length === 0) return undefined;
  const out: Record<string, string> = {};
  if (args.file !== undefined) {
    const text = args.file === '-' ? await io.readStdin() : await readFile(args.file, 'utf8').catch((err: Error) => {
      throw new SecretInputError(`--credentials-file: cannot read ${args.file}: ${err.message}`);
    });
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      throw new SecretInputError('--credentials-file: not JSON; expected an object like {"authToken": "..."}');
    }
    if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed) || Object.values(parsed).some((v) => typeof v !== 'string')) {
      throw new SecretInputError('--credentials-file: expected a JSON object of strings, like {"authToken": "..."}');
    }
    Object.assign(out, parsed);
  }
  for (const p of pairs) out[p.name] = await resolveSecret(`credential ${p.name}`, p.source, io);
  return out;
};
