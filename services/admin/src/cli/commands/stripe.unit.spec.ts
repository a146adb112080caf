import { describe, expect, it } from 'vitest';
import { CliError } from '../context.js';
import { parseWindow, readKeyArg } from './stripe.js';

describe('readKeyArg', () => {
  it('reads @env:VAR', async () => expect(await readKeyArg('@env:K', { K: ' rk_test_abc \n' })).toBe('rk_test_abc'));
  it('no --key: the stored key is used', async () => expect(await readKeyArg(undefined, {})).toBeUndefined());
  it.each([
    { given: 'rk_test_51Habcdefgh', then: /never the key itself/ },
    { given: '@env:MISSING', then: /MISSING is not set/ },
  ])('refuses $given (usage, exit 2)', async ({ given, then }) => {
    const err = await readKeyArg(given, {}).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CliError);
    expect((err as CliError).exitCode).toBe(2);
    expect((err as CliError).message).toMatch(then);
  });
});

describe('parseWindow', () => {
  it.each([['24h', 86_400], ['30m', 1800], ['90s', 90], ['2d', 172_800], ['0', 0], ['45', 45]])('%s → %i s', (given, then) => expect(parseWindow(given)).toBe(then));
  it('refuses what is not a duration', () => expect(() => parseWindow('1 week')).toThrow(/expected a duration like 24h/));
});
