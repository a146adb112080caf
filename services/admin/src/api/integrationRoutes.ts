import type { FastifyPluginAsync } from 'fastify';
import type { AdminDeps } from './app.js';

// Scaffold: routes are added by the issue 7 work (see services/admin/README.md).
export const integrationRoutes: FastifyPluginAsync<AdminDeps> = async () => {};
