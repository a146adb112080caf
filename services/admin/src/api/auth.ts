import { timingSafeEqual, createHash } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';

const digest = (s: string) => createHash('sha256').update(s).digest();

/** Constant-time bearer check (hashes first, so lengths leak nothing). */
export const bearerAuth = (token: string) => {
  const expected = digest(token);
  return async (req: FastifyRequest, reply: FastifyReply) => {
    const header = req.headers.authorization ?? '';
    const given = header.startsWith('Bearer ') ? header.slice(7) : '';
    if (!given || !timingSafeEqual(digest(given), expected)) {
      return reply.code(401).send({ error: 'unauthorized', message: 'send Authorization: Bearer <ADMIN_TOKEN>' });
    }
  };
};
