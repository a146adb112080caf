import type pg from 'pg';
import type { Logger, SecretBox } from '@sas/runtime';
import { writeAudit } from '../api/audit.js';
import { connectedAccountsWarning, dueForRetirement, planEndpoint, planRoll, type ListedEndpoint, type OwnEndpoint } from './endpointPlan.js';
import { parseStripeKey, permissionReport, type ParsedKey, type PermissionReport } from './keyPermissions.js';
import type { StripeAccount } from './stripeAccount.js';
import {
  forgetEndpoint, insertEndpoint, loadOwnEndpoints, loadSetupState, scheduleRetirement, storeKey, updateEndpointEvents, type SetupState,
} from './stripeStore.js';
import { webhookEventTypesFor } from './webhookEventTypes.js';

export interface SetupDeps {
  readonly pool: pg.Pool;
  readonly box: SecretBox;
  readonly log: Logger;
  /** Where Stripe reaches ingest. */
  readonly publicBaseUrl: string;
  readonly accountFor: (key: string) => StripeAccount;
  readonly now: () => Date;
}

/** A refusal the caller can act on: HTTP status, stable code, message, and what it is about. */
export class StripeSetupError extends Error {
  override readonly name = 'StripeSetupError';
  constructor(readonly statusCode: 400 | 404 | 409 | 422 | 502, readonly code: string, message: string, readonly details?: unknown) {
    super(message);
  }
}

export const webhookUrlOf = (publicBaseUrl: string, integrationId: string): string =>
  `${publicBaseUrl.replace(/\/+$/, '')}/webhooks/stripe/${encodeURIComponent(integrationId)}`;

const parsedKey = (key: string): ParsedKey => {
  const p = parseStripeKey(key);
  if (!p.ok) throw new StripeSetupError(400, 'invalid_key', p.reason);
  return p.key;
};

/**
 * One setup at a time per integration (two concurrent connects would both create an endpoint):
 * a session advisory lock on a connection held for the operation, Stripe calls included.
 */
const exclusively = async <T>(deps: SetupDeps, integrationId: string, run: (db: pg.PoolClient) => Promise<T>): Promise<T> => {
  const db = await deps.pool.connect();
  try {
    const { rows } = await db.query<{ ok: boolean }>(`SELECT pg_try_advisory_lock(hashtext('sas-stripe-setup'), hashtext($1)) AS ok`, [integrationId]);
    if (!rows[0]!.ok) throw new StripeSetupError(409, 'busy', `another Stripe setup of integration ${integrationId} is running: try again when it has finished`);
    try {
      return await run(db);
    } finally {
      await db.query(`SELECT pg_advisory_unlock(hashtext('sas-stripe-setup'), hashtext($1))`, [integrationId]);
    }
  } finally {
    db.release();
  }
};

const inTransaction = async (db: pg.PoolClient, work: () => Promise<void>): Promise<void> => {
  await db.query('BEGIN');
  try {
    await work();
    await db.query('COMMIT');
  } catch (err) {
    await db.query('ROLLBACK');
    throw err;
  }
};

const stateOf = async (db: pg.PoolClient, deps: SetupDeps, integrationId: string): Promise<SetupState> => {
  const state = await loadSetupState(db, deps.box, integrationId);
  if (!state) throw new StripeSetupError(404, 'not_found', `integration ${integrationId} does not exist`);
  return state;
};

const checked = async (account: StripeAccount, key: ParsedKey): Promise<PermissionReport> =>
  permissionReport(key, await account.probePermissions());

/** Check a key (given, or the integration's stored one) without changing anything. */
export const checkKey = async (deps: SetupDeps, integrationId: string, givenKey: string | undefined): Promise<PermissionReport> => {
  const state = await loadSetupState(deps.pool, deps.box, integrationId);
  if (!state) throw new StripeSetupError(404, 'not_found', `integration ${integrationId} does not exist`);
  const key = givenKey ?? state.storedKey;
  if (!key) throw new StripeSetupError(400, 'no_key', `integration ${integrationId} has no Stripe key stored: send one (key)`);
  return checked(deps.accountFor(key), parsedKey(key));
};

