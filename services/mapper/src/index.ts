export { startMapper, type RunningMapper } from './service.js';
export { mapperEnv, type MapperConfig } from './config.js';
export { toConversions } from './core/toConversions.js';
