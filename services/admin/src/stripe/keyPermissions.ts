/**
 * What a restricted key must allow (seeds 000 and 004: core, Checkout, Billing, Connect and
 * Orders read; webhook endpoints write) and how each is checked. Stripe has no API that lists
 * a key's permissions, so each is probed with one harmless request: a list of one object, and
 * for webhook endpoints write an update of an endpoint id that does not exist (Stripe checks the
 * permission before it looks the object up: a 404 means the key may write).
 */
export type PermissionGroup = 'core' | 'checkout' | 'billing' | 'connect' | 'orders' | 'webhooks';

export interface Probe {
  readonly id: string;
  readonly group: PermissionGroup;
  /** Where to enable it: the restricted key's page in the Dashboard (Developers → API keys). */
  readonly dashboard: string;
  readonly why: string;
  readonly request: { readonly method: 'GET' | 'POST'; readonly path: string; readonly params: Readonly<Record<string, string>> } | null;
}

export const PROBE_ENDPOINT_ID = 'we_sas_permission_probe';

const list = (path: string) => ({ method: 'GET' as const, path, params: { limit: '1' } });

export const PERMISSION_PROBES: readonly Probe[] = [
  { id: 'charges_read', group: 'core', dashboard: 'Core resources → Charges: Read', why: 'charge events, refunds and their orders', request: list('/v1/charges') },
  { id: 'customers_read', group: 'core', dashboard: 'Core resources → Customers: Read', why: 'customer identity and attribution', request: list('/v1/customers') },
  { id: 'refunds_read', group: 'core', dashboard: 'Core resources → Refunds: Read', why: 'the refunds of a charge', request: list('/v1/refunds') },
  { id: 'payment_intents_read', group: 'core', dashboard: 'Core resources → PaymentIntents: Read', why: 'the payment behind a charge', request: list('/v1/payment_intents') },
  { id: 'events_read', group: 'core', dashboard: 'Core resources → Events: Read', why: 'backfill of missed events (sas backfill)', request: list('/v1/events') },
  { id: 'checkout_sessions_read', group: 'checkout', dashboard: 'Checkout resources → Checkout Sessions: Read', why: 'checkout line items and attribution', request: list('/v1/checkout/sessions') },
  { id: 'invoices_read', group: 'billing', dashboard: 'Billing resources → Invoices: Read', why: 'the invoice behind a charge (API 2025-03-31.basil and later)', request: list('/v1/invoices') },
  { id: 'invoice_payments_read', group: 'billing', dashboard: 'Billing resources → Invoices: Read', why: 'invoice payments link a charge to its invoice (basil)', request: list('/v1/invoice_payments') },
  { id: 'subscriptions_read', group: 'billing', dashboard: 'Billing resources → Subscriptions: Read', why: 'first versus recurring sales', request: list('/v1/subscriptions') },
  { id: 'promotion_codes_read', group: 'billing', dashboard: 'Billing resources → Promotion Codes: Read', why: 'promo code attribution', request: list('/v1/promotion_codes') },
  { id: 'connect_accounts_read', group: 'connect', dashboard: 'Connect resources → Accounts: Read', why: 'events of connected accounts (Stripe Connect platforms)', request: list('/v1/accounts') },
  // Stripe removed the Orders API (and SKUs) in 2022: nothing left to probe; the mapper never calls it.
  { id: 'orders_read', group: 'orders', dashboard: 'Orders resources: Read', why: 'listed by the impact.com and Everflow setups; no Orders API exists to check it against', request: null },
  {
    id: 'webhook_endpoints_write', group: 'webhooks', dashboard: 'Webhook resources → Webhook Endpoints: Write',
    why: 'registering the endpoint and rolling its secret',
    request: { method: 'POST', path: `/v1/webhook_endpoints/${PROBE_ENDPOINT_ID}`, params: { description: 'sas permission probe' } },
  },
];

