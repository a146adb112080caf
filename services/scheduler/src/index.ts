export { startScheduler, type RunningScheduler } from './service.js';
export { schedulerEnv, type SchedulerConfig } from './config.js';
