import { timingSafeEqual, createHash } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';

const digest = (s: string) => createHash('sha256').update(s).digest();

/** operator: ADMIN_TOKEN, every route; viewer: ADMIN_VIEWER_TOKEN, reading only. */
export type AdminRole = 'operator' | 'viewer';

const READ_METHODS = new Set(['GET', 'HEAD']);

/**
 * Constant-time bearer check (hashes first, so lengths leak nothing). A viewer token may read;
 * a change (erasure included) with it is refused with 403, naming the role it needs.
 */
export const bearerAuth = (token: string, viewerToken?: string) => {
  const expected = digest(token);
  const viewer = viewerToken ? digest(viewerToken) : null;
  return async (req: FastifyRequest, reply: FastifyReply) => {
    const header = req.headers.authorization ?? '';
    const given = header.startsWith('Bearer ') ? header.slice(7) : '';
    const d = given ? digest(given) : null;
    const role: AdminRole | null = d && timingSafeEqual(d, expected) ? 'operator' : d && viewer && timingSafeEqual(d, viewer) ? 'viewer' : null;
    if (!role) {
      return reply.code(401).send({ error: 'unauthorized', message: 'send Authorization: Bearer <ADMIN_TOKEN>' });
    }
    if (role === 'viewer' && !READ_METHODS.has(req.method)) {
      return reply.code(403).send({
        error: 'forbidden', message: `this token has the viewer role: ${req.method} ${req.routeOptions.url ?? req.url} needs the operator role (ADMIN_TOKEN); nothing was changed`,
      });
    }
  };
};
