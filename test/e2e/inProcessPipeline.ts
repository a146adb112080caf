import { createLogger, loadConfig, type Logger } from '@sas/runtime';
import { serviceEnv } from '@sas/testkit';
import { ingestEnv, startIngest, type RunningIngest } from '@sas/ingest';
import { mapperEnv, startMapper } from '@sas/mapper';
import { schedulerEnv, startScheduler } from '@sas/scheduler';
import { dispatcherEnv, startDispatcher } from '@sas/dispatcher';

export interface InProcessPipeline {
  readonly ingest: RunningIngest;
  readonly log: Logger;
  stop(): Promise<void>;
}

/**
 * The four services in this test process, on a private topic prefix and ephemeral ports: the
 * whole path from webhook to partner, with the real stack. Integrations are the caller's.
 */
export const startInProcessPipeline = async (prefix: string, name: string, extra: Record<string, string> = {}): Promise<InProcessPipeline> => {
  const env = serviceEnv(prefix, { INGEST_PORT: '0', MAPPER_HEALTH_PORT: '0', SCHEDULER_HEALTH_PORT: '0', DISPATCHER_HEALTH_PORT: '0', ...extra });
  const log = createLogger(name, env.LOG_LEVEL);
  const ingest = await startIngest(loadConfig(ingestEnv, env), log.child({ service: 'ingest' }));
  const services = await Promise.all([
    startMapper(loadConfig(mapperEnv, env), log.child({ service: 'mapper' })),
    startScheduler(loadConfig(schedulerEnv, env), log.child({ service: 'scheduler' })),
    startDispatcher(loadConfig(dispatcherEnv, env), log.child({ service: 'dispatcher' })),
  ]);
  return {
    ingest, log,
    stop: async () => {
      await Promise.all(services.map((s) => s.stop()));
      await ingest.stop();
    },
  };
};
