import { DECIMAL, basicAuthOf, startStubServer, type Faults, type StubReply, type StubRequest } from './partnerStubs/stubServer.js';

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

/** One action at impact (tracker + OrderId), as the Actions API modifies it. */
export interface ImpactAction {
  amount: number;
  state: 'active' | 'reversed';
  modifications: { method: 'PUT' | 'DELETE'; fields: Record<string, string> }[];
}

const MAX_MODIFICATIONS = 1000;

/**
 * One API submission, as GET /Advertisers/{SID}/APISubmissions/{BatchId} answers it
 * (https://integrations.impact.com/brand-api-reference/reference/submissions/api-submissions).
 * Conversions and Actions calls answer {"Status":"QUEUED","QueuedUri":...} and are processed later
 * (partner-apis.md; for DELETE /Actions: https://help.impact.com/en/support/solutions/articles/155000002598-reverse-an-entire-action-via-api).
 * Status begins Queued, then In Progress, then Complete; Complete may still carry ErrorType and
 * ErrorReason (https://integrations.impact.com/impact-brand/reference/the-api-submission-object).
 */
export interface ImpactApiSubmission {
  readonly batchId: string;
  readonly type: 'Conversion' | 'Modification' | 'Reversal';
  readonly orderId: string | null;
  status: 'Queued' | 'In Progress' | 'Complete';
  errorType: string | null;
  errorReason: string | null;
  /** Applies the record (creates or modifies the action); what it returns is the submission's error, if any. */
  readonly process: () => { errorType: string; errorReason: string } | null;
}

