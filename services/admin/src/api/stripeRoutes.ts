import type { FastifyPluginAsync, FastifyReply } from 'fastify';
import { actorOf } from './audit.js';
import type { AdminDeps } from './app.js';
import { createStripeAccount, StripeCallError } from '../stripe/stripeAccount.js';
import { checkKey, connect, finishRoll, rollSecret, StripeSetupError, webhookUrlOf, type SetupDeps } from '../stripe/stripeSetup.js';
import { listEndpointViews } from '../stripe/stripeStore.js';

const params = {
  type: 'object', required: ['integrationId'],
  properties: { integrationId: { type: 'string', pattern: '^[a-zA-Z0-9][a-zA-Z0-9_-]{0,63}$', description: 'integration id' } },
} as const;

const keyField = { type: 'string', minLength: 1, maxLength: 255, description: 'write-only: a Stripe restricted key (rk_…) or secret key (sk_…); never returned or logged' } as const;

const permissionsReport = {
  type: 'object',
  properties: {
    ok: { type: 'boolean' },
    keyKind: { type: 'string', enum: ['restricted', 'secret'] },
    livemode: { type: 'boolean' },
    permissions: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          id: { type: 'string' }, group: { type: 'string' },
          status: { type: 'string', enum: ['ok', 'missing', 'unknown', 'not_checkable'] },
          dashboard: { type: 'string', description: 'what to enable on the restricted key in the Stripe Dashboard' },
          why: { type: 'string' }, detail: { type: 'string' },
        },
      },
    },
    missing: { type: 'array', items: { type: 'string' } },
    problem: { type: ['string', 'null'] },
  },
} as const;

const errorBody = {
  type: 'object',
  properties: {
    error: { type: 'string', description: 'stable code: missing_permissions, permission_check_failed, endpoint_limit, not_connected, endpoint_missing, no_key, invalid_key, busy, stripe_error, …' },
    message: { type: 'string' },
    details: { type: 'object', additionalProperties: true, description: 'the permissions report, or the account\'s endpoints at the limit' },
  },
} as const;
const errors = { 400: errorBody, 404: errorBody, 409: errorBody, 422: errorBody, 502: errorBody } as const;

const send = (reply: FastifyReply, err: unknown) => {
  if (err instanceof StripeSetupError) {
    return reply.code(err.statusCode).send({ error: err.code, message: err.message, ...(err.details !== undefined ? { details: err.details } : {}) });
  }
  if (err instanceof StripeCallError) return reply.code(502).send({ error: 'stripe_error', message: err.message });
  throw err;
};

/**
 * Stripe setup of an integration from its restricted key: check the key's permissions, register
 * the webhook endpoint (storing the sealed key and the signing secret), roll the secret. Keys
 * and secrets go in, never out.
 */
