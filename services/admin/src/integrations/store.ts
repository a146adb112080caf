import type pg from 'pg';
import { withTransaction } from '@sas/runtime';
import type { DestinationRow, IntegrationRow, WebhookSecretView } from './views.js';

/** PostgreSQL access for integrations, their destinations and secrets; callers hold the transaction. */
export type Db = pg.PoolClient | pg.Pool;

const INTEGRATION_SELECT = `
  SELECT i.id, i.name, i.status, i.sale_trigger, i.refund_hold_seconds, i.charge_tracking, i.erase_on_customer_deleted,
         i.stripe_key_ciphertext IS NOT NULL AS has_stripe_key, i.created_at, i.updated_at,
         (SELECT array_agg(a.stripe_account) FROM integration_accounts a WHERE a.integration_id = i.id) AS accounts,
         (SELECT count(*)::int FROM webhook_secrets s
           WHERE s.integration_id = i.id AND (s.expires_at IS NULL OR s.expires_at > now())) AS active_secrets
    FROM integrations i`;

export const readIntegration = async (db: Db, id: string): Promise<IntegrationRow | null> =>
  (await db.query<IntegrationRow>(`${INTEGRATION_SELECT} WHERE i.id = $1`, [id])).rows[0] ?? null;

export const listIntegrations = async (db: Db): Promise<IntegrationRow[]> =>
  (await db.query<IntegrationRow>(`${INTEGRATION_SELECT} ORDER BY i.id`)).rows;

/** Locks the integration row for the rest of the transaction; false when it does not exist. */
export const lockIntegration = async (db: Db, id: string): Promise<boolean> =>
  ((await db.query(`SELECT 1 FROM integrations WHERE id = $1 FOR UPDATE`, [id])).rowCount ?? 0) > 0;

export interface IntegrationFields {
  name?: string | undefined;
  saleTrigger?: string | undefined;
  refundHoldSeconds?: number | undefined;
  chargeTracking?: string | undefined;
  eraseOnCustomerDeleted?: boolean | undefined;
}

/** False when an integration with this id exists already. */
export const insertIntegration = async (db: Db, id: string, f: IntegrationFields & { name: string }): Promise<boolean> => {
  const r = await db.query(
    `INSERT INTO integrations (id, name, sale_trigger, refund_hold_seconds, charge_tracking, erase_on_customer_deleted)
     VALUES ($1, $2, coalesce($3, 'invoice.paid'), coalesce($4, 3600), coalesce($5, 'off'), coalesce($6, true))
     ON CONFLICT (id) DO NOTHING`,
    [id, f.name, f.saleTrigger ?? null, f.refundHoldSeconds ?? null, f.chargeTracking ?? null, f.eraseOnCustomerDeleted ?? null],
  );
  return (r.rowCount ?? 0) > 0;
};

export const updateIntegration = async (db: Db, id: string, f: IntegrationFields): Promise<void> => {
  await db.query(
    `UPDATE integrations SET name = coalesce($2, name), sale_trigger = coalesce($3, sale_trigger),
            refund_hold_seconds = coalesce($4, refund_hold_seconds), charge_tracking = coalesce($5, charge_tracking),
            erase_on_customer_deleted = coalesce($6, erase_on_customer_deleted), updated_at = now()
      WHERE id = $1`,
    [id, f.name ?? null, f.saleTrigger ?? null, f.refundHoldSeconds ?? null, f.chargeTracking ?? null, f.eraseOnCustomerDeleted ?? null],
  );
};

export const setIntegrationStatus = async (db: Db, id: string, status: 'active' | 'disabled'): Promise<void> => {
  await db.query(`UPDATE integrations SET status = $2, updated_at = now() WHERE id = $1`, [id, status]);
};

/** The Connect accounts, replaced as a whole. */
export const replaceAccounts = async (db: Db, id: string, accounts: readonly string[]): Promise<void> => {
  await db.query(`DELETE FROM integration_accounts WHERE integration_id = $1`, [id]);
  if (accounts.length > 0) {
    await db.query(
      `INSERT INTO integration_accounts (integration_id, stripe_account) SELECT $1, unnest($2::text[]) ON CONFLICT DO NOTHING`,
      [id, [...new Set(accounts)]],
    );
  }
};

export const setStripeKey = async (db: Db, id: string, ciphertext: string): Promise<void> => {
  await db.query(`UPDATE integrations SET stripe_key_ciphertext = $2, updated_at = now() WHERE id = $1`, [id, ciphertext]);
};

