import { DestinationTypes, destinationProblems } from '@sas/contracts';
import type { FastifyPluginAsync } from 'fastify';
import type { AdminDeps } from './app.js';
import { actorOf, writeAudit } from './audit.js';
import { conflict, invalid, notFound } from './errors.js';
import { credentialsInput, destinationParams, destinationSchema, errorSchema, integrationParams, objectId } from './schemas.js';
import {
  insertDestination, listDestinations, lockIntegration, readDestination, readIntegration, setDestinationEnabled, updateDestination,
  withTx, type Db,
} from '../integrations/store.js';
import { destinationAudit, destinationView, mergeSettings, openCredentials, type DestinationRow, type DestinationView } from '../integrations/views.js';

const errors = { 400: errorSchema, 404: errorSchema, 409: errorSchema };
type Params = { integrationId: string; destinationId: string };

/**
 * Partner destinations of an integration. Settings are merged on update (null removes one);
 * credentials are write-only: replaced as a whole, sealed with SECRETS_KEY, shown by name only.
 * A destination the dispatcher could not use is refused, naming the field.
 */
export const destinationRoutes: FastifyPluginAsync<AdminDeps> = async (app, deps) => {
  const view = (r: DestinationRow): DestinationView => destinationView(r, Object.keys(openCredentials(deps.box, r.credentials_ciphertext)));
  const read = async (db: Db, integrationId: string, id: string, lock = false): Promise<DestinationRow> => {
    const row = await readDestination(db, integrationId, id, lock);
    if (!row) throw notFound(`destination ${id} of integration ${integrationId}`);
    return row;
  };
  const changed = (action: string, actor: string, integrationId: string, target: string) =>
    deps.log.info({ action, actor, integrationId, target }, 'admin change');

  app.post<{ Params: { integrationId: string }; Body: { id: string; type: string; enabled?: boolean; settings?: Record<string, unknown>; credentials?: Record<string, string> } }>(
    '/integrations/:integrationId/destinations', {
      schema: {
        summary: 'Add a partner destination', tags: ['destinations'], params: integrationParams,
        body: {
          type: 'object', required: ['id', 'type'], additionalProperties: false,
          properties: {
            id: objectId('destination id (unique across integrations)'),
            type: { type: 'string', enum: DestinationTypes },
            enabled: { type: 'boolean', default: true },
            settings: { type: 'object', additionalProperties: true, description: 'non-secret settings of the type (see libs/contracts/src/destinations.ts)' },
            credentials: credentialsInput,
          },
        },
        response: { 201: destinationSchema, ...errors },
      },
    }, async (req, reply) => {
      const { integrationId } = req.params;
      const { id, type, enabled = true, settings = {}, credentials = {} } = req.body;
      const problems = destinationProblems(type, settings, Object.keys(credentials));
      if (problems.length > 0) throw invalid(problems);
      const actor = actorOf(req);
      const target = `destination:${id}`;
      const v = await withTx(deps.pool, async (db) => {
        if (!(await lockIntegration(db, integrationId))) throw notFound(`integration ${integrationId}`);
        const sealed = Object.keys(credentials).length > 0 ? deps.box.seal(JSON.stringify(credentials)) : null;
        if (!(await insertDestination(db, { id, integrationId, type, enabled, settings, credentialsCiphertext: sealed }))) throw conflict(`destination ${id}`);
        const after = view(await read(db, integrationId, id));
        await writeAudit(db, { actor, action: 'destination.add', integrationId, target, before: null, after: destinationAudit(after) });
        return after;
      });
      changed('destination.add', actor, integrationId, target);
      return reply.code(201).send(v);
    });

  app.get<{ Params: { integrationId: string } }>('/integrations/:integrationId/destinations', {
    schema: {
      summary: "List an integration's destinations", tags: ['destinations'], params: integrationParams,
      response: { 200: { type: 'object', properties: { destinations: { type: 'array', items: destinationSchema } } }, ...errors },
    },
  }, async (req) => {
    const { integrationId } = req.params;
    if (!(await readIntegration(deps.pool, integrationId))) throw notFound(`integration ${integrationId}`);
    return { destinations: (await listDestinations(deps.pool, integrationId)).map(view) };
  });

  app.get<{ Params: Params }>('/integrations/:integrationId/destinations/:destinationId', {
    schema: { summary: 'Get a destination (credentials by name only)', tags: ['destinations'], params: destinationParams, response: { 200: destinationSchema, ...errors } },
  }, async (req) => view(await read(deps.pool, req.params.integrationId, req.params.destinationId)));

  app.patch<{ Params: Params; Body: { settings?: Record<string, unknown>; credentials?: Record<string, string> } }>(
    '/integrations/:integrationId/destinations/:destinationId', {
      schema: {
        summary: 'Update a destination: settings are merged (null removes one), credentials replaced as a whole', tags: ['destinations'],
        params: destinationParams,
        body: {
          type: 'object', additionalProperties: false, minProperties: 1,
          properties: { settings: { type: 'object', additionalProperties: true }, credentials: credentialsInput },
        },
        response: { 200: destinationSchema, ...errors },
      },
    }, async (req) => {
      const { integrationId, destinationId: id } = req.params;
      const actor = actorOf(req);
      const target = `destination:${id}`;
      const v = await withTx(deps.pool, async (db) => {
        const row = await read(db, integrationId, id, true);
        const before = view(row);
        const settings = mergeSettings(row.settings, req.body.settings ?? {});
        const credentials = req.body.credentials;
        const names = credentials ? Object.keys(credentials) : before.credentials;
        const problems = destinationProblems(row.type, settings, names);
        if (problems.length > 0) throw invalid(problems);
        const sealed = credentials ? (names.length > 0 ? deps.box.seal(JSON.stringify(credentials)) : null) : row.credentials_ciphertext;
        await updateDestination(db, id, { settings, credentialsCiphertext: sealed });
        const after = view(await read(db, integrationId, id));
        await writeAudit(db, {
          actor, action: 'destination.update', integrationId, target,
          before: destinationAudit(before), after: { ...destinationAudit(after), credentialsReplaced: Boolean(credentials) },
        });
        return after;
      });
      changed('destination.update', actor, integrationId, target);
      return v;
    });

  for (const verb of ['disable', 'enable'] as const) {
    app.post<{ Params: Params }>(`/integrations/:integrationId/destinations/:destinationId/${verb}`, {
      schema: {
        summary: verb === 'disable' ? 'Disable a destination (the dispatcher stops sending to it)' : 'Enable a destination',
        tags: ['destinations'], params: destinationParams, response: { 200: destinationSchema, ...errors },
      },
    }, async (req) => {
      const { integrationId, destinationId: id } = req.params;
      const actor = actorOf(req);
      const target = `destination:${id}`;
      const v = await withTx(deps.pool, async (db) => {
        const before = view(await read(db, integrationId, id, true));
        await setDestinationEnabled(db, id, verb === 'enable');
        const after = view(await read(db, integrationId, id));
        await writeAudit(db, { actor, action: `destination.${verb}`, integrationId, target, before: destinationAudit(before), after: destinationAudit(after) });
        return after;
      });
      changed(`destination.${verb}`, actor, integrationId, target);
      return v;
    });
  }
};
