import { createLogger, loadConfig, onShutdown } from '@sas/runtime';
import { dispatcherEnv } from './config.js';
import { startDispatcher } from './service.js';

const config = loadConfig(dispatcherEnv);
const log = createLogger('dispatcher', config.LOG_LEVEL);
const dispatcher = await startDispatcher(config, log);
onShutdown(log, dispatcher.stop);
