import { DECIMAL, basicAuthOf, startStubServer, type Faults, type RateLimitedReply, type StubReply, type StubRequest } from './partnerStubs/stubServer.js';

/**
 * A local stand-in for impact.com's Conversions and Actions APIs, held to impact's documentation
 * (each rule with its page beside it) and counting what it credited. Not a mock of our code: it
 * is the partner's side of the wire. Pages (integrations.impact.com/impact-brand/...):
 * - CONVERSION: reference/the-conversion-object
 * - ORDER_LEVEL: docs/order-level-data
 * - ITEM_LEVEL: docs/item-level-data
 * - EMAIL_HASHING: docs/impactcom-customer-email-hashing-explained
 * - UPDATE_ACTION: reference/update-an-action
 * - UPDATE_ACTION_ITEM: reference/update-an-action-item
 * - REVERSE_ACTION: reference/reverse-an-action
 * - RATE_LIMITS: reference/rate-limits
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
const SHA1_HEX = /^[a-f0-9]{40}$/i;
const EMAIL = /^[^@\s]+@[^@\s]+$/;
/** OrderId is STRING (64): ORDER_LEVEL. */
const ORDER_ID_MAX = 64;

/**
 * Conversion fields this stub knows from CONVERSION, ORDER_LEVEL and ITEM_LEVEL. impact may take
 * more; a field missing here is refused so that nothing we send goes unchecked: add it with its
 * page when impact documents it.
 */
const ORDER_FIELDS = new Set([
  'CampaignId', 'ActionTrackerId', 'EventTypeId', 'EventTypeCode', 'EventDate', 'OrderId', 'ClickId', 'CustomerId', 'CustomerEmail',
  'CustomerStatus', 'PromoCode', 'MediaPartnerId', 'CustomProfileId', 'CurrencyCode', 'Amount', 'PaymentType', 'OrderSubtotal',
  'OrderDiscount', 'OrderShipping', 'OrderTax', 'OrderPromoCode',
]);
const ITEM_FIELD = /^Item(Sku|Category|Quantity|Price|SubTotal|Name)(\d+)$/;

export const checkConversionForm = (f: Record<string, string>): string[] => {
  const errors: string[] = [];
  for (const k of Object.keys(f)) if (!ORDER_FIELDS.has(k) && !ITEM_FIELD.test(k)) errors.push(`${k} is not a documented conversion field`);
  for (const k of ['CampaignId', 'EventDate', 'OrderId']) if (!f[k]) errors.push(`${k} is required`);
  // ORDER_LEVEL: OrderId is a STRING (64).
  if (f.OrderId && f.OrderId.length > ORDER_ID_MAX) errors.push(`OrderId is longer than ${ORDER_ID_MAX} characters (${f.OrderId.length})`);
  if (f.EventDate && !ISO_8601.test(f.EventDate)) errors.push(`EventDate is not ISO 8601: ${f.EventDate}`);
  if (!TRACKER_KEYS.some((k) => f[k])) errors.push('one of ActionTrackerId, EventTypeId, EventTypeCode is required');
  if (!ATTRIBUTION_KEYS.some((k) => f[k])) errors.push('an attribution key (ClickId, CustomerId, PromoCode, MediaPartnerId) is required');
  // EMAIL_HASHING: impact matches the raw email, its SHA-1 or impact's HMAC. SHA-256 is not among
  // them: impact would keep it as an opaque value matching no customer, so the stub refuses it
  // (and any other value that is neither an email nor a SHA-1) to make the mistake visible.
  // HMAC values are impact's own (its key); the docs do not give their format, so none is accepted here.
  if (f.CustomerEmail && !SHA1_HEX.test(f.CustomerEmail) && !EMAIL.test(f.CustomerEmail)) {
    errors.push('CustomerEmail must be an email or its SHA-1 (impact documents no SHA-256)');
  }
  const moneyKeys = Object.keys(f).filter((k) => /^(ItemPrice|ItemSubTotal)\d+$|^(Amount|OrderDiscount)$/.test(k));
  if (moneyKeys.length > 0 && !/^[A-Z]{3}$/.test(f.CurrencyCode ?? '')) errors.push('CurrencyCode (upper-case ISO 4217) is required with money fields');
  for (const k of moneyKeys) if (!DECIMAL.test(f[k]!)) errors.push(`${k} is not a decimal amount: ${f[k]}`);
  const itemNumbers = [...new Set(Object.keys(f).flatMap((k) => ITEM_FIELD.exec(k)?.[2] ?? []).map(Number))].sort((a, b) => a - b);
  // ORDER_LEVEL: Amount is not submitted together with ItemPrice or ItemSubTotal.
  if (f.Amount !== undefined && itemNumbers.length > 0) errors.push('Amount must not be sent with item fields (ItemPrice/ItemSubTotal)');
  itemNumbers.forEach((n, i) => {
    if (n !== i + 1) errors.push(`items must be numbered from 1 without gaps, found ${itemNumbers.join(',')}`);
    // ITEM_LEVEL: ItemPrice (multiplied by ItemQuantity) or ItemSubTotal, never both.
    if (f[`ItemPrice${n}`] && f[`ItemSubTotal${n}`]) errors.push(`item ${n} has both ItemPrice and ItemSubTotal`);
    if (!f[`ItemPrice${n}`] && !f[`ItemSubTotal${n}`]) errors.push(`item ${n} has no ItemPrice or ItemSubTotal`);
    if (!f[`ItemSku${n}`]) errors.push(`item ${n} has no ItemSku`);
  });
  return [...new Set(errors)];
};

