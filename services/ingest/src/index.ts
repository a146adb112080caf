export { startIngest, type RunningIngest } from './service.js';
export { ingestEnv, type IngestConfig } from './config.js';
export { verifyWebhook } from './core/verifyWebhook.js';
