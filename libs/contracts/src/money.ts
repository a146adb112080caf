/**
 * Money is an integer in the currency's minor unit plus an ISO 4217 code. Decimal strings
 * exist only at a partner's wire format, made here.
 */
export interface Money {
  readonly amountMinor: number;
  readonly currency: string; // ISO 4217, upper case
}

/** ISO 4217 exponents that differ from 2 (Stripe's list of zero-decimal currencies included). */
const EXPONENTS: Readonly<Record<string, number>> = {
  BIF: 0, CLP: 0, DJF: 0, GNF: 0, ISK: 0, JPY: 0, KMF: 0, KRW: 0, PYG: 0, RWF: 0, UGX: 0,
  UYI: 0, VND: 0, VUV: 0, XAF: 0, XOF: 0, XPF: 0,
  BHD: 3, IQD: 3, JOD: 3, KWD: 3, LYD: 3, OMR: 3, TND: 3,
};

export class CurrencyError extends Error {
  override readonly name = 'CurrencyError';
}

export const normalizeCurrency = (code: string): string => {
  const upper = code.trim().toUpperCase();
  if (!/^[A-Z]{3}$/.test(upper)) throw new CurrencyError(`not an ISO 4217 code: "${code}"`);
  return upper;
};

export const currencyExponent = (code: string): number => EXPONENTS[normalizeCurrency(code)] ?? 2;

/** 1999 USD → "19.99"; 1999 JPY → "1999"; 1999 KWD → "1.999"; -50 USD → "-0.50". */
export const toDecimalString = (amountMinor: number, currency: string): string => {
  if (!Number.isSafeInteger(amountMinor)) {
    throw new CurrencyError(`amount must be an integer in minor units, got ${amountMinor}`);
  }
  const exp = currencyExponent(currency);
  const sign = amountMinor < 0 ? '-' : '';
  const digits = String(Math.abs(amountMinor));
  if (exp === 0) return sign + digits;
  const padded = digits.padStart(exp + 1, '0');
  return `${sign}${padded.slice(0, -exp)}.${padded.slice(-exp)}`;
};
