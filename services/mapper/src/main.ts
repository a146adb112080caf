import { createLogger, loadConfig, onShutdown } from '@sas/runtime';
import { mapperEnv } from './config.js';
import { startMapper } from './service.js';

const config = loadConfig(mapperEnv);
const log = createLogger('mapper', config.LOG_LEVEL);
const mapper = await startMapper(config, log);
onShutdown(log, mapper.stop);
