import Fastify, { type FastifyInstance } from 'fastify';

/**
 * The small HTTP face of a worker service: /healthz says the process is up, /readyz runs
 * the given checks (Kafka, PostgreSQL, ...) and answers 503 naming the one that failed.
 */
export const createHealthServer = (checks: Record<string, () => Promise<unknown>>): FastifyInstance => {
  const app = Fastify({ logger: false });
  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_req, reply) => {
    const results = await Promise.all(
      Object.entries(checks).map(async ([name, check]) => {
        try {
          await check();
          return [name, 'ok'] as const;
        } catch (err) {
          return [name, err instanceof Error ? err.message : String(err)] as const;
        }
      }),
    );
    const failed = results.some(([, r]) => r !== 'ok');
    return reply.code(failed ? 503 : 200).send({ status: failed ? 'unready' : 'ready', checks: Object.fromEntries(results) });
  });
  return app;
};
