import { describe, expect, it } from 'vitest';
import { parseCredentialArg, parseSecretSource, resolveCredentials, resolveSecret, type SecretIo } from './secretInput.js';

const io = (stdin = '', env: NodeJS.ProcessEnv = {}) => {
  const warnings: string[] = [];
  const x: SecretIo = { env, readStdin: async () => stdin, warn: (m) => { warnings.push(m); } };
  return { io: x, warnings };
};

describe('secret sources', () => {
  it.each([
    { given: '-', then: { from: 'stdin' } },
    { given: '@env:IMPACT_TOKEN', then: { from: 'env', name: 'IMPACT_TOKEN' } },
    { given: '@file:/run/secrets/t', then: { from: 'file', path: '/run/secrets/t' } },
    { given: 'tok_123', then: { from: 'literal', value: 'tok_123' } },
  ])('$given', ({ given, then }) => expect(parseSecretSource(given)).toEqual(then));

  it('splits name=source at the first =', () => {
    expect(parseCredentialArg('authToken=a=b')).toEqual({ name: 'authToken', source: { from: 'literal', value: 'a=b' } });
    expect(() => parseCredentialArg('authToken')).toThrow(/expected name=@env:VAR/);
  });

  it.each([
    { name: 'env', src: '@env:T', stdin: '', env: { T: 'v1' }, then: 'v1', warned: 0 },
    { name: 'stdin, its trailing newline dropped', src: '-', stdin: 'v2\n', env: {}, then: 'v2', warned: 0 },
    { name: 'a literal warns', src: 'v3', stdin: '', env: {}, then: 'v3', warned: 1 },
  ])('resolves $name', async ({ src, stdin, env, then, warned }) => {
    const t = io(stdin, env);
    expect(await resolveSecret('--secret', parseSecretSource(src), t.io)).toBe(then);
    expect(t.warnings.length).toBe(warned);
  });

  it.each([
    { name: 'an unset variable', src: '@env:NOPE', then: '--secret: environment variable NOPE is not set' },
    { name: 'an empty stdin', src: '-', then: '--secret is empty' },
    { name: 'a missing file', src: '@file:/nonexistent/x', then: /^--secret: cannot read \/nonexistent\/x/ },
  ])('refuses $name', async ({ src, then }) => {
    await expect(resolveSecret('--secret', parseSecretSource(src), io().io)).rejects.toThrow(then);
  });
});

describe('resolveCredentials', () => {
  it('a JSON file on stdin, with --credential flags winning', async () => {
    const t = io('{"authToken":"from-file","other":"x"}', { TOK: 'from-env' });
    expect(await resolveCredentials({ file: '-', credential: ['authToken=@env:TOK'] }, t.io)).toEqual({ authToken: 'from-env', other: 'x' });
  });
  it.each([
    { name: 'nothing given → undefined (keep the current ones)', args: {}, stdin: '', then: undefined },
  ])('$name', async ({ args, stdin, then }) => expect(await resolveCredentials(args, io(stdin).io)).toEqual(then));
  it.each([
    { name: 'two readers of stdin', args: { file: '-', credential: ['a=-'] }, stdin: '{}', then: /only one credential/ },
    { name: 'a file that is not JSON', args: { file: '-' }, stdin: 'authToken=x', then: /not JSON/ },
    { name: 'a JSON array', args: { file: '-' }, stdin: '["x"]', then: /expected a JSON object of strings/ },
  ])('refuses $name', async ({ args, stdin, then }) => {
    await expect(resolveCredentials(args, io(stdin).io)).rejects.toThrow(then);
  });
});
