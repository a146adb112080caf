/** Partner destination types a conversion can be dispatched to. */
export const DestinationTypes = ['impact', 'partnerstack', 'everflow', 'tracknow', 'webhook', 'dry_run'] as const;
export type DestinationType = (typeof DestinationTypes)[number];

/** What a destination is asked to do with one conversion; part of the ledger key. */
export const DispatchActions = ['credit', 'refund', 'reverse', 'identify'] as const;
export type DispatchAction = (typeof DispatchActions)[number];

/**
 * The kind of value a setting holds. `id`: a non-empty string or a number (the dispatcher
 * sends either as text); `url`: an http(s) URL; `host`: a host name without scheme.
 */
export type SettingKind = 'id' | 'text' | 'url' | 'host' | 'boolean' | 'positiveNumber' | 'positiveInteger' | 'millisecondsList' | { readonly oneOf: readonly string[]; readonly rule?: string };

export interface DestinationFields {
  /** Settings the dispatcher's adapter cannot send without. */
  readonly requiredSettings: readonly string[];
  /** Why a required setting is required, where it is a partner's documented rule (said in the admin API's refusal). */
  readonly requiredBecause?: Readonly<Record<string, string>>;
  /** At least one of each group is needed (e.g. Everflow: its tracking domain or a base URL). */
  readonly oneOfSettings?: readonly (readonly string[])[];
  readonly settings: Readonly<Record<string, SettingKind>>;
  readonly requiredCredentials: readonly string[];
  readonly optionalCredentials: readonly string[];
}

const trackBy: SettingKind = { oneOf: ['invoice', 'charge'] };

/**
 * Destination setting (impact, Tracknow, Everflow): `true` when this integration puts the
 * partner's click in the Checkout Session's `client_reference_id` (Tracknow's Stripe guide
 * appends its click_id there). Default false: Stripe documents client_reference_id as the
 * merchant's own reference (docs.stripe.com/api/checkout/sessions/object), often a user id,
 * which must never reach a partner as a click.
 */
export const CLIENT_REFERENCE_ID_IS_CLICK = 'clientReferenceIdIsClick';
/**
 * impact destination setting: where an invoice goes whose billing_reason is neither
 * subscription_create nor subscription_cycle (a SALE_OTHER: subscription_update,
 * subscription_threshold, manual, quote_accept, automatic_pending_invoice_item_invoice, the
 * pre-2018 `subscription`; docs.stripe.com/api/invoices/object#invoice_object-billing_reason),
 * which seed 001's integration does not credit. The refunds of those invoices follow the same
 * choice, so a refund finds its sale's action or is skipped with it. Default `recurringTracker`:
 * such an invoice is more revenue of a customer the partner already brought (an upgrade's
 * proration, a usage threshold), paid as a renewal, never a second new-customer sale.
 */
export const OTHER_INVOICE_SALES = 'otherInvoiceSales';
export const OtherInvoiceSalesChoices = ['recurringTracker', 'firstSaleTracker', 'skip'] as const;
export type OtherInvoiceSales = (typeof OtherInvoiceSalesChoices)[number];
export const DEFAULT_OTHER_INVOICE_SALES: OtherInvoiceSales = 'recurringTracker';

/**
 * impact destination setting: milliseconds before check 1, 2, ... of a request impact answered
 * QUEUED (its API submission; integrations.impact.com/impact-brand/reference/the-api-submission-object),
 * as a list or a comma-separated string; past the last, the dispatcher gives up following and
 * dead-letters it. impact documents no processing time, so the default (the dispatcher's
 * DEFAULT_SUBMISSION_CHECKS_MS) is our choice.
 */
export const SUBMISSION_CHECKS_MS = 'submissionChecksMs';

/** A non-empty list of non-negative integer milliseconds, as an array or a comma-separated string; null when it is not one. */
export const millisecondsListOf = (v: unknown): number[] | null => {
  const parts: unknown[] = typeof v === 'string' ? v.split(',').map((x) => x.trim()) : Array.isArray(v) ? v : [];
  // An empty string is not 0 (Number('') would say it is).
  const list = parts.map((x) => (typeof x === 'string' && x === '' ? Number.NaN : Number(x)));
  return list.length > 0 && list.every((n) => Number.isInteger(n) && n >= 0) ? list : null;
};

/**
 * impact destination setting: how CustomerEmail is sent. impact matches a customer's email sent
 * raw, as its SHA-1, or as impact's own HMAC, and SHA-256 is not among them
 * (integrations.impact.com/impact-brand/docs/impactcom-customer-email-hashing-explained). The
 * stream carries only a SHA-256, so `sha1` has the dispatcher read the plain email from the
 * attribution store and send its SHA-1 (lower-cased, trimmed). Default `sha1`: what impact
 * documents first among the hashes, and no plain email leaves us. `off` sends no CustomerEmail.
 * Raw is not offered (we never hand a partner more than it matches on); HMAC is not offered
 * (it needs impact's key, which impact does not hand out).
 */