const DESTINATION_COLUMNS = `id, integration_id, type, enabled, settings, credentials_ciphertext, created_at, updated_at`;

export const readDestination = async (db: Db, integrationId: string, id: string, lock = false): Promise<DestinationRow | null> =>
  (await db.query<DestinationRow>(
    `SELECT ${DESTINATION_COLUMNS} FROM destinations WHERE integration_id = $1 AND id = $2${lock ? ' FOR UPDATE' : ''}`,
    [integrationId, id],
  )).rows[0] ?? null;

export const listDestinations = async (db: Db, integrationId: string): Promise<DestinationRow[]> =>
  (await db.query<DestinationRow>(`SELECT ${DESTINATION_COLUMNS} FROM destinations WHERE integration_id = $1 ORDER BY id`, [integrationId])).rows;

/** False when a destination with this id exists already (destination ids are unique across integrations). */
export const insertDestination = async (
  db: Db, d: { id: string; integrationId: string; type: string; enabled: boolean; settings: Record<string, unknown>; credentialsCiphertext: string | null },
): Promise<boolean> => {
  const r = await db.query(
    `INSERT INTO destinations (id, integration_id, type, enabled, settings, credentials_ciphertext)
     VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (id) DO NOTHING`,
    [d.id, d.integrationId, d.type, d.enabled, JSON.stringify(d.settings), d.credentialsCiphertext],
  );
  return (r.rowCount ?? 0) > 0;
};

export const updateDestination = async (
  db: Db, id: string, d: { settings: Record<string, unknown>; credentialsCiphertext: string | null },
): Promise<void> => {
  await db.query(
    `UPDATE destinations SET settings = $2, credentials_ciphertext = $3, updated_at = now() WHERE id = $1`,
    [id, JSON.stringify(d.settings), d.credentialsCiphertext],
  );
};

export const setDestinationEnabled = async (db: Db, id: string, enabled: boolean): Promise<void> => {
  await db.query(`UPDATE destinations SET enabled = $2, updated_at = now() WHERE id = $1`, [id, enabled]);
};

interface SecretRow { id: string; created_at: Date; expires_at: Date | null; active: boolean }
const secretView = (r: SecretRow): WebhookSecretView => ({
  id: String(r.id), createdAt: r.created_at.toISOString(), expiresAt: r.expires_at?.toISOString() ?? null, active: r.active,
});

export const listWebhookSecrets = async (db: Db, integrationId: string): Promise<WebhookSecretView[]> =>
  (await db.query<SecretRow>(
    `SELECT id, created_at, expires_at, (expires_at IS NULL OR expires_at > now()) AS active
       FROM webhook_secrets WHERE integration_id = $1 ORDER BY id`,
    [integrationId],
  )).rows.map(secretView);

export const insertWebhookSecret = async (db: Db, integrationId: string, ciphertext: string): Promise<WebhookSecretView> =>
  secretView((await db.query<SecretRow>(
    `INSERT INTO webhook_secrets (integration_id, secret_ciphertext) VALUES ($1, $2)
     RETURNING id, created_at, expires_at, true AS active`,
    [integrationId, ciphertext],
  )).rows[0]!);

/**
 * A manual roll: the integration's other secrets stay valid for `seconds` more (never longer
 * than an expiry they already had). Returns the secrets whose expiry changed. The secret of
 * the endpoint `sas stripe connect` registered (still live in Stripe) is left alone: that one
 * is rolled by `sas stripe roll-secret`, and expiring it here would make ingest refuse every
 * event the endpoint signs once the window ends.
 */
export const expireOtherSecrets = async (db: Db, integrationId: string, keepId: string, seconds: number): Promise<WebhookSecretView[]> =>
  (await db.query<SecretRow>(
    `UPDATE webhook_secrets SET expires_at = now() + make_interval(secs => $3)
      WHERE integration_id = $1 AND id <> $2 AND (expires_at IS NULL OR expires_at > now() + make_interval(secs => $3))
        AND id NOT IN (SELECT secret_id FROM stripe_webhook_endpoints
                        WHERE integration_id = $1 AND retire_at IS NULL AND secret_id IS NOT NULL)
      RETURNING id, created_at, expires_at, expires_at > now() AS active`,
    [integrationId, keepId, seconds],
  )).rows.map(secretView);

/** Run `fn` in one transaction on one connection; rolled back when it throws. */
export const withTx = withTransaction;
