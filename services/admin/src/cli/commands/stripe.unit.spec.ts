import { describe, expect, it } from 'vitest';
import { CliError } from '../context.js';
import { parseWindow, readKeyArg } from './stripe.js';

describe('readKeyArg', () => {
  const io = (env: NodeJS.ProcessEnv, warnings: string[] = []) => ({ env, readStdin: async () => 'rk_test_fromstdin\n', warn: (m: string) => { warnings.push(m); } });
  it('reads @env:VAR', async () => expect(await readKeyArg('@env:K', io({ K: ' rk_test_abc \n' }))).toBe('rk_test_abc'));
  it('reads - from stdin', async () => expect(await readKeyArg('-', io({}))).toBe('rk_test_fromstdin'));
  it('no --key: the stored key is used', async () => expect(await readKeyArg(undefined, io({}))).toBeUndefined());
  it('a key on the command line works but warns', async () => {
    const warnings: string[] = [];
    expect(await readKeyArg('rk_test_51Habcdefgh', io({}, warnings))).toBe('rk_test_51Habcdefgh');
    expect(warnings).toEqual([expect.stringMatching(/stays in your shell history/)]);
  });
  it('an unset variable is a usage error (exit 2)', async () => {
    const err = await readKeyArg('@env:MISSING', io({})).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CliError);
    expect((err as CliError).exitCode).toBe(2);
    expect((err as CliError).message).toMatch(/MISSING is not set/);
  });
});

describe('parseWindow', () => {
  it.each([['24h', 86_400], ['30m', 1800], ['90s', 90], ['2d', 172_800], ['0', 0], ['45', 45]])('%s → %i s', (given, then) => expect(parseWindow(given)).toBe(then));
  it('refuses what is not a duration', () => expect(() => parseWindow('1 week')).toThrow(/expected a duration like 24h/));
});