export const CUSTOMER_EMAIL_HASH = 'customerEmailHash';
export const CustomerEmailHashChoices = ['sha1', 'off'] as const;
export type CustomerEmailHash = (typeof CustomerEmailHashChoices)[number];
export const DEFAULT_CUSTOMER_EMAIL_HASH: CustomerEmailHash = 'sha1';
const CUSTOMER_EMAIL_HASH_RULE = 'impact matches CustomerEmail raw, as SHA-1 or as its HMAC; SHA-256 is not documented';

const SendingTypes = ['impact', 'partnerstack', 'everflow', 'tracknow', 'webhook'] as const;

/** Settings every destination may carry: the dispatcher's rate limit and concurrency. */
const commonSettings: Readonly<Record<string, SettingKind>> = {
  rateLimitPerSecond: 'positiveNumber', rateLimitPerHour: 'positiveNumber', rateLimitBurst: 'positiveNumber', concurrency: 'positiveInteger',
};

/**
 * Per destination type, the settings and credentials the dispatcher's adapters read
 * (services/dispatcher/src/core/partners/*.ts): the admin API refuses a destination the
 * dispatcher could not use, naming the field.
 */
export const destinationFields: Readonly<Record<Exclude<DestinationType, 'dry_run'>, DestinationFields>> = {
  impact: {
    requiredSettings: ['accountSid', 'campaignId', 'eventTypeId', 'recurringEventTypeId'],
    settings: {
      accountSid: 'id', campaignId: 'id', eventTypeId: 'id', recurringEventTypeId: 'id', oneTimeEventTypeId: 'id',
      baseUrl: 'url', dispositionCode: 'text', sendRefunds: 'boolean', [CLIENT_REFERENCE_ID_IS_CLICK]: 'boolean',
      [OTHER_INVOICE_SALES]: { oneOf: OtherInvoiceSalesChoices },
      [SUBMISSION_CHECKS_MS]: 'millisecondsList',
      [CUSTOMER_EMAIL_HASH]: { oneOf: CustomerEmailHashChoices, rule: CUSTOMER_EMAIL_HASH_RULE },
    },
    requiredCredentials: ['authToken'],
    optionalCredentials: [],
  },
  partnerstack: {
    requiredSettings: ['publicKey'],
    settings: { publicKey: 'text', baseUrl: 'url', productKey: 'text', categoryKey: 'text', trackBy },
    requiredCredentials: ['secretKey'],
    optionalCredentials: [],
  },
  everflow: {
    requiredSettings: ['nid'],
    requiredBecause: {
      nid: 'an Everflow S2S postback carries the network id and the transaction id at a minimum ' +
        '(helpdesk.everflow.io/customer/accessing-editing-s2s-postback-urls)',
    },
    oneOfSettings: [['trackingDomain', 'baseUrl']],
    settings: { trackingDomain: 'host', baseUrl: 'url', nid: 'id', eventId: 'id', recurringEventId: 'id', emailAttribution: 'boolean', allowDuplicateConversions: 'boolean', trackBy, [CLIENT_REFERENCE_ID_IS_CLICK]: 'boolean' },
    requiredCredentials: [],
    optionalCredentials: ['verificationToken'],
  },
  tracknow: {
    requiredSettings: ['campaignId'],
    requiredBecause: {
      campaignId: 'every documented Tracknow postback carries campaign_id, "required in certain types of integrations" ' +
        '(docs.tracknow.io/integrations/supported-parameters, docs.tracknow.io/payouts/lifetime-payout)',
    },
    oneOfSettings: [['namespace', 'baseUrl']],
    settings: { namespace: 'text', baseUrl: 'url', campaignId: 'id', goal: 'id', recurringGoal: 'id', trackBy, [CLIENT_REFERENCE_ID_IS_CLICK]: 'boolean' },
    requiredCredentials: [],
    optionalCredentials: [],
  },
  webhook: {
    requiredSettings: ['url'],
    settings: { url: 'url' },
    requiredCredentials: ['signingSecret'],
    optionalCredentials: ['previousSigningSecret'],
  },
};

