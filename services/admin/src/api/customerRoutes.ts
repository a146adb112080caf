import type { FastifyPluginAsync } from 'fastify';
import { ErasureError, eraseCustomer, withTransaction } from '@sas/runtime';
import type { AdminDeps } from './app.js';
import { actorOf, writeAudit } from './audit.js';
import { AdminError, notFound } from './errors.js';
import { errorSchema, integrationParams } from './schemas.js';
import { lockIntegration } from '../integrations/store.js';

type Params = { integrationId: string };
interface EraseBody { customerId?: string; email?: string; reason: string }

const erasureResultSchema = {
  type: 'object',
  properties: {
    integrationId: { type: 'string' },
    customerIds: { type: 'array', items: { type: 'string' } },
    alreadyErased: { type: 'boolean' },
    scrubbed: {
      type: 'object',
      properties: { attributionRows: { type: 'integer' }, ledgerRows: { type: 'integer' }, heldConversions: { type: 'integer' } },
    },
  },
} as const;

/**
 * Customers: erasure of one person's personal data (issue 21; the README's "Personal data"
 * section says what it guarantees). The email is never logged nor audited: the audit names
 * the customer ids found and how the person was named (`by: email`).
 */
export const customerRoutes: FastifyPluginAsync<AdminDeps> = async (app, deps) => {
  app.post<{ Params: Params; Body: EraseBody }>('/integrations/:integrationId/customers/erase', {
    schema: {
      summary: 'Erase a customer\'s personal data (by Stripe customer id or by email; audited, idempotent; operator role)', tags: ['customers'],
      params: integrationParams,
      body: {
        type: 'object', additionalProperties: false, required: ['reason'],
        properties: {
          customerId: { type: 'string', minLength: 1, maxLength: 255, description: 'the Stripe customer, cus_...' },
          email: { type: 'string', minLength: 3, maxLength: 320, description: 'the person\'s email, when the customer id is not known' },
          reason: { type: 'string', minLength: 1, maxLength: 1000, pattern: '\\S', description: 'why (a ticket, "GDPR art. 17 request of ..."); kept with the erasure' },
        },
      },
      response: { 200: erasureResultSchema, 400: errorSchema, 403: errorSchema, 404: errorSchema },
    },
  }, async (req) => {
    const id = req.params.integrationId;
    const { customerId, email, reason } = req.body;
    if ((customerId === undefined) === (email === undefined)) {
      throw new AdminError(400, 'invalid', 'body needs exactly one of customerId or email', ['body.customerId or body.email: give exactly one']);
    }
    if (!deps.frames) throw new Error('the admin API was started without a schema registry: erasure cannot rewrite stored conversions');
    const frames = deps.frames;
    const actor = actorOf(req);
    const result = await withTransaction(deps.pool, async (db) => {
      if (!(await lockIntegration(db, id))) throw notFound(`integration ${id}`);
      let r;
      try {
        r = await eraseCustomer(db, frames, { integrationId: id, customerId: customerId ?? null, email: email ?? null, reason, actor, source: 'operator' });
      } catch (err) {
        if (err instanceof ErasureError) {
          throw err.code === 'unknown_customer'
            ? new AdminError(404, 'unknown_customer', err.message, [`body.${err.field}: ${err.message}`])
            : new AdminError(400, 'invalid', `body.${err.field}: ${err.message}`, [`body.${err.field}: ${err.message}`]);
        }
        throw err;
      }
      await writeAudit(db, {
        actor, action: 'customer.erase', integrationId: id, target: `customers:${r.customerIds.join(',')}`,
        before: null, after: { by: customerId ? 'customerId' : 'email', reason: reason.trim(), ...r },
      });
      return r;
    });
    deps.log.info({ action: 'customer.erase', actor, integrationId: id, customers: result.customerIds.length, alreadyErased: result.alreadyErased }, 'admin change');
    return result;
  });
};
