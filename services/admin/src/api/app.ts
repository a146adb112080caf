import Fastify, { type FastifyInstance } from 'fastify';
import swagger from '@fastify/swagger';
import type pg from 'pg';
import type { FrameRewriter, Logger, SecretBox } from '@sas/runtime';
import type { AdminConfig } from '../config.js';
import { bearerAuth } from './auth.js';
import { integrationRoutes } from './integrationRoutes.js';
import { stripeRoutes } from './stripeRoutes.js';

export interface AdminDeps {
  readonly pool: pg.Pool;
  readonly box: SecretBox;
  readonly log: Logger;
  readonly config: Pick<AdminConfig, 'ADMIN_TOKEN' | 'STRIPE_API_BASE' | 'PUBLIC_BASE_URL' | 'KAFKA_TOPIC_PREFIX'> & { readonly ADMIN_VIEWER_TOKEN?: string | undefined };
  /** Rewrites stored conversion frames (erasure); the API refuses an erasure without it. */
  readonly frames?: FrameRewriter;
}

/**
 * The admin API: /openapi.json is public (the document, no data); everything under /v1 needs
 * the bearer token. Route files register themselves as plugins and share these deps.
 */
export const buildAdminApp = async (deps: AdminDeps): Promise<FastifyInstance> => {
  // Changes are logged (and audited) by the routes themselves, without request bodies: they carry secrets.
  // removeAdditional off: a misspelt field is refused (400 naming it), not silently dropped.
  const app = Fastify({ logger: false, ajv: { customOptions: { removeAdditional: false } } });
  await app.register(swagger, {
    openapi: {
      info: { title: 'stripe-affiliate-stream admin API', version: '1' },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
      security: [{ bearer: [] }],
    },
  });
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
  app.get('/healthz', { schema: { hide: true } }, async () => ({ status: 'ok' }));
  await app.register(async (v1) => {
    v1.addHook('onRequest', bearerAuth(deps.config.ADMIN_TOKEN, deps.config.ADMIN_VIEWER_TOKEN));
    await v1.register(integrationRoutes, deps);
    await v1.register(stripeRoutes, deps);
  }, { prefix: '/v1' });
  return app;
};