const currentEndpoint = async (account: StripeAccount, own: readonly OwnEndpoint[]): Promise<ListedEndpoint | null> => {
  const current = own.find((o) => o.retireAt === null);
  return current ? account.retrieveEndpoint(current.endpointId) : null;
};

/** Delete from Stripe the endpoints whose roll window has ended, and forget them. */
const retireDue = async (db: pg.PoolClient, deps: SetupDeps, account: StripeAccount, integrationId: string, actor: string): Promise<string[]> => {
  const due = dueForRetirement(await loadOwnEndpoints(db, integrationId), deps.now());
  for (const endpointId of due) {
    await account.deleteEndpoint(endpointId);
    await inTransaction(db, async () => {
      await forgetEndpoint(db, endpointId);
      await writeAudit(db, { actor, action: 'stripe.endpoint_retired', integrationId, target: endpointId, before: { endpointId }, after: null });
    });
    deps.log.info({ integrationId, endpointId }, 'retired webhook endpoint deleted from Stripe');
  }
  return due;
};

/** Create an endpoint; without a signing secret in Stripe's answer it is deleted again (nothing could verify it). */
const createWithSecret = async (account: StripeAccount, url: string, events: readonly string[], integrationId: string) => {
  const created = await account.createEndpoint({ url, events, description: `stripe-affiliate-stream integration ${integrationId}` });
  if (!created.secret) {
    await account.deleteEndpoint(created.endpoint.id);
    throw new StripeSetupError(502, 'no_signing_secret',
      `Stripe created webhook endpoint ${created.endpoint.id} but returned no signing secret (Stripe returns it only on creation); it was deleted again: try again`);
  }
  return { endpoint: created.endpoint, secret: created.secret };
};

export interface ConnectResult {
  readonly integrationId: string;
  readonly url: string;
  readonly endpoint: { readonly id: string; readonly action: 'created' | 'updated' | 'unchanged'; readonly enabledEvents: readonly string[] };
  readonly eventReasons: Readonly<Record<string, readonly string[]>>;
  readonly retired: readonly string[];
  readonly warnings: readonly string[];
  readonly permissions: PermissionReport;
}

/**
 * Check the key, then register (or bring up to date) the integration's webhook endpoint with
 * the events its destinations need, and store the sealed key and the endpoint's signing secret.
 * Nothing is stored or created when a permission is missing.
 */
