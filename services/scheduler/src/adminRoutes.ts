import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyPluginAsync } from 'fastify';
import { encodeCursor, parseHeldQuery } from './core/heldQuery.js';
import type { HoldStore, UnknownSelector } from './adapters/holdStore.js';
import type { SchedulerMetrics } from './metrics.js';

const digest = (s: string) => createHash('sha256').update(s).digest();

/** Operator API under /admin: list held conversions, release one now, cancel one; every action audited. */
export const adminRoutes: FastifyPluginAsync<{ store: HoldStore; token: string | undefined; metrics: SchedulerMetrics }> = async (app, o) => {
  const expected = o.token ? digest(o.token) : null;
  app.addHook('onRequest', async (req, reply) => {
    if (!expected) return reply.code(503).send({ error: 'operator API disabled: set SCHEDULER_ADMIN_TOKEN' });
    const m = /^Bearer (.+)$/.exec(req.headers.authorization ?? '');
    if (!m || !timingSafeEqual(digest(m[1]!), expected)) {
      return reply.code(401).header('www-authenticate', 'Bearer').send({ error: 'missing or wrong bearer token' });
    }
  });
  const actorOf = (headers: Record<string, unknown>, body: { actor?: unknown } | undefined): string => {
    const a = typeof body?.actor === 'string' ? body.actor : typeof headers['x-operator'] === 'string' ? headers['x-operator'] : 'unknown';
    return a.slice(0, 200);
  };

  app.get('/held', async (req, reply) => {
    const parsed = parseHeldQuery(req.query as Record<string, string>);
    if (!parsed.ok) return reply.code(400).send({ error: parsed.error });
    const items = await o.store.list(parsed.value);
    const last = items.at(-1);
    const nextCursor = items.length === parsed.value.limit && last ? encodeCursor(Date.parse(last.notBefore), last.conversionId) : null;
    return { items, nextCursor };
  });

  app.get<{ Params: { id: string } }>('/held/:id', async (req, reply) => {
    const found = await o.store.get(req.params.id);
    return found ?? reply.code(404).send({ error: 'no such held conversion' });
  });

  const act = (action: 'release_now' | 'cancel') => async (
    req: { params: { id: string }; body: unknown; headers: Record<string, unknown> },
    reply: { code: (n: number) => { send: (b: unknown) => unknown } },
  ) => {
    const body = (req.body && typeof req.body === 'object' ? req.body : {}) as { reason?: unknown; actor?: unknown };
    const reason = typeof body.reason === 'string' && body.reason.trim() !== '' ? body.reason.trim().slice(0, 1000) : null;
    if (action === 'cancel' && !reason) return reply.code(400).send({ error: 'a cancel needs a reason' });
    const r = await o.store.operate(req.params.id, action, actorOf(req.headers, body), reason);
    if (r.outcome === 'not_found') return reply.code(404).send({ error: 'no such held conversion' });
    o.metrics.operatorActions.inc({ action, outcome: r.outcome });
    if (r.outcome === 'refused') return reply.code(409).send({ error: `conversion is ${r.row.state}, not held`, conversion: r.row });
    // release_now: the lane picks it up on its next claim (within RELEASE_INTERVAL_MS).
    return reply.code(action === 'cancel' ? 200 : 202).send({ conversion: r.row });
  };
  app.post<{ Params: { id: string } }>('/held/:id/release', act('release_now') as never);
  app.post<{ Params: { id: string } }>('/held/:id/cancel', act('cancel') as never);

  // Rows whose release is unknown (marker lost): the operator checks conversions.due.v1 and
  // says `released` (they are there) or `held` (they are not: the lane sends them again).
  const resolve = (selectorOf: (params: Record<string, string>) => UnknownSelector | string) => async (
    req: { params: Record<string, string>; body: unknown; headers: Record<string, unknown> },
    reply: { code: (n: number) => { send: (b: unknown) => unknown } },
  ) => {
    const sel = selectorOf(req.params);
    if (typeof sel === 'string') return reply.code(400).send({ error: sel });
    const body = (req.body && typeof req.body === 'object' ? req.body : {}) as { as?: unknown; reason?: unknown; actor?: unknown };
    if (body.as !== 'released' && body.as !== 'held') return reply.code(400).send({ error: 'as must be "released" (it is in conversions.due.v1) or "held" (it is not: send it)' });
    const reason = typeof body.reason === 'string' ? body.reason.trim().slice(0, 1000) : '';
    if (!reason) return reply.code(400).send({ error: 'a resolve needs a reason' });
    const action = body.as === 'released' ? 'resolve_released' : 'resolve_held';
    const r = await o.store.resolveUnknown(sel, body.as, actorOf(req.headers, body), reason);
    if (r.outcome === 'not_found') return reply.code(404).send({ error: 'no such held conversion or batch' });
    o.metrics.operatorActions.inc({ action, outcome: r.outcome });
    if (r.outcome === 'refused') return reply.code(409).send({ error: `nothing there is unknown (state: ${r.states.join(', ')})` });
    return reply.code(200).send({ resolved: r.conversionIds, as: body.as });
  };
  app.post<{ Params: { id: string } }>('/held/:id/resolve', resolve((p) => ({ conversionId: p.id! })) as never);
  app.post<{ Params: { lane: string; seq: string } }>('/lanes/:lane/batches/:seq/resolve', resolve((p) => {
    const lane = Number(p.lane);
    const seq = Number(p.seq);
    if (!Number.isInteger(lane) || lane < 0 || !Number.isInteger(seq) || seq < 1) return 'lane and seq must be the integers shown as lane and releaseSeq';
    return { lane, seq };
  }) as never);

  app.get('/actions', async (req, reply) => {
    const q = req.query as { conversionId?: string; limit?: string };
    const limit = q.limit ? Number(q.limit) : 100;
    if (!Number.isInteger(limit) || limit < 1 || limit > 500) return reply.code(400).send({ error: 'limit must be an integer from 1 to 500' });
    return { items: await o.store.actions(q.conversionId || null, limit) };
  });
};
