import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import type { Db } from '../integrations/store.js';
import type { AdminDeps } from './app.js';
import { auditEntrySchema } from './schemas.js';

export interface AuditEntry {
  readonly actor: string;
  readonly action: string;
  readonly integrationId: string | null;
  readonly target: string | null;
  /** The object before and after the change, secrets already replaced by "(write-only)". */
  readonly before: unknown;
  readonly after: unknown;
}

/** Who made the change: the CLI sends X-Actor ($USER); other callers are "admin-api". */
export const actorOf = (req: FastifyRequest): string => {
  const h = req.headers['x-actor'];
  const v = (Array.isArray(h) ? h[0] : h)?.trim().slice(0, 200);
  return v ? v : 'admin-api';
};

/** Written in the caller's transaction, so a change and its audit row commit together. */
export const writeAudit = async (db: Db, e: AuditEntry): Promise<void> => {
  await db.query(
    `INSERT INTO admin_audit (actor, action, integration_id, target, before, after) VALUES ($1, $2, $3, $4, $5, $6)`,
    [e.actor, e.action, e.integrationId, e.target, e.before === undefined ? null : JSON.stringify(e.before), e.after === undefined ? null : JSON.stringify(e.after)],
  );
};

interface AuditRow { id: string; at: Date; actor: string; action: string; integration_id: string | null; target: string | null; before: unknown; after: unknown }

export const auditRoutes: FastifyPluginAsync<AdminDeps> = async (app, deps) => {
  app.get<{ Querystring: { integrationId?: string; limit?: number } }>('/audit', {
    schema: {
      summary: 'The audit trail, newest first',
      tags: ['audit'],
      querystring: {
        type: 'object',
        additionalProperties: false,
        properties: {
          integrationId: { type: 'string', minLength: 1 },
          limit: { type: 'integer', minimum: 1, maximum: 1000, default: 100 },
        },
      },
      response: { 200: { type: 'object', properties: { entries: { type: 'array', items: auditEntrySchema } } } },
    },
  }, async (req) => {
    const { rows } = await deps.pool.query<AuditRow>(
      `SELECT id, at, actor, action, integration_id, target, before, after FROM admin_audit
        WHERE ($1::text IS NULL OR integration_id = $1) ORDER BY id DESC LIMIT $2`,
      [req.query.integrationId ?? null, req.query.limit ?? 100],
    );
    return {
      entries: rows.map((r) => ({
        id: String(r.id), at: r.at.toISOString(), actor: r.actor, action: r.action,
        integrationId: r.integration_id, target: r.target, before: r.before, after: r.after,
      })),
    };
  });
};