export const connect = (deps: SetupDeps, integrationId: string, givenKey: string | undefined, actor: string): Promise<ConnectResult> =>
  exclusively(deps, integrationId, async (db) => {
    const state = await stateOf(db, deps, integrationId);
    const key = givenKey ?? state.storedKey;
    if (!key) throw new StripeSetupError(400, 'no_key', `integration ${integrationId} has no Stripe key stored: send one (key)`);
    const parsed = parsedKey(key);
    const account = deps.accountFor(key);
    const permissions = await checked(account, parsed);
    if (!permissions.ok) {
      throw permissions.problem
        ? new StripeSetupError(422, 'permission_check_failed', `the key could not be checked: ${permissions.problem}`, permissions)
        : new StripeSetupError(422, 'missing_permissions', `the key lacks: ${permissions.missing.join('; ')}. Edit the restricted key in the Stripe Dashboard (Developers → API keys) and enable them`, permissions);
    }
    const retired = await retireDue(db, deps, account, integrationId, actor);
    const own = await loadOwnEndpoints(db, integrationId);
    const wanted = webhookEventTypesFor(state);
    const url = webhookUrlOf(deps.publicBaseUrl, integrationId);
    const listed = await account.listEndpoints();
    const current = await currentEndpoint(account, own);
    const plan = planEndpoint({ url, events: wanted.events, listed, own, current });
    const connectNote = connectedAccountsWarning(integrationId, state.connectedAccounts, url);
    const warnings = [...wanted.warnings, ...plan.warnings, ...(connectNote ? [connectNote] : [])];
    const result = (id: string, action: ConnectResult['endpoint']['action']): ConnectResult => ({
      integrationId, url, endpoint: { id, action, enabledEvents: wanted.events }, eventReasons: wanted.reasons, retired, warnings, permissions,
    });
    const audit = (action: ConnectResult['endpoint']['action'], endpointId: string, before: ListedEndpoint | null) => writeAudit(db, {
      actor, action: 'stripe.connect', integrationId, target: endpointId,
      before: before ? { endpointId: before.id, url: before.url, enabledEvents: before.enabledEvents } : null,
      after: { endpointId, url, enabledEvents: wanted.events, endpoint: action, stripeKey: '(write-only)', signingSecret: action === 'created' ? '(write-only)' : undefined },
    });
    switch (plan.action) {
      case 'refuse':
        throw new StripeSetupError(409, plan.refusal.reason, plan.refusal.message, { endpoints: plan.refusal.endpoints });
      case 'unchanged':
      case 'update': {
        const before = current;
        if (plan.action === 'update') await account.updateEndpoint(plan.endpointId, { url, events: wanted.events });
        await inTransaction(db, async () => {
          await storeKey(db, deps.box, integrationId, key);
          if (plan.action === 'update') await updateEndpointEvents(db, plan.endpointId, url, wanted.events);
          await audit(plan.action === 'update' ? 'updated' : 'unchanged', plan.endpointId, before);
        });
        return result(plan.endpointId, plan.action === 'update' ? 'updated' : 'unchanged');
      }
      case 'create': {
        const created = await createWithSecret(account, url, wanted.events, integrationId);
        try {
          await inTransaction(db, async () => {
            await storeKey(db, deps.box, integrationId, key);
            // Ours, but deleted in Stripe meanwhile: its secret verifies nothing any more.
            if (plan.replacesMissing) await forgetEndpoint(db, plan.replacesMissing);
            await insertEndpoint(db, deps.box, { integrationId, endpointId: created.endpoint.id, url, events: wanted.events, livemode: parsed.livemode, secret: created.secret });
            await audit('created', created.endpoint.id, null);
          });
        } catch (err) {
          await account.deleteEndpoint(created.endpoint.id).catch(() => undefined);
          throw err;
        }
        deps.log.info({ integrationId, endpointId: created.endpoint.id, events: wanted.events.length }, 'webhook endpoint registered');
        return result(created.endpoint.id, 'created');
      }
      default: {
        const _exhaustive: never = plan;
        return _exhaustive;
      }
    }
  });

export interface RollResult {
  readonly integrationId: string;
  readonly newEndpointId: string;
  readonly oldEndpointId: string;
  /** Until then both endpoints deliver and the old secret is accepted; then the old endpoint is deleted. */
  readonly oldSecretExpiresAt: string;
  readonly windowSeconds: number;
  readonly retired: readonly string[];
}

/**
 * Roll the signing secret: a new endpoint (same URL and events) with a new secret; the old
 * endpoint and secret stay valid for the window, then `finishRoll` (or the next connect or roll)
 * deletes the old endpoint. See planRoll for why the API's only way is a second endpoint.
 */
