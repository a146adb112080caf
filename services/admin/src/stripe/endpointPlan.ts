/** Stripe allows this many webhook endpoints per account (and mode). */
export const STRIPE_ENDPOINT_LIMIT = 16;

/** A webhook endpoint as Stripe lists it. */
export interface ListedEndpoint {
  readonly id: string;
  readonly url: string;
  readonly enabledEvents: readonly string[];
  readonly status: string;
}

/** An endpoint sas registered for the integration (stripe_webhook_endpoints). */
export interface OwnEndpoint {
  readonly endpointId: string;
  /** Set while a roll keeps it delivering; deleted from Stripe when due. */
  readonly retireAt: Date | null;
}

export interface EndpointRefusal {
  readonly reason: 'endpoint_limit';
  readonly message: string;
  readonly endpoints: readonly ListedEndpoint[];
}

export type EndpointPlan =
  | { readonly action: 'create'; readonly replacesMissing: string | null; readonly warnings: readonly string[] }
  | { readonly action: 'update'; readonly endpointId: string; readonly warnings: readonly string[] }
  | { readonly action: 'unchanged'; readonly endpointId: string; readonly warnings: readonly string[] }
  | { readonly action: 'refuse'; readonly refusal: EndpointRefusal; readonly warnings: readonly string[] };

const sameSet = (a: readonly string[], b: readonly string[]) => a.length === b.length && [...a].sort().join() === [...b].sort().join();

const limitRefusal = (endpoints: readonly ListedEndpoint[], what: string, options: string): EndpointRefusal => ({
  reason: 'endpoint_limit',
  message:
    `the Stripe account already has ${endpoints.length} webhook endpoints, Stripe's limit is ${STRIPE_ENDPOINT_LIMIT}, and ${what} needs one more. ` +
    `${options} (Developers → Webhooks in the Dashboard, or DELETE /v1/webhook_endpoints/<id>). The endpoints: ` +
    endpoints.map((e) => `${e.id} ${e.url} [${e.enabledEvents.join(', ')}]${e.status === 'enabled' ? '' : ` (${e.status})`}`).join('; '),
  endpoints,
});

/**
 * Connect: keep the integration's current endpoint (updating its events when they differ), or
 * create one. Creating needs a free slot under Stripe's limit; at the limit the refusal lists
 * every endpoint, so the operator can pick one to delete. Other endpoints with our URL are not
 * ours to delete (sas does not hold their secrets, so ingest rejects what they deliver): named.
 */
export const planEndpoint = (p: {
  readonly url: string;
  readonly events: readonly string[];
  readonly listed: readonly ListedEndpoint[];
  readonly own: readonly OwnEndpoint[];
  /** The integration's current endpoint as Stripe has it (retrieved by id), null when gone or never registered. */
  readonly current: ListedEndpoint | null;
}): EndpointPlan => {
  const ownIds = new Set(p.own.map((o) => o.endpointId));
  const current = p.own.find((o) => o.retireAt === null) ?? null;
  const listedCurrent = current && p.current?.id === current.endpointId ? p.current : null;
  const strays = p.listed.filter((e) => e.url === p.url && !ownIds.has(e.id));
  const warnings = strays.map((e) =>
    `endpoint ${e.id} also points at ${p.url} but was not registered by sas: ingest cannot verify what it delivers; delete it in the Dashboard`);
  if (listedCurrent) {
    if (listedCurrent.url === p.url && sameSet(listedCurrent.enabledEvents, p.events) && listedCurrent.status === 'enabled') {
      return { action: 'unchanged', endpointId: listedCurrent.id, warnings };
    }
    return { action: 'update', endpointId: listedCurrent.id, warnings };
  }
  if (p.listed.length >= STRIPE_ENDPOINT_LIMIT) {
    return {
      action: 'refuse',
      refusal: limitRefusal(p.listed, 'registering this integration\'s endpoint', 'Delete an endpoint you no longer use, then run connect again'),
      warnings,
    };
  }
  return { action: 'create', replacesMissing: current ? current.endpointId : null, warnings };
};

export type RollPlan =
  | { readonly action: 'roll'; readonly oldEndpointId: string; readonly deleteOldFirst: boolean; readonly retireAt: Date }
  | { readonly action: 'refuse'; readonly reason: 'not_connected' | 'endpoint_missing' | 'endpoint_limit'; readonly message: string; readonly endpoints?: readonly ListedEndpoint[] };

/**
 * Roll: Stripe's API cannot roll an endpoint's secret (only the Dashboard can), so a new
 * endpoint for the same URL and events takes over, and the old one keeps delivering, its
 * secret accepted, until `retireAt`: both deliver every event meanwhile (the mapper drops the
 * duplicate event ids), and the old one finishes its pending retries. That needs a free slot;
 * a window of 0 replaces the old endpoint at once and then needs none.
 */
export const planRoll = (p: {
  readonly listed: readonly ListedEndpoint[];
  readonly own: readonly OwnEndpoint[];
  /** The integration's current endpoint as Stripe has it (retrieved by id), null when gone. */
  readonly current: ListedEndpoint | null;
  readonly windowSeconds: number;
  readonly now: Date;
}): RollPlan => {
  const current = p.own.find((o) => o.retireAt === null);
  if (!current) return { action: 'refuse', reason: 'not_connected', message: 'sas registered no webhook endpoint for this integration: run `sas stripe connect` first' };
  if (p.current?.id !== current.endpointId) {
    return { action: 'refuse', reason: 'endpoint_missing', message: `the integration's endpoint ${current.endpointId} is gone from Stripe: run \`sas stripe connect\` to register a new one` };
  }
  const retireAt = new Date(p.now.getTime() + p.windowSeconds * 1000);
  const full = p.listed.length >= STRIPE_ENDPOINT_LIMIT;
  if (full && p.windowSeconds > 0) {
    const r = limitRefusal(p.listed, 'a roll with an overlap window (old and new endpoint deliver side by side)',
      'Delete an endpoint you no longer use, or roll with a window of 0 (the old endpoint is deleted first and its secret stops at once; events created in between must be backfilled with `sas backfill`)');
    return { action: 'refuse', reason: 'endpoint_limit', message: r.message, endpoints: r.endpoints };
  }
  return { action: 'roll', oldEndpointId: current.endpointId, deleteOldFirst: full, retireAt };
};

/** Endpoints whose roll window has ended: delete them from Stripe and forget them. */
export const dueForRetirement = (own: readonly OwnEndpoint[], now: Date): string[] =>
  own.filter((o) => o.retireAt !== null && o.retireAt.getTime() <= now.getTime()).map((o) => o.endpointId);

/**
 * Stripe sends connected accounts' events only to a Connect endpoint (`connect: true`), which sas
 * does not register: say how to add one by hand, without expiring the managed endpoint's secret.
 */
export const connectedAccountsWarning = (integrationId: string, accounts: number, url: string): string | null =>
  accounts === 0 ? null
    : `the integration accepts events of ${accounts} connected account${accounts === 1 ? '' : 's'}, which Stripe sends only to a Connect endpoint; ` +
      `sas registers the account's own endpoint only: add one in the Dashboard (Developers → Webhooks → Add endpoint, events on Connected accounts) ` +
      `for ${url} with the same events, then store its signing secret with \`sas secrets add ${integrationId} --secret @env:VAR --keep-others\``;
