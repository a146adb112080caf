import { describe, expect, it } from 'vitest';
import { applyConversion, emptyTable, renderTable, sortedRows, UNATTRIBUTED, type ConversionFields } from './revenueTable.js';

let n = 0;
const c = (kind: string, currency: string, amountMinor: number, partnerKey: string | null): ConversionFields =>
  ({ conversionId: `cnv_${n++}`, kind, currency, amountMinor, attribution: { partnerKey } });
const tableOf = (cs: ConversionFields[]) => cs.reduce(applyConversion, emptyTable());

describe('applyConversion', () => {
  it.each([
    ['a sale adds to gross and net', [c('SALE_FIRST', 'USD', 4_900, 'pk_a')],
      [{ partner: 'pk_a', currency: 'USD', sales: 1, grossMinor: 4_900, refundCount: 0, refundsMinor: 0, netMinor: 4_900 }]],
    ['every sale kind counts, transactions too', ['SALE_FIRST', 'SALE_RECURRING', 'SALE_OTHER', 'SALE_ONE_TIME', 'TRANSACTION'].map((k) => c(k, 'USD', 100, 'pk_a')),
      [{ partner: 'pk_a', currency: 'USD', sales: 5, grossMinor: 500, refundCount: 0, refundsMinor: 0, netMinor: 500 }]],
    ['refunds and reversals are negative', [c('SALE_ONE_TIME', 'JPY', 5_000, 'pk_jp'), c('REFUND_PARTIAL', 'JPY', 2_000, 'pk_jp'), c('REVERSAL', 'JPY', 500, 'pk_jp')],
      [{ partner: 'pk_jp', currency: 'JPY', sales: 1, grossMinor: 5_000, refundCount: 2, refundsMinor: -2_500, netMinor: 2_500 }]],
    ['customer identity records are ignored', [c('CUSTOMER_IDENTITY', 'USD', 0, 'pk_a'), c('SOME_FUTURE_KIND', 'USD', 10, 'pk_a')], []],
    ['no partner key: unattributed', [c('SALE_FIRST', 'usd', 1_000, null)],
      [{ partner: UNATTRIBUTED, currency: 'USD', sales: 1, grossMinor: 1_000, refundCount: 0, refundsMinor: 0, netMinor: 1_000 }]],
    ['one row per currency: amounts of two currencies never add up', [c('SALE_FIRST', 'USD', 1_000, 'pk_a'), c('SALE_FIRST', 'KWD', 12_345, 'pk_a')],
      [{ partner: 'pk_a', currency: 'KWD', sales: 1, grossMinor: 12_345, refundCount: 0, refundsMinor: 0, netMinor: 12_345 },
        { partner: 'pk_a', currency: 'USD', sales: 1, grossMinor: 1_000, refundCount: 0, refundsMinor: 0, netMinor: 1_000 }]],
    ['a refund before its sale still counts (the net goes negative)', [c('REFUND_FULL', 'USD', 700, 'pk_b')],
      [{ partner: 'pk_b', currency: 'USD', sales: 0, grossMinor: 0, refundCount: 1, refundsMinor: -700, netMinor: -700 }]],
  ] as const)('%s', (_name, cs, rows) => {
    expect(sortedRows(tableOf([...cs]))).toEqual(rows);
  });

  it('leaves the table it was given unchanged', () => {
    const t = tableOf([c('SALE_FIRST', 'USD', 100, 'pk_a')]);
    applyConversion(t, c('SALE_FIRST', 'USD', 100, 'pk_a'));
    expect(t.get(`pk_a\u0000USD`)?.sales).toBe(1);
  });
});

describe('renderTable', () => {
  it('prints decimals with each currency\'s exponent, unattributed last', () => {
    const t = tableOf([
      c('SALE_ONE_TIME', 'JPY', 5_000, 'pk_tokyo'), c('REFUND_PARTIAL', 'JPY', 2_000, 'pk_tokyo'),
      c('SALE_ONE_TIME', 'KWD', 12_345, 'pk_kuwait'), c('SALE_FIRST', 'USD', 4_900, null), c('REFUND_FULL', 'USD', 50, null),
    ]);
    expect(renderTable(t)).toBe([
      'partner         currency  sales   gross  refunds  refunded     net',
      '--------------  --------  -----  ------  -------  --------  ------',
      'pk_kuwait       KWD           1  12.345        0     0.000  12.345',
      'pk_tokyo        JPY           1    5000        1     -2000    3000',
      '(unattributed)  USD           1   49.00        1     -0.50   48.50',
    ].join('\n'));
  });

  it('says so when there is nothing yet', () => {
    expect(renderTable(emptyTable())).toBe('(no sales yet)');
  });
});