/** What came back from one probe: an HTTP status and Stripe's error message, or no answer at all. */
export type ProbeAnswer =
  | { readonly status: number; readonly message?: string | undefined }
  | { readonly status: null; readonly message: string };

export type PermissionStatus = 'ok' | 'missing' | 'unknown' | 'not_checkable';

export interface PermissionResult {
  readonly id: string;
  readonly group: PermissionGroup;
  readonly status: PermissionStatus;
  readonly dashboard: string;
  readonly why: string;
  /** Stripe's own words on a refusal (it names the `rak_*` permission that would allow it). */
  readonly detail?: string;
}

/**
 * One probe's answer → its status. 403 is Stripe's answer for a restricted key without the
 * permission (stripe-node's StripePermissionError); any other answer from the resource (2xx,
 * 400, 404) means the key got past the permission check. 401, 429, 5xx or no answer: unknown.
 */
export const interpretProbe = (probe: Probe, answer: ProbeAnswer | null): PermissionResult => {
  const base = { id: probe.id, group: probe.group, dashboard: probe.dashboard, why: probe.why };
  if (!probe.request || !answer) return { ...base, status: 'not_checkable' };
  const { status } = answer;
  if (status === 403) return { ...base, status: 'missing', ...(answer.message ? { detail: redactKeys(answer.message) } : {}) };
  if (status !== null && ((status >= 200 && status < 300) || status === 400 || status === 404)) return { ...base, status: 'ok' };
  return { ...base, status: 'unknown', detail: status === null ? redactKeys(answer.message) : `Stripe answered ${status}${answer.message ? `: ${redactKeys(answer.message)}` : ''}` };
};

export interface PermissionReport {
  readonly ok: boolean;
  readonly keyKind: KeyKind;
  readonly livemode: boolean;
  readonly permissions: readonly PermissionResult[];
  /** Dashboard settings to enable, one per missing permission (deduplicated). */
  readonly missing: readonly string[];
  /** Why the check could not finish (key refused, Stripe unreachable), when it could not. */
  readonly problem: string | null;
}

/** The whole report: ok only when nothing checkable is missing or unknown. */
export const permissionReport = (key: ParsedKey, results: readonly PermissionResult[]): PermissionReport => {
  const missing = [...new Set(results.filter((r) => r.status === 'missing').map((r) => r.dashboard))];
  const unknown = results.filter((r) => r.status === 'unknown');
  const refused = unknown.find((r) => r.detail?.startsWith('Stripe answered 401'));
  const problem = refused
    ? `Stripe refused the key itself (401): it is wrong, revoked or expired. ${refused.detail}`
    : unknown.length > 0 ? `could not check ${unknown.map((r) => r.id).join(', ')}: ${unknown[0]!.detail}` : null;
  return { ok: missing.length === 0 && unknown.length === 0, keyKind: key.kind, livemode: key.livemode, permissions: results, missing, problem };
};

export type KeyKind = 'restricted' | 'secret';
export interface ParsedKey { readonly kind: KeyKind; readonly livemode: boolean }

/** A Stripe secret (sk_) or restricted (rk_) key; publishable keys and anything else are refused with the reason. */
export const parseStripeKey = (key: string): { ok: true; key: ParsedKey } | { ok: false; reason: string } => {
  const m = /^(sk|rk|pk)_(test|live)_[A-Za-z0-9]{8,}$/.exec(key.trim());
  if (!m) return { ok: false, reason: 'not a Stripe API key (expected rk_live_…, rk_test_…, sk_live_… or sk_test_…)' };
  if (m[1] === 'pk') return { ok: false, reason: 'a publishable key (pk_) cannot read the API: create a restricted key (rk_) in Developers → API keys' };
  return { ok: true, key: { kind: m[1] === 'rk' ? 'restricted' : 'secret', livemode: m[2] === 'live' } };
};

/** Stripe quotes the key in some errors; reports and logs never carry it. */
export const redactKeys = (s: string): string => s.replace(/\b(sk|rk|pk)_(test|live)_[A-Za-z0-9_*]+/g, '$1_$2_[redacted]');
