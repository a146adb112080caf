import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A local stand-in for impact.com's Conversions API that checks the documented request shape
 * (../shared/docs/partner-apis.md) and counts what it credited. Not a mock of our code: it
 * is the partner's side of the wire.
 */
export interface ImpactSubmission {
  readonly fields: Record<string, string>;
  readonly accepted: boolean;
  readonly errors: string[];
  readonly receivedAt: number;
}

const ATTRIBUTION_KEYS = ['ClickId', 'CustomerId', 'PromoCode', 'MediaPartnerId'];
const TRACKER_KEYS = ['ActionTrackerId', 'EventTypeId', 'EventTypeCode'];
const ISO_8601 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;
const DECIMAL = /^-?\d+(\.\d+)?$/;
const HASHED = /^([a-f0-9]{40}|[a-f0-9]{64})$/i;

export const checkConversionForm = (f: Record<string, string>): string[] => {
  const errors: string[] = [];
  for (const k of ['CampaignId', 'EventDate', 'OrderId']) if (!f[k]) errors.push(`${k} is required`);
  if (f.EventDate && !ISO_8601.test(f.EventDate)) errors.push(`EventDate is not ISO 8601: ${f.EventDate}`);
  if (!TRACKER_KEYS.some((k) => f[k])) errors.push('one of ActionTrackerId, EventTypeId, EventTypeCode is required');
  if (!ATTRIBUTION_KEYS.some((k) => f[k])) errors.push('an attribution key (ClickId, CustomerId, PromoCode, MediaPartnerId) is required');
  if (f.CustomerEmail && !HASHED.test(f.CustomerEmail)) errors.push('CustomerEmail must be SHA-1 or SHA-256 hashed');
  const moneyKeys = Object.keys(f).filter((k) => /^(ItemPrice|ItemSubTotal)\d+$|^(Amount|OrderDiscount)$/.test(k));
  if (moneyKeys.length > 0 && !/^[A-Z]{3}$/.test(f.CurrencyCode ?? '')) errors.push('CurrencyCode (upper-case ISO 4217) is required with money fields');
  for (const k of moneyKeys) if (!DECIMAL.test(f[k]!)) errors.push(`${k} is not a decimal amount: ${f[k]}`);
  const itemNumbers = [...new Set(Object.keys(f).flatMap((k) => /^Item[A-Za-z]+(\d+)$/.exec(k)?.[1] ?? []).map(Number))].sort((a, b) => a - b);
  itemNumbers.forEach((n, i) => {
    if (n !== i + 1) errors.push(`items must be numbered from 1 without gaps, found ${itemNumbers.join(',')}`);
    if (f[`ItemPrice${n}`] && f[`ItemSubTotal${n}`]) errors.push(`item ${n} has both ItemPrice and ItemSubTotal`);
    if (!f[`ItemPrice${n}`] && !f[`ItemSubTotal${n}`]) errors.push(`item ${n} has no ItemPrice or ItemSubTotal`);
  });
  return [...new Set(errors)];
};

/** What impact would credit for one accepted form: Σ price × quantity or subtotal, in the decimal currency unit. */
export const creditedAmount = (f: Record<string, string>): number => {
  let total = 0;
  for (let i = 1; f[`ItemSku${i}`] !== undefined || f[`ItemPrice${i}`] !== undefined || f[`ItemSubTotal${i}`] !== undefined; i++) {
    const qty = Number(f[`ItemQuantity${i}`] ?? '1');
    total += f[`ItemSubTotal${i}`] !== undefined ? Number(f[`ItemSubTotal${i}`]) : Number(f[`ItemPrice${i}`]) * qty;
  }
  return total;
};

const readBody = (req: IncomingMessage) =>
  new Promise<string>((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });

export const startImpactStub = async (p: { accountSid: string; authToken: string }) => {
  const submissions: ImpactSubmission[] = [];
  /** Credits by `${tracker}:${OrderId}`: impact's OrderId is unique per action tracker. */
  const credits = new Map<string, number>();
  let duplicates = 0;
  const expectedAuth = `Basic ${Buffer.from(`${p.accountSid}:${p.authToken}`).toString('base64')}`;

  const server = createServer(async (req, res) => {
    const reply = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    };
    const url = new URL(req.url ?? '/', 'http://stub');
    if (req.method !== 'POST' || url.pathname !== `/Advertisers/${p.accountSid}/Conversions`) {
      return reply(404, { Status: 'ERROR', Message: `no route ${req.method} ${url.pathname}` });
    }
    if (req.headers.authorization !== expectedAuth) return reply(401, { Status: 'ERROR', Message: 'bad credentials' });
    if (!req.headers['content-type']?.startsWith('application/x-www-form-urlencoded')) {
      return reply(415, { Status: 'ERROR', Message: 'expected application/x-www-form-urlencoded' });
    }
    const fields = Object.fromEntries(new URLSearchParams(await readBody(req)));
    const errors = checkConversionForm(fields);
    submissions.push({ fields, accepted: errors.length === 0, errors, receivedAt: Date.now() });
    if (errors.length > 0) {
      return reply(400, { Status: 'ERROR', errors: errors.map((message) => ({ field: null, level: 'ERROR', message })) });
    }
    const creditKey = `${fields.EventTypeId ?? fields.ActionTrackerId ?? fields.EventTypeCode}:${fields.OrderId}`;
    if (credits.has(creditKey)) duplicates++;
    else credits.set(creditKey, creditedAmount(fields));
    return reply(200, { Status: 'QUEUED', QueuedUri: `/Advertisers/${p.accountSid}/APISubmissions/${submissions.length}` });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}`,
    submissions,
    credits,
    duplicates: () => duplicates,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
};
export type ImpactStub = Awaited<ReturnType<typeof startImpactStub>>;