/** One item of an action as impact holds it: its Sku's quantity and amount (decimal currency units). */
export interface ImpactActionItem {
  quantity: number;
  amount: number;
}

/**
 * The items impact credits for one accepted form, by Sku. ITEM_LEVEL: ItemPrice × ItemQuantity,
 * or ItemSubTotal. ORDER_LEVEL: OrderDiscount is subtracted proportionally from each item amount
 * sent in (from the order total when there are no items; ORDER_LEVEL does not say whether a
 * post-discount Amount is reduced again, and this stub follows OrderDiscount's own rule).
 */
export const creditedItems = (f: Record<string, string>): Map<string, ImpactActionItem> => {
  const items = new Map<string, ImpactActionItem>();
  for (let i = 1; f[`ItemSku${i}`] !== undefined; i++) {
    const quantity = Number(f[`ItemQuantity${i}`] ?? '1');
    const amount = f[`ItemSubTotal${i}`] !== undefined ? Number(f[`ItemSubTotal${i}`]) : Number(f[`ItemPrice${i}`]) * quantity;
    const sku = f[`ItemSku${i}`]!;
    const had = items.get(sku);
    items.set(sku, { quantity: (had?.quantity ?? 0) + quantity, amount: (had?.amount ?? 0) + amount });
  }
  if (items.size === 0) items.set('', { quantity: 1, amount: Number(f.Amount ?? '0') });
  const discount = Number(f.OrderDiscount ?? '0');
  const gross = [...items.values()].reduce((s, it) => s + it.amount, 0);
  if (discount > 0 && gross > 0) for (const it of items.values()) it.amount -= (discount * it.amount) / gross;
  return items;
};

/** What impact would credit for one accepted form, in the decimal currency unit. */
export const creditedAmount = (f: Record<string, string>): number => [...creditedItems(f).values()].reduce((s, it) => s + it.amount, 0);

/** One action at impact (tracker + OrderId), as the Actions API modifies it. */
export interface ImpactAction {
  /** Σ of its items' amounts. */
  amount: number;
  state: 'active' | 'reversed';
  items: Map<string, ImpactActionItem>;
  modifications: { method: 'PUT' | 'DELETE'; fields: Record<string, string> }[];
}

