/** The baseline: a bare fastify route that only parses the same JSON body and answers 200. */
import Fastify from 'fastify';

const app = Fastify({ logger: false, bodyLimit: 1024 * 1024 });
app.post('/webhooks/stripe/:integrationId', async (req) => ({ received: true, id: (req.body as { id?: string }).id }));
await app.listen({ host: '127.0.0.1', port: Number(process.env.PORT ?? 3199) });
process.send?.('ready');
