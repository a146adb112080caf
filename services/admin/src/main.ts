import { createFrameRewriter, createLogger, createPool, createSecretBox, loadConfig, migrate, onShutdown, parseKey } from '@sas/runtime';
import { adminEnv } from './config.js';
import { buildAdminApp } from './api/app.js';

const config = loadConfig(adminEnv);
const log = createLogger('admin', config.LOG_LEVEL);
await migrate(config.DATABASE_URL, log);
const pool = createPool(config.DATABASE_URL, 4);
const box = createSecretBox(
  parseKey(config.SECRETS_KEY),
  config.SECRETS_KEY_PREVIOUS ? [parseKey(config.SECRETS_KEY_PREVIOUS, 'SECRETS_KEY_PREVIOUS')] : [],
);
const app = await buildAdminApp({ pool, box, log, config, frames: createFrameRewriter(config.SCHEMA_REGISTRY_URL) });
const address = await app.listen({ host: config.ADMIN_HOST, port: config.ADMIN_PORT });
log.info({ address, openapi: `${address}/openapi.json` }, 'admin API listening');
onShutdown(log, async () => { await app.close(); await pool.end(); });