/** UPDATE_ACTION / UPDATE_ACTION_ITEM: at most 1000 modifications per action. */
const MAX_MODIFICATIONS = 1000;
const NON_NEGATIVE_INTEGER = /^\d+$/;

/** What an Actions API call asks of an action; errors name the field and the page's rule. */
type ActionChange =
  | { readonly kind: 'reverse' }
  | { readonly kind: 'item'; readonly sku: string; readonly quantity: number; readonly amount: number | null; readonly delta: number | null }
  | { readonly kind: 'action' };

export const checkActionForm = (method: 'PUT' | 'DELETE', f: Record<string, string>): { errors: string[]; change: ActionChange } => {
  const errors: string[] = [];
  if (!f.ActionId && !(f.ActionTrackerId && f.OrderId)) errors.push('ActionId or ActionTrackerId and OrderId are required');
  if (f.OrderId && f.OrderId.length > ORDER_ID_MAX) errors.push(`OrderId is longer than ${ORDER_ID_MAX} characters (${f.OrderId.length})`);
  if (method === 'DELETE') {
    // REVERSE_ACTION: DispositionCode is required (a default one or the account's custom code).
    if (!f.DispositionCode) errors.push('DispositionCode is required to reverse an action');
    return { errors, change: { kind: 'reverse' } };
  }
  if (f.Sku !== undefined) {
    // UPDATE_ACTION_ITEM: Sku, Quantity and Reason=ORDER_UPDATE required; Amount optional, the
    // item's final value (never relative); ItemSubTotalDelta the relative form.
    if (!f.Sku) errors.push('Sku is required for an item update');
    if (f.Reason !== 'ORDER_UPDATE') errors.push(`Reason must be ORDER_UPDATE for an item update, got ${f.Reason ?? 'none'}`);
    if (f.Quantity === undefined || !NON_NEGATIVE_INTEGER.test(f.Quantity)) errors.push(`Quantity (a whole number, 0 for a returned item) is required, got ${f.Quantity ?? 'none'}`);
    if (f.Amount !== undefined && (!DECIMAL.test(f.Amount) || Number(f.Amount) < 0)) errors.push(`Amount (the item's new value) is not a non-negative decimal: ${f.Amount}`);
    if (f.ItemSubTotalDelta !== undefined && !DECIMAL.test(f.ItemSubTotalDelta)) errors.push(`ItemSubTotalDelta is not a decimal amount: ${f.ItemSubTotalDelta}`);
    if (f.Amount !== undefined && f.ItemSubTotalDelta !== undefined) errors.push('Amount (absolute) and ItemSubTotalDelta (relative) are two modes: send one');
    return {
      errors,
      change: { kind: 'item', sku: f.Sku ?? '', quantity: Number(f.Quantity), amount: f.Amount === undefined ? null : Number(f.Amount), delta: f.ItemSubTotalDelta === undefined ? null : Number(f.ItemSubTotalDelta) },
    };
  }
  // UPDATE_ACTION: DispositionCode required (ORDER_UPDATE by default); it takes no Amount, so an
  // order-level Amount is a request impact does not document.
  if (!f.DispositionCode) errors.push('DispositionCode is required to update an action (or send Sku, Quantity and Reason=ORDER_UPDATE to update an item)');
  if (f.Amount !== undefined) errors.push('Amount is not a parameter of an action update; an item update (Sku, Quantity, Reason=ORDER_UPDATE) takes it');
  return { errors, change: { kind: 'action' } };
};

/**
 * RATE_LIMITS: a 429 carries X-RateLimit-Limit, X-RateLimit-Remaining and X-RateLimit-Reset
 * (described as seconds until the reset; its example value looks like a Unix time, and the
 * dispatcher reads both). No Retry-After is documented for the brand API.
 * Conversions are not limited (RATE_LIMITS); the stub counts nothing itself, and a 429 comes only
 * from injected faults, in this documented shape.
 */
