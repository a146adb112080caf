export { startMapper, type RunningMapper } from './service.js';
export { mapperEnv, type MapperConfig } from './config.js';
export { toConversions } from './core/toConversions.js';
// For `sas replay events --dry-run`: the mapping, read-only (nothing is committed).
export { handleBatch, type RawRecord } from './handleBatch.js';
export { createMapperStore } from './adapters/mapperStore.js';
export { createEnricher } from './adapters/stripeApi.js';