export const stripeRoutes: FastifyPluginAsync<AdminDeps> = async (app, deps) => {
  const setup: SetupDeps = {
    pool: deps.pool, box: deps.box, log: deps.log.child({ component: 'stripe-setup' }),
    publicBaseUrl: deps.config.PUBLIC_BASE_URL,
    accountFor: (key) => createStripeAccount(key, deps.config.STRIPE_API_BASE),
    now: () => new Date(),
  };

  app.post<{ Params: { integrationId: string }; Body: { key?: string } | undefined }>('/integrations/:integrationId/stripe/check', {
    schema: {
      summary: "Check a Stripe key's permissions (the given key, else the stored one); changes nothing",
      tags: ['stripe'], params,
      body: { type: 'object', additionalProperties: false, properties: { key: keyField } },
      response: { 200: permissionsReport, ...errors },
    },
  }, async (req, reply) => {
    try {
      return await checkKey(setup, req.params.integrationId, req.body?.key);
    } catch (err) {
      return send(reply, err);
    }
  });

  app.post<{ Params: { integrationId: string }; Body: { key?: string } | undefined }>('/integrations/:integrationId/stripe/connect', {
    schema: {
      summary: 'Check the key, register or update the webhook endpoint with the events the destinations need, store the key and signing secret',
      description: 'Refuses with 422 (missing_permissions, the report in details) before changing anything, and with 409 endpoint_limit when the account already has 16 endpoints (listed in details).',
      tags: ['stripe'], params,
      body: { type: 'object', additionalProperties: false, properties: { key: keyField } },
      response: {
        200: {
          type: 'object',
          properties: {
            integrationId: { type: 'string' }, url: { type: 'string' },
            endpoint: {
              type: 'object',
              properties: { id: { type: 'string' }, action: { type: 'string', enum: ['created', 'updated', 'unchanged'] }, enabledEvents: { type: 'array', items: { type: 'string' } } },
            },
            eventReasons: { type: 'object', additionalProperties: { type: 'array', items: { type: 'string' } } },
            retired: { type: 'array', items: { type: 'string' } },
            warnings: { type: 'array', items: { type: 'string' } },
            permissions: permissionsReport,
          },
        },
        ...errors,
      },
    },
  }, async (req, reply) => {
    try {
      return await connect(setup, req.params.integrationId, req.body?.key, actorOf(req));
    } catch (err) {
      return send(reply, err);
    }
  });

  app.post<{ Params: { integrationId: string }; Body: { windowSeconds?: number } | undefined }>('/integrations/:integrationId/stripe/roll-secret', {
    schema: {
      summary: 'Roll the webhook signing secret; the old one stays valid for the window',
      description: "Stripe's API cannot roll a secret, so a new endpoint for the same URL takes over; the old endpoint keeps delivering, its secret accepted, until the window ends, then finish-roll (or the next connect or roll) deletes it. Needs a free endpoint slot unless windowSeconds is 0.",
      tags: ['stripe'], params,
      body: {
        type: 'object', additionalProperties: false,
        properties: { windowSeconds: { type: 'integer', minimum: 0, maximum: 3 * 86_400, default: 86_400, description: 'how long the old secret stays valid (default 24 h; Stripe retries a delivery for up to 3 days)' } },
      },
      response: {
        200: {
          type: 'object',
          properties: {
            integrationId: { type: 'string' }, newEndpointId: { type: 'string' }, oldEndpointId: { type: 'string' },
            oldSecretExpiresAt: { type: 'string', format: 'date-time' }, windowSeconds: { type: 'integer' },
            retired: { type: 'array', items: { type: 'string' } },
          },
        },
        ...errors,
      },
    },
  }, async (req, reply) => {
    try {
      return await rollSecret(setup, req.params.integrationId, req.body?.windowSeconds ?? 86_400, actorOf(req));
    } catch (err) {
      return send(reply, err);
    }
  });

  app.post<{ Params: { integrationId: string }; Body: { now?: boolean } | undefined }>('/integrations/:integrationId/stripe/finish-roll', {
    schema: {
      summary: 'Delete the old endpoints whose roll window has ended (with now: end the windows first)',
      tags: ['stripe'], params,
      body: { type: 'object', additionalProperties: false, properties: { now: { type: 'boolean', default: false } } },
      response: {
        200: {
          type: 'object',
          properties: {
            integrationId: { type: 'string' }, retired: { type: 'array', items: { type: 'string' } },
            stillRetiring: { type: 'array', items: { type: 'object', properties: { endpointId: { type: 'string' }, retireAt: { type: 'string', format: 'date-time' } } } },
          },
        },
        ...errors,
      },
    },
  }, async (req, reply) => {
    try {
      return await finishRoll(setup, req.params.integrationId, req.body?.now ?? false, actorOf(req));
    } catch (err) {
      return send(reply, err);
    }
  });

  app.get<{ Params: { integrationId: string } }>('/integrations/:integrationId/stripe', {
    schema: {
      summary: 'The webhook URL and the endpoints sas registered for the integration',
      tags: ['stripe'], params,
      response: {
        200: {
          type: 'object',
          properties: {
            integrationId: { type: 'string' }, url: { type: 'string' },
            endpoints: {
              type: 'array',
              items: {
                type: 'object',
                properties: {
                  endpointId: { type: 'string' }, url: { type: 'string' }, enabledEvents: { type: 'array', items: { type: 'string' } },
                  livemode: { type: 'boolean' }, createdAt: { type: 'string' }, retireAt: { type: ['string', 'null'] },
                },
              },
            },
          },
        },
        ...errors,
      },
    },
  }, async (req, reply) => {
    const { integrationId } = req.params;
    const exists = await deps.pool.query(`SELECT 1 FROM integrations WHERE id = $1`, [integrationId]);
    if (exists.rowCount === 0) return reply.code(404).send({ error: 'not_found', message: `integration ${integrationId} does not exist` });
    return { integrationId, url: webhookUrlOf(deps.config.PUBLIC_BASE_URL, integrationId), endpoints: await listEndpointViews(deps.pool, integrationId) };
  });
};
