import type { Command } from './main.js';
import { configOrExit, createLogger } from './shared.js';
import { startService } from '../service.js';

/** Hard limit for a clean shutdown after SIGINT/SIGTERM. */
const SHUTDOWN_LIMIT_MS = 10_000;

export const startCommand: Command = {
  summary: 'Run the service: database, broker, ingest and HTTP API (embedded database and broker unless DATABASE_URL / MQTT_URL are set).',
  usage: 'usage: stadtfunk start',
  async run() {
    const config = configOrExit();
    if (!config) return 1;
    const log = createLogger(config);
    // A signal while start-up waits for the database or broker ends the wait; one later in
    // start-up (migrations…) is answered with a clean stop once the service is up.
    const starting = new AbortController();
    let signalled: string | null = null;
    const duringStart = (signal: string): void => {
      signalled = signal;
      log.info({ signal }, 'stopping during start-up');
      starting.abort();
    };
    const onStartInt = (): void => duringStart('SIGINT');
    const onStartTerm = (): void => duringStart('SIGTERM');
    process.once('SIGINT', onStartInt);
    process.once('SIGTERM', onStartTerm);
    let service;
    try {
      service = await startService(config, log, { signal: starting.signal });
    } catch (error) {
      if (starting.signal.aborted && (error as Error).name === 'AbortError') {
        log.info('stopped while start-up waited');
        return 0;
      }
      log.fatal({ err: error }, 'start-up failed');
      console.error(`stadtfunk: start-up failed: ${(error as Error).message}`);
      return 1;
    } finally {
      process.off('SIGINT', onStartInt);
      process.off('SIGTERM', onStartTerm);
    }
    const started = service;
    return new Promise<number>((resolve) => {
      const shutdown = (signal: string): void => {
        log.info({ signal }, 'shutting down');
        const timer = setTimeout(() => {
          log.error(`shutdown took longer than ${SHUTDOWN_LIMIT_MS} ms; exiting anyway`);
          process.exit(1);
        }, SHUTDOWN_LIMIT_MS);
        timer.unref();
        started
          .stop()
          .then(() => {
            log.info('stopped cleanly');
            resolve(0);
          })
          .catch((error) => {
            log.error({ err: error }, 'shutdown failed');
            resolve(1);
          });
      };
      if (signalled) return shutdown(signalled);
      process.once('SIGINT', () => shutdown('SIGINT'));
      process.once('SIGTERM', () => shutdown('SIGTERM'));
    });
  },
};
