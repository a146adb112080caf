import { toDecimalString } from '@sas/contracts';

/**
 * The fields of a conversion this report reads. An analytics consumer decodes the whole
 * record with the registry's schema; BACKWARD compatibility means fields it does not know
 * yet may appear (ignored here) and none of these disappear.
 */
export interface ConversionFields {
  readonly conversionId: string;
  readonly kind: string;
  readonly currency: string;
  readonly amountMinor: number;
  readonly attribution: { readonly partnerKey: string | null };
}

export interface RevenueRow {
  readonly partner: string;
  readonly currency: string;
  readonly sales: number;
  readonly grossMinor: number;
  readonly refundCount: number;
  /** Zero or negative: what was refunded (or reversed). */
  readonly refundsMinor: number;
  readonly netMinor: number;
}

/** Rows by partner and currency (amounts of two currencies are never added). */
export type RevenueTable = ReadonlyMap<string, RevenueRow>;

export const UNATTRIBUTED = '(unattributed)';
export const emptyTable = (): RevenueTable => new Map();

const SALE_KINDS = new Set(['SALE_FIRST', 'SALE_RECURRING', 'SALE_OTHER', 'SALE_ONE_TIME', 'TRANSACTION']);
/** A reversal undoes a charge-based transaction: money back, like a refund. */
const REFUND_KINDS = new Set(['REFUND_FULL', 'REFUND_PARTIAL', 'REVERSAL']);

const rowKey = (partner: string, currency: string) => `${partner}\u0000${currency}`;

/**
 * One conversion into the table: sales add to gross, refunds and reversals subtract (net =
 * gross + refunds); customer identity records and kinds this report does not know leave it
 * unchanged. Amounts are what the customer paid or got back, in minor units, tax included.
 * The stream is at least once: the caller skips conversion ids it has already applied.
 */
export const applyConversion = (table: RevenueTable, c: ConversionFields): RevenueTable => {
  const sale = SALE_KINDS.has(c.kind);
  if (!sale && !REFUND_KINDS.has(c.kind)) return table;
  const partner = c.attribution.partnerKey ?? UNATTRIBUTED;
  const currency = c.currency.toUpperCase();
  const key = rowKey(partner, currency);
  const row = table.get(key) ?? { partner, currency, sales: 0, grossMinor: 0, refundCount: 0, refundsMinor: 0, netMinor: 0 };
  const amount = Math.abs(c.amountMinor);
  const next: RevenueRow = sale
    ? { ...row, sales: row.sales + 1, grossMinor: row.grossMinor + amount, netMinor: row.netMinor + amount }
    : { ...row, refundCount: row.refundCount + 1, refundsMinor: row.refundsMinor - amount, netMinor: row.netMinor - amount };
  return new Map(table).set(key, next);
};

/** Rows sorted by partner (unattributed last), then currency. */
export const sortedRows = (table: RevenueTable): RevenueRow[] =>
  [...table.values()].sort((a, b) =>
    Number(a.partner === UNATTRIBUTED) - Number(b.partner === UNATTRIBUTED) || a.partner.localeCompare(b.partner) || a.currency.localeCompare(b.currency));

/** The table as text, amounts as decimals with each currency's exponent (JPY 0, USD 2, KWD 3). */
export const renderTable = (table: RevenueTable): string => {
  const header = ['partner', 'currency', 'sales', 'gross', 'refunds', 'refunded', 'net'];
  const rows = sortedRows(table).map((r) => [
    r.partner, r.currency, String(r.sales), toDecimalString(r.grossMinor, r.currency), String(r.refundCount),
    toDecimalString(r.refundsMinor, r.currency), toDecimalString(r.netMinor, r.currency),
  ]);
  if (rows.length === 0) return '(no sales yet)';
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  // Text columns left-aligned, numbers right-aligned.
  const line = (cells: string[]) => cells.map((c, i) => (i < 2 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ').trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
};
