export { buildAdminApp, type AdminDeps } from './api/app.js';
export { adminEnv, type AdminConfig } from './config.js';
