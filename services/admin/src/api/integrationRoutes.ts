import type { FastifyPluginAsync } from 'fastify';
import type { AdminDeps } from './app.js';
import { actorOf, auditRoutes, writeAudit } from './audit.js';
import { destinationRoutes } from './destinationRoutes.js';
import { secretRoutes } from './secretRoutes.js';
import { customerRoutes } from './customerRoutes.js';
import { conflict, installErrorHandler, notFound } from './errors.js';
import { errorSchema, integrationFields, integrationParams, integrationSchema, objectId } from './schemas.js';
import { viewOf } from './integrationView.js';
import {
  insertIntegration, listIntegrations, lockIntegration, replaceAccounts, setIntegrationStatus, setStripeKey, updateIntegration, withTx, type IntegrationFields,
} from '../integrations/store.js';
import { WRITE_ONLY, integrationView, type IntegrationView } from '../integrations/views.js';

type Fields = IntegrationFields & { accounts?: string[]; stripeKey?: string };
type Params = { integrationId: string };

const errors = { 400: errorSchema, 404: errorSchema, 409: errorSchema };

/** The audit's after: a key set in this change is named, its value write-only. */
const withKeyNote = (v: IntegrationView, stripeKey: string | undefined) => (stripeKey ? { ...v, stripeKey: WRITE_ONLY } : v);

/**
 * Integrations (create, list, get, update, disable, enable); destinations, webhook signing
 * secrets, the Stripe key and the audit trail are sub-plugins sharing this error handler.
 * Every change is audited in its own transaction.
 */
export const integrationRoutes: FastifyPluginAsync<AdminDeps> = async (app, deps) => {
  installErrorHandler(app, deps.log);
  const changed = (action: string, actor: string, integrationId: string, target: string | null) =>
    deps.log.info({ action, actor, integrationId, target }, 'admin change');

  app.post<{ Body: Fields & { id: string; name: string } }>('/integrations', {
    schema: {
      summary: 'Create an integration (stripeKey, optional, is write-only)', tags: ['integrations'],
      body: { type: 'object', required: ['id', 'name'], additionalProperties: false, properties: { id: objectId('integration id (used in the webhook URL)'), ...integrationFields } },
      response: { 201: integrationSchema, ...errors },
    },
  }, async (req, reply) => {
    const { id, accounts, stripeKey, ...fields } = req.body;
    const actor = actorOf(req);
    const view = await withTx(deps.pool, async (db) => {
      if (!(await insertIntegration(db, id, fields))) throw conflict(`integration ${id}`);
      if (accounts) await replaceAccounts(db, id, accounts);
      if (stripeKey) await setStripeKey(db, id, deps.box.seal(stripeKey));
      const after = await viewOf(db, id);
      await writeAudit(db, { actor, action: 'integration.create', integrationId: id, target: `integration:${id}`, before: null, after: withKeyNote(after, stripeKey) });
      return after;
    });
    changed('integration.create', actor, id, `integration:${id}`);
    return reply.code(201).send(view);
  });

  app.get('/integrations', {
    schema: { summary: 'List integrations', tags: ['integrations'], response: { 200: { type: 'object', properties: { integrations: { type: 'array', items: integrationSchema } } } } },
  }, async () => ({ integrations: (await listIntegrations(deps.pool)).map(integrationView) }));

  app.get<{ Params: Params }>('/integrations/:integrationId', {
    schema: { summary: 'Get an integration (no secrets: hasStripeKey, activeWebhookSecrets)', tags: ['integrations'], params: integrationParams, response: { 200: integrationSchema, ...errors } },
  }, async (req) => viewOf(deps.pool, req.params.integrationId));

  app.patch<{ Params: Params; Body: Fields }>('/integrations/:integrationId', {
    schema: {
      summary: 'Update an integration (fields given are changed; accounts are replaced as a whole; stripeKey is write-only)', tags: ['integrations'],
      params: integrationParams,
      body: { type: 'object', additionalProperties: false, minProperties: 1, properties: integrationFields },
      response: { 200: integrationSchema, ...errors },
    },
  }, async (req) => {
    const id = req.params.integrationId;
    const { accounts, stripeKey, ...fields } = req.body;
    const actor = actorOf(req);
    const view = await withTx(deps.pool, async (db) => {
      if (!(await lockIntegration(db, id))) throw notFound(`integration ${id}`);
      const before = await viewOf(db, id);
      await updateIntegration(db, id, fields);
      if (accounts) await replaceAccounts(db, id, accounts);
      if (stripeKey) await setStripeKey(db, id, deps.box.seal(stripeKey));
      const after = await viewOf(db, id);
      await writeAudit(db, { actor, action: 'integration.update', integrationId: id, target: `integration:${id}`, before, after: withKeyNote(after, stripeKey) });
      return after;
    });
    changed('integration.update', actor, id, `integration:${id}`);
    return view;
  });

  for (const [verb, status] of [['disable', 'disabled'], ['enable', 'active']] as const) {
    app.post<{ Params: Params }>(`/integrations/:integrationId/${verb}`, {
      schema: {
        summary: verb === 'disable' ? 'Disable an integration (ingest answers its webhooks 404, so Stripe retries them for up to 3 days)' : 'Enable an integration',
        tags: ['integrations'], params: integrationParams, response: { 200: integrationSchema, ...errors },
      },
    }, async (req) => {
      const id = req.params.integrationId;
      const actor = actorOf(req);
      const view = await withTx(deps.pool, async (db) => {
        if (!(await lockIntegration(db, id))) throw notFound(`integration ${id}`);
        const before = await viewOf(db, id);
        await setIntegrationStatus(db, id, status);
        const after = await viewOf(db, id);
        await writeAudit(db, { actor, action: `integration.${verb}`, integrationId: id, target: `integration:${id}`, before, after });
        return after;
      });
      changed(`integration.${verb}`, actor, id, `integration:${id}`);
      return view;
    });
  }

  await app.register(destinationRoutes, deps);
  await app.register(secretRoutes, deps);
  await app.register(auditRoutes, deps);
  await app.register(customerRoutes, deps);
};
