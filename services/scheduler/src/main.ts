import { createLogger, loadConfig, onShutdown } from '@sas/runtime';
import { schedulerEnv } from './config.js';
import { startScheduler } from './service.js';

const config = loadConfig(schedulerEnv);
const log = createLogger('scheduler', config.LOG_LEVEL);
const scheduler = await startScheduler(config, log);
onShutdown(log, scheduler.stop);
