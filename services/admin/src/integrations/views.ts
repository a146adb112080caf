import type { SecretBox } from '@sas/runtime';

/** What a secret becomes in the audit trail: the field is shown, never its value. */
export const WRITE_ONLY = '(write-only)';

export const SaleTriggers = ['invoice.paid', 'invoice.payment_succeeded'] as const;
export const ChargeTrackings = ['off', 'all', 'non_invoice'] as const;

/** An integration as the API shows it: which secrets it has, never what they are. */
export interface IntegrationView {
  readonly id: string;
  readonly name: string;
  readonly status: 'active' | 'disabled';
  readonly saleTrigger: (typeof SaleTriggers)[number];
  readonly refundHoldSeconds: number;
  readonly chargeTracking: (typeof ChargeTrackings)[number];
  /** Stripe's customer.deleted erases the customer (README, "Personal data"). */
  readonly eraseOnCustomerDeleted: boolean;
  readonly accounts: readonly string[];
  readonly hasStripeKey: boolean;
  /** Webhook signing secrets that still verify (not expired). */
  readonly activeWebhookSecrets: number;
  readonly createdAt: string;
  readonly updatedAt: string;
}

export interface DestinationView {
  readonly id: string;
  readonly integrationId: string;
  readonly type: string;
  readonly enabled: boolean;
  readonly settings: Readonly<Record<string, unknown>>;
  /** Names of the credentials it holds; their values are write-only. */
  readonly credentials: readonly string[];
  readonly createdAt: string;
  readonly updatedAt: string;
}

export interface WebhookSecretView {
  readonly id: string;
  readonly createdAt: string;
  readonly expiresAt: string | null;
  readonly active: boolean;
}

export interface IntegrationRow {
  id: string; name: string; status: 'active' | 'disabled'; sale_trigger: IntegrationView['saleTrigger'];
  refund_hold_seconds: number; charge_tracking: IntegrationView['chargeTracking']; has_stripe_key: boolean; erase_on_customer_deleted: boolean;
  accounts: string[] | null; active_secrets: number; created_at: Date; updated_at: Date;
}

export interface DestinationRow {
  id: string; integration_id: string; type: string; enabled: boolean; settings: Record<string, unknown>;
  credentials_ciphertext: string | null; created_at: Date; updated_at: Date;
}

export const integrationView = (r: IntegrationRow): IntegrationView => ({
  id: r.id,
  name: r.name,
  status: r.status,
  saleTrigger: r.sale_trigger,
  refundHoldSeconds: r.refund_hold_seconds,
  chargeTracking: r.charge_tracking,
  eraseOnCustomerDeleted: r.erase_on_customer_deleted,
  accounts: [...(r.accounts ?? [])].sort(),
  hasStripeKey: r.has_stripe_key,
  activeWebhookSecrets: Number(r.active_secrets),
  createdAt: r.created_at.toISOString(),
  updatedAt: r.updated_at.toISOString(),
});

/** The sealed credentials object of a destination, opened (only to learn names or to merge). */
export const openCredentials = (box: SecretBox, ciphertext: string | null): Record<string, string> =>
  ciphertext ? (JSON.parse(box.open(ciphertext)) as Record<string, string>) : {};

export const destinationView = (r: DestinationRow, credentialNames: readonly string[]): DestinationView => ({
  id: r.id,
  integrationId: r.integration_id,
  type: r.type,
  enabled: r.enabled,
  settings: r.settings,
  credentials: [...credentialNames].sort(),
  createdAt: r.created_at.toISOString(),
  updatedAt: r.updated_at.toISOString(),
});

/** A destination in the audit trail: each credential named, its value replaced. */
export const destinationAudit = (v: DestinationView): Record<string, unknown> => ({
  ...v,
  credentials: Object.fromEntries(v.credentials.map((n) => [n, WRITE_ONLY])),
});

/**
 * A settings patch: keys set to null are removed, the others replace their value. Settings
 * are merged so an operator can change one field without restating the rest.
 */
export const mergeSettings = (current: Readonly<Record<string, unknown>>, patch: Readonly<Record<string, unknown>>): Record<string, unknown> => {
  const next: Record<string, unknown> = { ...current };
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete next[k];
    else next[k] = v;
  }
  return next;
};