const kindProblem = (kind: SettingKind, v: unknown): string | null => {
  if (typeof kind === 'object') {
    return typeof v === 'string' && kind.oneOf.includes(v) ? null : `must be one of ${kind.oneOf.join(', ')}${kind.rule ? ` (${kind.rule})` : ''}`;
  }
  switch (kind) {
    case 'id':
      return (typeof v === 'string' && v.length > 0) || (typeof v === 'number' && Number.isFinite(v)) ? null : 'must be a non-empty string or a number';
    case 'text':
      return typeof v === 'string' && v.length > 0 ? null : 'must be a non-empty string';
    case 'url': {
      if (typeof v !== 'string') return 'must be an http(s) URL';
      try {
        const u = new URL(v);
        return u.protocol === 'http:' || u.protocol === 'https:' ? null : 'must be an http(s) URL';
      } catch {
        return 'must be an http(s) URL';
      }
    }
    case 'host':
      return typeof v === 'string' && /^[a-zA-Z0-9]([a-zA-Z0-9.-]*[a-zA-Z0-9])?(:\d+)?$/.test(v) ? null : 'must be a host name, without https://';
    case 'boolean':
      return typeof v === 'boolean' ? null : 'must be true or false';
    case 'positiveNumber':
      return typeof v === 'number' && Number.isFinite(v) && v > 0 ? null : 'must be a number above 0';
    case 'positiveInteger':
      return typeof v === 'number' && Number.isInteger(v) && v >= 1 ? null : 'must be an integer of at least 1';
    case 'millisecondsList':
      return millisecondsListOf(v) ? null : 'must be a non-empty list of milliseconds (non-negative integers)';
    default: {
      const _exhaustive: never = kind;
      return _exhaustive;
    }
  }
};

const present = (v: unknown): boolean => v !== undefined && v !== null && v !== '';

const settingsProblems = (label: string, f: DestinationFields, settings: Readonly<Record<string, unknown>>, allowed: Readonly<Record<string, SettingKind>>): string[] => {
  const problems: string[] = [];
  for (const name of f.requiredSettings) {
    const why = f.requiredBecause?.[name];
    if (!present(settings[name])) problems.push(`settings.${name} is required for ${label}${why ? `: ${why}` : ''}`);
  }
  for (const group of f.oneOfSettings ?? []) {
    if (!group.some((n) => present(settings[n]))) problems.push(`settings.${group.join(' or settings.')} is required for ${label}`);
  }
  for (const [name, v] of Object.entries(settings)) {
    const kind = allowed[name];
    if (!kind) {
      problems.push(`settings.${name} is not a setting of ${label} (known: ${Object.keys(allowed).sort().join(', ')})`);
      continue;
    }
    if (v === undefined || v === null) continue;
    const p = kindProblem(kind, v);
    if (p) problems.push(`settings.${name} ${p}`);
  }
  return problems;
};

const credentialProblems = (label: string, f: DestinationFields, credentialNames: readonly string[], required: boolean): string[] => {
  const problems: string[] = [];
  const known = [...f.requiredCredentials, ...f.optionalCredentials];
  if (required) {
    for (const name of f.requiredCredentials) {
      if (!credentialNames.includes(name)) problems.push(`credentials.${name} is required for ${label}`);
    }
  }
  for (const name of credentialNames) {
    if (!known.includes(name)) {
      problems.push(`credentials.${name} is not a credential of ${label} (${known.length ? `known: ${known.join(', ')}` : 'it takes none'})`);
    }
  }
  return problems;
};

/**
 * Why the dispatcher could not use this destination: each problem names its field
 * (`settings.campaignId is required for impact`). Empty when it can. Credentials are given
 * by name only: their values never need to reach this check. A dry run builds what its
 * `target` type would send, so it needs the target's settings; credentials are optional
 * (placeholders stand in for missing ones).
 */
export const destinationProblems = (
  type: string,
  settings: Readonly<Record<string, unknown>>,
  credentialNames: readonly string[],
): string[] => {
  if (!(DestinationTypes as readonly string[]).includes(type)) return [`type must be one of ${DestinationTypes.join(', ')}`];
  if (type === 'dry_run') {
    const target = settings.target ?? 'webhook';
    if (typeof target !== 'string' || !(SendingTypes as readonly string[]).includes(target)) {
      return [`settings.target must be one of ${SendingTypes.join(', ')}`];
    }
    const f = destinationFields[target as (typeof SendingTypes)[number]];
    const label = `a dry run of ${target}`;
    return [
      ...settingsProblems(label, f, settings, { ...f.settings, ...commonSettings, target: { oneOf: SendingTypes } }),
      ...credentialProblems(label, f, credentialNames, false),
    ];
  }
  const f = destinationFields[type as (typeof SendingTypes)[number]];
  return [
    ...settingsProblems(type, f, settings, { ...f.settings, ...commonSettings }),
    ...credentialProblems(type, f, credentialNames, true),
  ];
};
