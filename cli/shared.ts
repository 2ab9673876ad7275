import pino, { type Logger } from 'pino';
import { ConfigError, loadConfig, loadEnvFile, type Config } from '../config.js';

/** Loads the configuration (with `.env`, if there is one) or prints the one-line reason and returns null. */
export function configOrExit(): Readonly<Config> | null {
  try {
    loadEnvFile();
    return loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(`stadtfunk: configuration error: ${error.message}`);
      return null;
    }
    throw error;
  }
}

export function createLogger(config: Readonly<Config>): Logger {
  return pino({ level: config.logLevel, base: { service: 'stadtfunk' } });
}
