import { createLogger, loadConfig, onShutdown } from '@sas/runtime';
import { ingestEnv } from './config.js';
import { startIngest } from './service.js';

const config = loadConfig(ingestEnv);
const log = createLogger('ingest', config.LOG_LEVEL);
const ingest = await startIngest(config, log);
onShutdown(log, ingest.stop);