const impactRateLimited: RateLimitedReply = (sec) => ({
  status: 429,
  body: { Status: 'ERROR', Message: 'Too Many Requests' },
  headers: { 'x-ratelimit-limit': '1000', 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': String(sec) },
});

const sumOf = (items: Map<string, ImpactActionItem>): number => [...items.values()].reduce((s, it) => s + it.amount, 0);

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
  /** Credits by `${tracker}:${OrderId}`: impact's OrderId is unique per action tracker (ORDER_LEVEL). */
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
  const isForm = (r: StubRequest): boolean => String(r.headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded');
  const notForm = (): StubReply => ({ status: 415, body: { Status: 'ERROR', Message: 'expected application/x-www-form-urlencoded' } });

  const onConversion = (r: StubRequest): StubReply => {
    if (!isForm(r)) return notForm();
    const fields = Object.fromEntries(new URLSearchParams(r.body));
    const errors = checkConversionForm(fields);
    submissions.push({ fields, accepted: errors.length === 0, errors, receivedAt: Date.now() });
    if (errors.length > 0) return error(400, errors);
    const creditKey = `${fields.EventTypeId ?? fields.ActionTrackerId ?? fields.EventTypeCode}:${fields.OrderId}`;
    // ORDER_LEVEL: OrderId is unique per event type.
    return queue('Conversion', fields.OrderId ?? null, () => {
      if (credits.has(creditKey)) {
        duplicates++;
        // CONV_DUPLICATE: an action with this OrderId is already registered (the reason list in
        // https://integrations.impact.com/brand-api-reference/reference/submissions/ftp-submissions).
        // Which ErrorType carries it is not documented: the stub says Validation.
        return { errorType: 'Validation', errorReason: 'CONV_DUPLICATE' };
      }
      const items = creditedItems(fields);
      const amount = sumOf(items);
      credits.set(creditKey, amount);
      actions.set(creditKey, { amount, state: 'active', items, modifications: [] });
      return null;
    });
  };

  /** Actions API: PUT updates an action or one of its items, DELETE reverses it; both take a form body (UPDATE_ACTION, UPDATE_ACTION_ITEM, REVERSE_ACTION examples). */
  const onAction = (r: StubRequest, method: 'PUT' | 'DELETE'): StubReply => {
    if (!isForm(r)) return notForm();
    if ([...r.url.searchParams.keys()].length > 0) return error(400, ['the Actions API takes its parameters as a form body, not in the query string']);
    const fields = Object.fromEntries(new URLSearchParams(r.body));
    const { errors, change } = checkActionForm(method, fields);
    if (errors.length > 0) return error(400, errors);
    const key = `${fields.ActionTrackerId}:${fields.OrderId}`;
    const action = actions.get(key);
    // The answer to an unknown or reversed action is not documented: this stub answers 404.
    if (!action || action.state === 'reversed') return error(404, [`no active action for ${key}`]);
    if (action.modifications.length >= MAX_MODIFICATIONS) return error(400, ['too many modifications for this action']);
    if (change.kind === 'item' && !action.items.has(change.sku)) {
      // The answer to a Sku the action does not hold is not documented: this stub refuses it.
      return error(400, [`the action has no item with Sku ${change.sku} (it has ${[...action.items.keys()].join(', ')})`]);
    }
    return queue(method === 'DELETE' ? 'Reversal' : 'Modification', fields.OrderId ?? null, () => {
      if (change.kind === 'item') {
        const item = action.items.get(change.sku)!;
        const unit = item.quantity > 0 ? item.amount / item.quantity : 0;
        const quantity = change.quantity;
        item.amount = quantity === 0 ? 0
          : change.amount !== null ? change.amount
          : change.delta !== null ? item.amount + change.delta
          : unit * quantity;
        item.quantity = quantity;
        action.amount = sumOf(action.items);
      }
      action.modifications.push({ method, fields });
      if (change.kind === 'reverse') action.state = 'reversed';
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
  }, p.faults, impactRateLimited);
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
