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
    let service;
    try {
      service = await startService(config, log);
    } catch (error) {
      log.fatal({ err: error }, 'start-up failed');
      console.error(`stadtfunk: start-up failed: ${(error as Error).message}`);
      return 1;
    }
    return new Promise<number>((resolve) => {
      const shutdown = (signal: string): void => {
        log.info({ signal }, 'shutting down');
        const timer = setTimeout(() => {
          log.error(`shutdown took longer than ${SHUTDOWN_LIMIT_MS} ms; exiting anyway`);
          process.exit(1);
        }, SHUTDOWN_LIMIT_MS);
        timer.unref();
        service
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
      process.once('SIGINT', () => shutdown('SIGINT'));
      process.once('SIGTERM', () => shutdown('SIGTERM'));
    });
  },
};
