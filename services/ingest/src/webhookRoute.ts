import type { FastifyPluginAsync } from 'fastify';
import type { Logger, WebhookAuth } from '@sas/runtime';
import { rawEventRecord } from '@sas/runtime';
import { verifyWebhook } from './core/verifyWebhook.js';
import { PublishError, type Publish } from './adapters/eventPublisher.js';

export interface WebhookDeps {
  readonly webhookAuth: (integrationId: string) => Promise<WebhookAuth | null>;
  readonly publish: Publish;
  readonly toleranceSeconds: number;
  readonly now: () => number;
  readonly onRejected?: (reason: string) => void;
  readonly log: Pick<Logger, 'info' | 'warn'>;
}

const PATH = '/webhooks/stripe/:integrationId';

/**
 * The Stripe webhook route. Not wrapped in fastify-plugin on purpose: its raw-body JSON parser
 * stays scoped to this route, so the signature is checked over the exact bytes Stripe sent.
 */
export const webhookRoute: FastifyPluginAsync<WebhookDeps> = async (app, deps) => {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));

  app.route<{ Params: { integrationId: string } }>({
    method: ['GET', 'PUT', 'PATCH', 'DELETE'],
    url: PATH,
    handler: async (_req, reply) => reply.code(405).header('allow', 'POST').send({ error: 'method not allowed: use POST' }),
  });

  app.post<{ Params: { integrationId: string }; Body: Buffer }>(PATH, async (req, reply) => {
    const receivedAtMs = deps.now();
    const { integrationId } = req.params;
    const auth = await deps.webhookAuth(integrationId);
    if (!auth || auth.status !== 'active') {
      deps.onRejected?.('unknown_integration');
      return reply.code(404).send({ error: `unknown integration ${integrationId}` });
    }
    const raw = req.body;
    if (!Buffer.isBuffer(raw) || raw.length === 0) {
      deps.onRejected?.('empty_body');
      return reply.code(400).send({ error: 'empty body' });
    }
    const verified = verifyWebhook({
      raw,
      signatureHeader: req.headers['stripe-signature'] as string | undefined,
      secrets: auth.secrets,
      toleranceSeconds: deps.toleranceSeconds,
      nowMs: receivedAtMs,
      connectedAccounts: auth.accounts,
    });
    if (!verified.ok) {
      deps.onRejected?.(verified.reason);
      deps.log.info({ integrationId, reason: verified.reason }, 'webhook rejected');
      const status = verified.reason === 'account_not_connected' ? 403 : 400;
      return reply.code(status).send({ error: verified.detail, reason: verified.reason });
    }
    try {
      await deps.publish(rawEventRecord({ integrationId, raw, event: verified.event, receivedAtMs }));
    } catch (err) {
      deps.log.warn({ integrationId, stripeEventId: verified.event.id, err: (err as Error).message }, 'publish failed');
      if (err instanceof PublishError) {
        return reply.code(503).header('retry-after', '5').send({ error: 'temporarily unable to store the event; retry' });
      }
      throw err;
    }
    return reply.code(200).send({ received: true, id: verified.event.id });
  });
};
