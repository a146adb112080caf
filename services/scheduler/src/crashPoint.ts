import type { Logger } from '@sas/runtime';
import type { CrashPoint } from './config.js';

/**
 * Test hook for the kill tests: SCHEDULER_CRASH_AT=<step> SIGKILLs the process the n-th time
 * that step is reached, so a test can stop the scheduler between any two steps of a release.
 * Unset (production), it does nothing.
 */
export const createCrashPoint = (at: CrashPoint | undefined, after: number, log: Logger) => {
  let seen = 0;
  return (point: CrashPoint): void => {
    if (point !== at || ++seen < after) return;
    log.fatal({ crashPoint: point }, 'crash point reached: SIGKILL');
    process.kill(process.pid, 'SIGKILL');
  };
};
export type Crash = ReturnType<typeof createCrashPoint>;
