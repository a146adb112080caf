import Stripe from 'stripe';
import type { ListedEndpoint } from './endpointPlan.js';
import { PERMISSION_PROBES, interpretProbe, redactKeys, type PermissionResult, type ProbeAnswer } from './keyPermissions.js';

/** The Stripe calls setup makes with an integration's key (thin: no decisions here). */
export interface StripeAccount {
  readonly probePermissions: () => Promise<PermissionResult[]>;
  readonly listEndpoints: () => Promise<ListedEndpoint[]>;
  /** Stripe returns the signing secret only here, on creation. */
  readonly createEndpoint: (p: { url: string; events: readonly string[]; description: string }) => Promise<{ endpoint: ListedEndpoint; secret: string | null }>;
  /** The endpoint, or null when Stripe has no such endpoint (deleted in the Dashboard). */
  readonly retrieveEndpoint: (id: string) => Promise<ListedEndpoint | null>;
  readonly updateEndpoint: (id: string, p: { url: string; events: readonly string[] }) => Promise<ListedEndpoint>;
  /** Deletes; an endpoint already gone counts as deleted. */
  readonly deleteEndpoint: (id: string) => Promise<void>;
}

/** A Stripe answer that setup reports as is (status and Stripe's message, keys redacted). */
export class StripeCallError extends Error {
  override readonly name = 'StripeCallError';
  constructor(readonly what: string, readonly statusCode: number | null, message: string) {
    super(`Stripe ${what} failed${statusCode ? ` (${statusCode})` : ''}: ${redactKeys(message)}`);
  }
}

const toListed = (e: Stripe.WebhookEndpoint): ListedEndpoint => ({ id: e.id, url: e.url, enabledEvents: e.enabled_events, status: e.status });

const answerOf = (err: unknown): ProbeAnswer => {
  if (err instanceof Stripe.errors.StripeError && typeof err.statusCode === 'number') return { status: err.statusCode, message: err.message };
  return { status: null, message: err instanceof Error ? err.message : String(err) };
};

const wrap = async <T>(what: string, call: () => Promise<T>): Promise<T> => {
  try {
    return await call();
  } catch (err) {
    const a = answerOf(err);
    throw new StripeCallError(what, a.status, a.message ?? '');
  }
};

/** `apiBase` (STRIPE_API_BASE) points the client at stripe-mock in tests; unset, at api.stripe.com. */
export const createStripeAccount = (apiKey: string, apiBase?: string, timeoutMs = 15_000): StripeAccount => {
  const base = apiBase ? new URL(apiBase) : null;
  const stripe = new Stripe(apiKey, {
    ...(base ? {
      host: base.hostname,
      port: Number(base.port || (base.protocol === 'https:' ? 443 : 80)),
      protocol: base.protocol === 'http:' ? 'http' as const : 'https' as const,
    } : {}),
    maxNetworkRetries: 1,
    timeout: timeoutMs,
    telemetry: false,
  });
  return {
    probePermissions: () => Promise.all(PERMISSION_PROBES.map(async (probe) => {
      if (!probe.request) return interpretProbe(probe, null);
      try {
        const { method, path, params } = probe.request;
        // stripe-node's rawRequest takes params only for POST; a GET carries them in its path.
        if (method === 'GET') await stripe.rawRequest('GET', `${path}?${new URLSearchParams(params).toString()}`, null as never);
        else await stripe.rawRequest(method, path, params);
        return interpretProbe(probe, { status: 200 });
      } catch (err) {
        return interpretProbe(probe, answerOf(err));
      }
    })),
    listEndpoints: () => wrap('listing webhook endpoints', async () =>
      (await stripe.webhookEndpoints.list({ limit: 100 }).autoPagingToArray({ limit: 1000 })).map(toListed)),
    createEndpoint: (p) => wrap('creating the webhook endpoint', async () => {
      const e = await stripe.webhookEndpoints.create({
        url: p.url,
        enabled_events: [...p.events] as Stripe.WebhookEndpointCreateParams.EnabledEvent[],
        description: p.description,
      });
      return { endpoint: toListed(e), secret: e.secret ?? null };
    }),
    retrieveEndpoint: async (id) => {
      try {
        return toListed(await stripe.webhookEndpoints.retrieve(id));
      } catch (err) {
        const a = answerOf(err);
        if (a.status === 404) return null;
        throw new StripeCallError(`reading webhook endpoint ${id}`, a.status, a.message ?? '');
      }
    },
    updateEndpoint: (id, p) => wrap(`updating webhook endpoint ${id}`, async () =>
      toListed(await stripe.webhookEndpoints.update(id, { url: p.url, enabled_events: [...p.events] as Stripe.WebhookEndpointUpdateParams.EnabledEvent[], disabled: false }))),
    deleteEndpoint: async (id) => {
      try {
        await stripe.webhookEndpoints.del(id);
      } catch (err) {
        const a = answerOf(err);
        if (a.status === 404) return;
        throw new StripeCallError(`deleting webhook endpoint ${id}`, a.status, a.message ?? '');
      }
    },
  };
};
