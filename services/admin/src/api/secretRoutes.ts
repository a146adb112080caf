import type { FastifyPluginAsync } from 'fastify';
import type { AdminDeps } from './app.js';
import { actorOf, writeAudit } from './audit.js';
import { notFound } from './errors.js';
import { viewOf } from './integrationView.js';
import { errorSchema, integrationParams, integrationSchema, stripeKeyField, webhookSecretSchema } from './schemas.js';
import { expireOtherSecrets, insertWebhookSecret, listWebhookSecrets, lockIntegration, readIntegration, setStripeKey, withTx } from '../integrations/store.js';
import { WRITE_ONLY } from '../integrations/views.js';

const errors = { 400: errorSchema, 404: errorSchema };
type Params = { integrationId: string };

/** Default window in which the older signing secrets keep verifying after a new one is added. */
export const DEFAULT_ROLL_SECONDS = 86_400;

/**
 * Write-only secrets of an integration: Stripe webhook signing secrets (several may verify at
 * once during a roll) and the Stripe restricted key. Stored sealed, never returned.
 */
export const secretRoutes: FastifyPluginAsync<AdminDeps> = async (app, deps) => {
  const secretList = { type: 'array', items: webhookSecretSchema } as const;

  app.post<{ Params: Params; Body: { secret: string; expireOthersAfterSeconds?: number | null } }>('/integrations/:integrationId/webhook-secrets', {
    schema: {
      summary: 'Add a webhook signing secret (write-only); the others keep verifying for expireOthersAfterSeconds (default 24 h, null: no expiry)',
      tags: ['secrets'], params: integrationParams,
      body: {
        type: 'object', required: ['secret'], additionalProperties: false,
        properties: {
          secret: { type: 'string', pattern: '^whsec_[A-Za-z0-9+/=_-]{8,}$', description: "the endpoint's signing secret (whsec_...), write-only" },
          expireOthersAfterSeconds: { type: ['integer', 'null'], minimum: 0, maximum: 2_592_000 },
        },
      },
      response: { 201: { type: 'object', properties: { added: webhookSecretSchema, secrets: secretList } }, ...errors },
    },
  }, async (req, reply) => {
    const { integrationId } = req.params;
    const window = req.body.expireOthersAfterSeconds === undefined ? DEFAULT_ROLL_SECONDS : req.body.expireOthersAfterSeconds;
    const actor = actorOf(req);
    const result = await withTx(deps.pool, async (db) => {
      if (!(await lockIntegration(db, integrationId))) throw notFound(`integration ${integrationId}`);
      const before = await listWebhookSecrets(db, integrationId);
      const added = await insertWebhookSecret(db, integrationId, deps.box.seal(req.body.secret));
      if (window !== null) await expireOtherSecrets(db, integrationId, added.id, window);
      const secrets = await listWebhookSecrets(db, integrationId);
      await writeAudit(db, {
        actor, action: 'webhook_secret.add', integrationId, target: `webhook_secret:${added.id}`,
        before: { secrets: before }, after: { added: { ...added, secret: WRITE_ONLY }, expireOthersAfterSeconds: window, secrets },
      });
      return { added, secrets };
    });
    deps.log.info({ action: 'webhook_secret.add', actor, integrationId, target: `webhook_secret:${result.added.id}` }, 'admin change');
    return reply.code(201).send(result);
  });

  app.get<{ Params: Params }>('/integrations/:integrationId/webhook-secrets', {
    schema: {
      summary: 'List webhook signing secrets: ids, creation and expiry only', tags: ['secrets'], params: integrationParams,
      response: { 200: { type: 'object', properties: { secrets: secretList } }, ...errors },
    },
  }, async (req) => {
    const { integrationId } = req.params;
    if (!(await readIntegration(deps.pool, integrationId))) throw notFound(`integration ${integrationId}`);
    return { secrets: await listWebhookSecrets(deps.pool, integrationId) };
  });

  app.put<{ Params: Params; Body: { key: string } }>('/integrations/:integrationId/stripe-key', {
    schema: {
      summary: "Set the integration's Stripe restricted key (write-only, sealed); the mapper reads invoices and line items with it",
      tags: ['secrets'], params: integrationParams,
      body: {
        type: 'object', required: ['key'], additionalProperties: false,
        properties: { key: stripeKeyField },
      },
      response: { 200: integrationSchema, ...errors },
    },
  }, async (req) => {
    const { integrationId } = req.params;
    const actor = actorOf(req);
    const view = await withTx(deps.pool, async (db) => {
      if (!(await lockIntegration(db, integrationId))) throw notFound(`integration ${integrationId}`);
      const before = await viewOf(db, integrationId);
      await setStripeKey(db, integrationId, deps.box.seal(req.body.key));
      const after = await viewOf(db, integrationId);
      await writeAudit(db, {
        actor, action: 'stripe_key.set', integrationId, target: `integration:${integrationId}`,
        before: { hasStripeKey: before.hasStripeKey }, after: { hasStripeKey: true, stripeKey: WRITE_ONLY },
      });
      return after;
    });
    deps.log.info({ action: 'stripe_key.set', actor, integrationId }, 'admin change');
    return view;
  });
};
