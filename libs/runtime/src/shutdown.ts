import type { Logger } from './logger.js';

/** Run `stop` once on SIGTERM/SIGINT, then exit 0 (or 1 if stopping failed). */
export const onShutdown = (log: Logger, stop: () => Promise<void>): void => {
  let stopping = false;
  const handler = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'shutting down');
    stop().then(
      () => process.exit(0),
      (err) => {
        log.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', () => handler('SIGTERM'));
  process.once('SIGINT', () => handler('SIGINT'));
};