export const rollSecret = (deps: SetupDeps, integrationId: string, windowSeconds: number, actor: string): Promise<RollResult> =>
  exclusively(deps, integrationId, async (db) => {
    const state = await stateOf(db, deps, integrationId);
    if (!state.storedKey) throw new StripeSetupError(409, 'not_connected', `integration ${integrationId} has no Stripe key stored: run \`sas stripe connect\` first`);
    const account = deps.accountFor(state.storedKey);
    const livemode = parsedKey(state.storedKey).livemode;
    const retired = await retireDue(db, deps, account, integrationId, actor);
    const now = deps.now();
    const own = await loadOwnEndpoints(db, integrationId);
    const plan = planRoll({ listed: await account.listEndpoints(), own, current: await currentEndpoint(account, own), windowSeconds, now });
    if (plan.action === 'refuse') {
      throw new StripeSetupError(409, plan.reason, plan.message, plan.endpoints ? { endpoints: plan.endpoints } : undefined);
    }
    const url = webhookUrlOf(deps.publicBaseUrl, integrationId);
    const events = webhookEventTypesFor(state).events;
    if (plan.deleteOldFirst) {
      // No free slot (window 0 only): the old endpoint goes first, so there is a gap until the new one exists.
      await account.deleteEndpoint(plan.oldEndpointId);
      await inTransaction(db, async () => {
        await forgetEndpoint(db, plan.oldEndpointId);
        await writeAudit(db, { actor, action: 'stripe.endpoint_retired', integrationId, target: plan.oldEndpointId, before: { endpointId: plan.oldEndpointId }, after: null });
      });
    }
    const created = await createWithSecret(account, url, events, integrationId);
    try {
      await inTransaction(db, async () => {
        if (!plan.deleteOldFirst) await scheduleRetirement(db, plan.oldEndpointId, plan.retireAt);
        await insertEndpoint(db, deps.box, { integrationId, endpointId: created.endpoint.id, url, events, livemode, secret: created.secret });
        await writeAudit(db, {
          actor, action: 'stripe.roll_secret', integrationId, target: created.endpoint.id,
          before: { endpointId: plan.oldEndpointId },
          after: { endpointId: created.endpoint.id, signingSecret: '(write-only)', oldEndpointId: plan.oldEndpointId, oldSecretExpiresAt: plan.retireAt.toISOString() },
        });
      });
    } catch (err) {
      await account.deleteEndpoint(created.endpoint.id).catch(() => undefined);
      throw err;
    }
    deps.log.info({ integrationId, endpointId: created.endpoint.id, oldEndpointId: plan.oldEndpointId, retireAt: plan.retireAt.toISOString() }, 'webhook signing secret rolled');
    // A window of 0: the old endpoint is deleted now, not at the next call.
    const retiredNow = windowSeconds === 0 && !plan.deleteOldFirst ? await retireDue(db, deps, account, integrationId, actor) : [];
    return {
      integrationId, newEndpointId: created.endpoint.id, oldEndpointId: plan.oldEndpointId,
      oldSecretExpiresAt: plan.retireAt.toISOString(), windowSeconds, retired: [...retired, ...retiredNow],
    };
  });

export interface FinishResult {
  readonly integrationId: string;
  readonly retired: readonly string[];
  readonly stillRetiring: readonly { readonly endpointId: string; readonly retireAt: string }[];
}

/** Delete the old endpoints whose window has ended; with `now`, end every open window first. */
export const finishRoll = (deps: SetupDeps, integrationId: string, endNow: boolean, actor: string): Promise<FinishResult> =>
  exclusively(deps, integrationId, async (db) => {
    const state = await stateOf(db, deps, integrationId);
    if (!state.storedKey) throw new StripeSetupError(409, 'not_connected', `integration ${integrationId} has no Stripe key stored: run \`sas stripe connect\` first`);
    if (endNow) {
      const at = deps.now();
      await inTransaction(db, async () => {
        for (const o of state.own) if (o.retireAt && o.retireAt > at) await scheduleRetirement(db, o.endpointId, at);
      });
    }
    const retired = await retireDue(db, deps, deps.accountFor(state.storedKey), integrationId, actor);
    const left = (await loadOwnEndpoints(db, integrationId)).filter((o) => o.retireAt !== null);
    return { integrationId, retired, stillRetiring: left.map((o) => ({ endpointId: o.endpointId, retireAt: o.retireAt!.toISOString() })) };
  });
