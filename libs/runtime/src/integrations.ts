import type { DestinationType } from '@sas/contracts';
import type pg from 'pg';
import { withTransaction } from './db.js';
import type { SecretBox } from './secretBox.js';

/** An integration: one merchant's Stripe account wired to its partner destinations. */
export interface IntegrationSettings {
  readonly id: string;
  readonly name: string;
  readonly status: 'active' | 'disabled';
  readonly saleTrigger: 'invoice.paid' | 'invoice.payment_succeeded';
  readonly refundHoldSeconds: number;
}

export interface WebhookAuth {
  readonly integrationId: string;
  readonly status: 'active' | 'disabled';
  /** Plain signing secrets, newest first; any may match while a secret is being rolled. */
  readonly secrets: readonly string[];
  /** Connected accounts (Stripe Connect) whose events this integration accepts. */
  readonly accounts: readonly string[];
}

export interface Destination {
  readonly id: string;
  readonly integrationId: string;
  readonly type: DestinationType;
  readonly settings: Readonly<Record<string, unknown>>;
  readonly credentials: Readonly<Record<string, string>>;
}

export interface NewIntegration {
  id: string;
  name: string;
  saleTrigger?: IntegrationSettings['saleTrigger'];
  refundHoldSeconds?: number;
  webhookSecrets: string[];
  accounts?: string[];
  destinations?: { id: string; type: DestinationType; settings: Record<string, unknown>; credentials: Record<string, string> }[];
}

/** Create an integration with its secrets and destinations, all or nothing. */
export const createIntegration = async (pool: pg.Pool, box: SecretBox, i: NewIntegration): Promise<void> =>
  withTransaction(pool, async (client) => {
    await client.query(
      `INSERT INTO integrations (id, name, sale_trigger, refund_hold_seconds) VALUES ($1, $2, $3, $4)`,
      [i.id, i.name, i.saleTrigger ?? 'invoice.paid', i.refundHoldSeconds ?? 3600],
    );
    for (const s of i.webhookSecrets) {
      await client.query(`INSERT INTO webhook_secrets (integration_id, secret_ciphertext) VALUES ($1, $2)`, [i.id, box.seal(s)]);
    }
    for (const a of i.accounts ?? []) {
      await client.query(`INSERT INTO integration_accounts (integration_id, stripe_account) VALUES ($1, $2)`, [i.id, a]);
    }
    for (const d of i.destinations ?? []) {
      await client.query(
        `INSERT INTO destinations (id, integration_id, type, settings, credentials_ciphertext) VALUES ($1, $2, $3, $4, $5)`,
        [d.id, i.id, d.type, JSON.stringify(d.settings), box.seal(JSON.stringify(d.credentials))],
      );
    }
  });

export const loadWebhookAuth = async (pool: pg.Pool, box: SecretBox, integrationId: string): Promise<WebhookAuth | null> => {
  const { rows } = await pool.query<{ status: 'active' | 'disabled'; secrets: string[] | null; accounts: string[] | null }>(
    `SELECT i.status,
            (SELECT array_agg(s.secret_ciphertext ORDER BY s.created_at DESC) FROM webhook_secrets s
              WHERE s.integration_id = i.id AND (s.expires_at IS NULL OR s.expires_at > now())) AS secrets,
            (SELECT array_agg(a.stripe_account) FROM integration_accounts a WHERE a.integration_id = i.id) AS accounts
       FROM integrations i WHERE i.id = $1`,
    [integrationId],
  );
  const row = rows[0];
  if (!row) return null;
  return {
    integrationId,
    status: row.status,
    secrets: (row.secrets ?? []).map((s) => box.open(s)),
    accounts: row.accounts ?? [],
  };
};

export const loadIntegrationSettings = async (pool: pg.Pool, integrationId: string): Promise<IntegrationSettings | null> => {
  const { rows } = await pool.query(
    `SELECT id, name, status, sale_trigger, refund_hold_seconds FROM integrations WHERE id = $1`,
    [integrationId],
  );
  const r = rows[0];
  if (!r) return null;
  return { id: r.id, name: r.name, status: r.status, saleTrigger: r.sale_trigger, refundHoldSeconds: r.refund_hold_seconds };
};

export const loadDestinations = async (pool: pg.Pool, box: SecretBox, integrationId: string): Promise<Destination[]> => {
  const { rows } = await pool.query(
    `SELECT id, integration_id, type, settings, credentials_ciphertext
       FROM destinations WHERE integration_id = $1 AND enabled ORDER BY id`,
    [integrationId],
  );
  return rows.map((r) => ({
    id: r.id,
    integrationId: r.integration_id,
    type: r.type,
    settings: r.settings,
    credentials: r.credentials_ciphertext ? JSON.parse(box.open(r.credentials_ciphertext)) : {},
  }));
};