export const startImpactStub = async (p: { accountSid: string; authToken: string; faults?: Faults }) => {
  const submissions: ImpactSubmission[] = [];
  /** Credits by `${tracker}:${OrderId}`: impact's OrderId is unique per action tracker. */
  const credits = new Map<string, number>();
  const actions = new Map<string, ImpactAction>();
  let duplicates = 0;
  const apiSubmissions = new Map<string, ImpactApiSubmission>();
  /**
   * Held: new submissions stay Queued (then In Progress once looked at) until the test settles
   * or rejects them; not held (default): processed at once, Complete on the first look. How long
   * impact takes is not documented; a test picks.
   */
  let hold = false;
  const complete = (sub: ImpactApiSubmission, err: { errorType: string; errorReason: string } | null) => {
    sub.status = 'Complete';
    sub.errorType = err?.errorType ?? null;
    sub.errorReason = err?.errorReason ?? null;
  };
  const queue = (type: ImpactApiSubmission['type'], orderId: string | null, process: ImpactApiSubmission['process']): StubReply => {
    const batchId = `A-${apiSubmissions.size + 1}-${Math.random().toString(36).slice(2, 10)}`;
    const sub: ImpactApiSubmission = { batchId, type, orderId, status: 'Queued', errorType: null, errorReason: null, process };
    apiSubmissions.set(batchId, sub);
    if (!hold) complete(sub, process());
    return { status: 200, body: { Status: 'QUEUED', QueuedUri: `/Advertisers/${p.accountSid}/APISubmissions/${batchId}` } };
  };
  const expectedAuth = basicAuthOf(p.accountSid, p.authToken);
  const error = (status: number, messages: string[]): StubReply =>
    ({ status, body: { Status: 'ERROR', errors: messages.map((message) => ({ field: null, level: 'ERROR', message })) } });

  const onConversion = (r: StubRequest): StubReply => {
    if (!String(r.headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded')) {
      return { status: 415, body: { Status: 'ERROR', Message: 'expected application/x-www-form-urlencoded' } };
    }
    const fields = Object.fromEntries(new URLSearchParams(r.body));
    const errors = checkConversionForm(fields);
    submissions.push({ fields, accepted: errors.length === 0, errors, receivedAt: Date.now() });
    if (errors.length > 0) return error(400, errors);
    const creditKey = `${fields.EventTypeId ?? fields.ActionTrackerId ?? fields.EventTypeCode}:${fields.OrderId}`;
    return queue('Conversion', fields.OrderId ?? null, () => {
      if (credits.has(creditKey)) {
        duplicates++;
        // CONV_DUPLICATE: an action with this OrderId is already registered (the reason list in
        // https://integrations.impact.com/brand-api-reference/reference/submissions/ftp-submissions).
        // Which ErrorType carries it is not documented: the stub says Validation.
        return { errorType: 'Validation', errorReason: 'CONV_DUPLICATE' };
      }
      const amount = creditedAmount(fields);
      credits.set(creditKey, amount);
      actions.set(creditKey, { amount, state: 'active', modifications: [] });
      return null;
    });
  };

  /** Actions API: PUT (Amount = new total, or ItemSubTotalDelta{i}) with a Reason; DELETE with a DispositionCode. */
  const onAction = (r: StubRequest, method: 'PUT' | 'DELETE'): StubReply => {
    const fields = method === 'PUT'
      ? Object.fromEntries(new URLSearchParams(r.body))
      : Object.fromEntries(r.url.searchParams);
    const errors: string[] = [];
    if (!fields.ActionId && !(fields.ActionTrackerId && fields.OrderId)) errors.push('ActionId or ActionTrackerId and OrderId are required');
    if (method === 'DELETE' && !fields.DispositionCode) errors.push('DispositionCode is required');
    if (method === 'PUT') {
      if (!fields.Reason) errors.push('Reason is required');
      const deltas = Object.keys(fields).filter((k) => /^ItemSubTotalDelta\d+$/.test(k));
      if (fields.Amount === undefined && deltas.length === 0) errors.push('Amount or ItemSubTotalDelta{i} is required');
      if (fields.Amount !== undefined && !DECIMAL.test(fields.Amount)) errors.push(`Amount is not a decimal amount: ${fields.Amount}`);
      if (fields.Amount !== undefined && Number(fields.Amount) < 0) errors.push('Amount (the new total) cannot be negative');
    }
    if (errors.length > 0) return error(400, errors);
    const key = `${fields.ActionTrackerId}:${fields.OrderId}`;
    const action = actions.get(key);
    if (!action || action.state === 'reversed') return error(404, [`no active action for ${key}`]);
    if (action.modifications.length >= MAX_MODIFICATIONS) return error(400, ['too many modifications for this action']);
    return queue(method === 'DELETE' ? 'Reversal' : 'Modification', fields.OrderId ?? null, () => {
      action.modifications.push({ method, fields });
      if (method === 'DELETE') action.state = 'reversed';
      else if (fields.Amount !== undefined) action.amount = Number(fields.Amount);
      else for (const [k, v] of Object.entries(fields)) if (/^ItemSubTotalDelta\d+$/.test(k)) action.amount += Number(v);
      return null;
    });
  };

  /** GET .../APISubmissions/{BatchId}: the submission object; 404 for one impact does not know. */
  const onSubmission = (batchId: string): StubReply => {
    const sub = apiSubmissions.get(batchId);
    if (!sub) return error(404, [`no API submission ${batchId}`]);
    const body = {
      BatchId: sub.batchId, Type: sub.type, OrderId: sub.orderId, Status: sub.status,
      ErrorType: sub.errorType ?? '', ErrorReason: sub.errorReason ?? '', Uri: `/Advertisers/${p.accountSid}/APISubmissions/${sub.batchId}`,
    };
    if (sub.status === 'Queued') sub.status = 'In Progress';
    return { status: 200, body };
  };
  const held = (batchId: string): ImpactApiSubmission => {
    const sub = apiSubmissions.get(batchId);
    if (!sub) throw new Error(`impact stub: no API submission ${batchId}`);
    if (sub.status === 'Complete') throw new Error(`impact stub: API submission ${batchId} is already Complete`);
    return sub;
  };

  const server = await startStubServer((r) => {
    const conversions = `/Advertisers/${p.accountSid}/Conversions`;
    const actionsPath = `/Advertisers/${p.accountSid}/Actions`;
    const submissionPrefix = `/Advertisers/${p.accountSid}/APISubmissions/`;
    const route = r.method === 'POST' && r.url.pathname === conversions ? 'conversion'
      : (r.method === 'PUT' || r.method === 'DELETE') && r.url.pathname === actionsPath ? 'action'
        : r.method === 'GET' && r.url.pathname.startsWith(submissionPrefix) ? 'submission' : null;
    if (!route) return { status: 404, body: { Status: 'ERROR', Message: `no route ${r.method} ${r.url.pathname}` } };
    if (r.headers.authorization !== expectedAuth) return { status: 401, body: { Status: 'ERROR', Message: 'bad credentials' } };
    if (route === 'submission') return onSubmission(decodeURIComponent(r.url.pathname.slice(submissionPrefix.length)));
    return route === 'conversion' ? onConversion(r) : onAction(r, r.method as 'PUT' | 'DELETE');
  }, p.faults);
  return {
    baseUrl: server.baseUrl,
    submissions,
    credits,
    actions,
    duplicates: () => duplicates,
    apiSubmissions,
    /** From now on, keep new submissions Queued until settleSubmission / rejectSubmission (true), or process them at once (false). */
    holdSubmissions: (on: boolean) => { hold = on; },
    /** Process a held submission: it is applied (credited, modified) and Complete, or Complete with its own error (a duplicate). */
    settleSubmission: (batchId: string) => { const sub = held(batchId); complete(sub, sub.process()); },
    /** Complete a held submission with an error, applying nothing: e.g. Contract Error / CONTRACT_NOT_FOUND (the submission object's page). */
    rejectSubmission: (batchId: string, errorType: string, errorReason: string) => { complete(held(batchId), { errorType, errorReason }); },
    stats: server.stats,
    setFaults: server.setFaults,
    close: server.close,
  };
};
export type ImpactStub = Awaited<ReturnType<typeof startImpactStub>>;
