export { startDispatcher, type RunningDispatcher } from './service.js';
export { dispatcherEnv, type DispatcherConfig } from './config.js';
export { impactRequest } from './core/partners/impact.js';
export { signWebhook, webhookKeyBytes } from './core/partners/webhook.js';
export { planDispatch } from './core/buildRequest.js';
