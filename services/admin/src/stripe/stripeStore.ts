import type pg from 'pg';
import type { DestinationType } from '@sas/contracts';
import type { SecretBox } from '@sas/runtime';
import type { OwnEndpoint } from './endpointPlan.js';
import type { EventTypeInputs } from './webhookEventTypes.js';

type Db = pg.Pool | pg.PoolClient;

export interface SetupState extends EventTypeInputs {
  readonly integrationId: string;
  /** The stored restricted key (opened), or null when none is stored. */
  readonly storedKey: string | null;
  readonly own: readonly OwnEndpoint[];
  /** How many Connect accounts the integration accepts events of. */
  readonly connectedAccounts: number;
}

/** What setup needs to know about an integration, or null when it does not exist. */
export const loadSetupState = async (db: Db, box: SecretBox, integrationId: string): Promise<SetupState | null> => {
  const { rows } = await db.query<{ sale_trigger: SetupState['saleTrigger']; charge_tracking: SetupState['chargeTracking']; stripe_key_ciphertext: string | null; accounts: number; erase_on_customer_deleted: boolean }>(
    `SELECT sale_trigger, charge_tracking, stripe_key_ciphertext, erase_on_customer_deleted,
            (SELECT count(*)::int FROM integration_accounts a WHERE a.integration_id = i.id) AS accounts
       FROM integrations i WHERE id = $1`, [integrationId]);
  const i = rows[0];
  if (!i) return null;
  const destinations = await db.query<{ id: string; type: DestinationType; settings: Record<string, unknown> }>(
    `SELECT id, type, settings FROM destinations WHERE integration_id = $1 AND enabled ORDER BY id`, [integrationId]);
  return {
    integrationId,
    saleTrigger: i.sale_trigger,
    chargeTracking: i.charge_tracking,
    eraseOnCustomerDeleted: i.erase_on_customer_deleted,
    storedKey: i.stripe_key_ciphertext ? box.open(i.stripe_key_ciphertext) : null,
    destinations: destinations.rows,
    own: await loadOwnEndpoints(db, integrationId),
    connectedAccounts: i.accounts,
  };
};

export const loadOwnEndpoints = async (db: Db, integrationId: string): Promise<OwnEndpoint[]> =>
  (await db.query<{ endpoint_id: string; retire_at: Date | null }>(
    `SELECT endpoint_id, retire_at FROM stripe_webhook_endpoints WHERE integration_id = $1 ORDER BY created_at`, [integrationId],
  )).rows.map((r) => ({ endpointId: r.endpoint_id, retireAt: r.retire_at }));

export const storeKey = async (db: Db, box: SecretBox, integrationId: string, key: string): Promise<void> => {
  await db.query(`UPDATE integrations SET stripe_key_ciphertext = $2, updated_at = now() WHERE id = $1`, [integrationId, box.seal(key)]);
};

/** A new endpoint and its signing secret: ingest accepts the secret from the moment this commits. */
export const insertEndpoint = async (db: Db, box: SecretBox, e: {
  integrationId: string; endpointId: string; url: string; events: readonly string[]; livemode: boolean; secret: string;
}): Promise<void> => {
  const s = await db.query<{ id: string }>(
    `INSERT INTO webhook_secrets (integration_id, secret_ciphertext) VALUES ($1, $2) RETURNING id`, [e.integrationId, box.seal(e.secret)]);
  await db.query(
    `INSERT INTO stripe_webhook_endpoints (endpoint_id, integration_id, url, enabled_events, livemode, secret_id) VALUES ($1, $2, $3, $4, $5, $6)`,
    [e.endpointId, e.integrationId, e.url, [...e.events], e.livemode, s.rows[0]!.id]);
};

export const updateEndpointEvents = async (db: Db, endpointId: string, url: string, events: readonly string[]): Promise<void> => {
  await db.query(`UPDATE stripe_webhook_endpoints SET url = $2, enabled_events = $3 WHERE endpoint_id = $1`, [endpointId, url, [...events]]);
};

/** The endpoint keeps delivering until `retireAt`, and its secret is accepted until then. */
export const scheduleRetirement = async (db: Db, endpointId: string, retireAt: Date): Promise<void> => {
  await db.query(`UPDATE stripe_webhook_endpoints SET retire_at = $2 WHERE endpoint_id = $1`, [endpointId, retireAt]);
  await db.query(
    `UPDATE webhook_secrets SET expires_at = $2
      WHERE id = (SELECT secret_id FROM stripe_webhook_endpoints WHERE endpoint_id = $1) AND (expires_at IS NULL OR expires_at > $2)`,
    [endpointId, retireAt]);
};

/** Forget an endpoint deleted from Stripe (or gone): its secret stops now, if it had not yet. */
export const forgetEndpoint = async (db: Db, endpointId: string): Promise<void> => {
  await db.query(
    `UPDATE webhook_secrets SET expires_at = now()
      WHERE id = (SELECT secret_id FROM stripe_webhook_endpoints WHERE endpoint_id = $1) AND (expires_at IS NULL OR expires_at > now())`,
    [endpointId]);
  await db.query(`DELETE FROM stripe_webhook_endpoints WHERE endpoint_id = $1`, [endpointId]);
};

export interface EndpointView {
  readonly endpointId: string;
  readonly url: string;
  readonly enabledEvents: readonly string[];
  readonly livemode: boolean;
  readonly createdAt: string;
  readonly retireAt: string | null;
}

export const listEndpointViews = async (db: Db, integrationId: string): Promise<EndpointView[]> =>
  (await db.query<{ endpoint_id: string; url: string; enabled_events: string[]; livemode: boolean; created_at: Date; retire_at: Date | null }>(
    `SELECT endpoint_id, url, enabled_events, livemode, created_at, retire_at FROM stripe_webhook_endpoints WHERE integration_id = $1 ORDER BY created_at`,
    [integrationId],
  )).rows.map((r) => ({
    endpointId: r.endpoint_id, url: r.url, enabledEvents: r.enabled_events, livemode: r.livemode,
    createdAt: r.created_at.toISOString(), retireAt: r.retire_at?.toISOString() ?? null,
  }));
