import type { FastifyError, FastifyInstance } from 'fastify';
import type { Logger } from '@sas/runtime';

/** A request the API refuses: its status, a stable code and a message naming the field or object. */
export class AdminError extends Error {
  override readonly name = 'AdminError';
  constructor(readonly statusCode: 400 | 403 | 404 | 409, readonly code: string, message: string, readonly problems?: readonly string[]) {
    super(message);
  }
}

export const notFound = (what: string) => new AdminError(404, 'not_found', `${what} does not exist`);
export const conflict = (what: string) => new AdminError(409, 'conflict', `${what} exists already`);
export const invalid = (problems: readonly string[]) => new AdminError(400, 'invalid', problems.join('; '), problems);

interface AjvIssue { instancePath?: string; keyword: string; message?: string; params?: Record<string, unknown> }

/** ajv's errors, each naming its field: `body.settings is required`, `body.refundHoldSeconds must be >= 0`. */
export const validationProblems = (context: string, issues: readonly AjvIssue[]): string[] =>
  issues.map((i) => {
    const path = `${context}${(i.instancePath ?? '').replaceAll('/', '.')}`;
    if (i.keyword === 'required') return `${path}.${String(i.params?.missingProperty)} is required`;
    if (i.keyword === 'additionalProperties') return `${path}.${String(i.params?.additionalProperty)} is not a known field`;
    if (i.keyword === 'enum') return `${path} must be one of ${(i.params?.allowedValues as unknown[] | undefined)?.join(', ') ?? '?'}`;
    return `${path} ${i.message ?? 'is invalid'}`;
  });

/** One JSON error shape for this plugin's routes: {error, message, problems?}. */
export const installErrorHandler = (app: FastifyInstance, log: Logger): void => {
  app.setErrorHandler((err: FastifyError, req, reply) => {
    if (err instanceof AdminError) {
      return reply.code(err.statusCode).send({ error: err.code, message: err.message, ...(err.problems ? { problems: err.problems } : {}) });
    }
    if (err.validation) {
      const problems = validationProblems(err.validationContext ?? 'request', err.validation as AjvIssue[]);
      return reply.code(400).send({ error: 'invalid', message: problems.join('; '), problems });
    }
    if (err.statusCode && err.statusCode >= 400 && err.statusCode < 500) {
      return reply.code(err.statusCode).send({ error: 'bad_request', message: err.message });
    }
    // Only the message and route: request bodies carry secrets.
    log.error({ err: { name: err.name, message: err.message }, method: req.method, url: req.routeOptions.url }, 'admin request failed');
    return reply.code(500).send({ error: 'internal', message: 'internal error (see the admin service log)' });
  });
};
