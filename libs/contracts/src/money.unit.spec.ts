import { describe, expect, it } from 'vitest';
import { CurrencyError, currencyExponent, toDecimalString } from './money.js';

describe('toDecimalString', () => {
  // The seeds' centsToDollars(amount) divides by 100 for every currency; for JPY that would
  // credit ¥19.99 for a ¥1999 sale, and for KWD 19.99 for 1.999 KWD. These rows pin the fix.
  it.each([
    { amount: 1999, currency: 'usd', then: '19.99' },
    { amount: 5, currency: 'EUR', then: '0.05' },
    { amount: 0, currency: 'USD', then: '0.00' },
    { amount: -50, currency: 'USD', then: '-0.50' },
    { amount: 1999, currency: 'jpy', then: '1999' },
    { amount: 50000, currency: 'KRW', then: '50000' },
    { amount: 1999, currency: 'KWD', then: '1.999' },
    { amount: 7, currency: 'bhd', then: '0.007' },
    { amount: -1234, currency: 'KWD', then: '-1.234' },
    { amount: 900719925474099, currency: 'USD', then: '9007199254740.99' },
  ])('$amount $currency → $then', ({ amount, currency, then }) => {
    expect(toDecimalString(amount, currency)).toBe(then);
  });

  it.each([
    { amount: 19.99, currency: 'USD', error: /integer in minor units/ },
    { amount: Number.NaN, currency: 'USD', error: /integer in minor units/ },
    { amount: 100, currency: 'dollars', error: /not an ISO 4217 code/ },
    { amount: 100, currency: '', error: /not an ISO 4217 code/ },
  ])('rejects $amount $currency', ({ amount, currency, error }) => {
    expect(() => toDecimalString(amount, currency)).toThrow(CurrencyError);
    expect(() => toDecimalString(amount, currency)).toThrow(error);
  });

  it('knows exponents', () => {
    expect([currencyExponent('usd'), currencyExponent('JPY'), currencyExponent('kwd')]).toEqual([2, 0, 3]);
  });
});
