import fs from 'node:fs/promises';
import path from 'node:path';
import type { Config } from '../config.js';

/**
 * Where a running stadtfunk's database and broker are, for commands that talk to it
 * from outside (simulate, bench): the configured URLs, or the embedded ones that
 * `stadtfunk start` runs on the configured ports with the password under DATA_DIR.
 */
export async function runningDatabaseUrl(config: Readonly<Config>): Promise<string> {
  if (config.databaseUrl) return config.databaseUrl;
  const file = path.join(config.dataDir, 'postgres.password');
  let password: string;
  try {
    password = (await fs.readFile(file, 'utf8')).trim();
  } catch {
    throw new Error(`no DATABASE_URL and no embedded database under DATA_DIR=${config.dataDir}: start stadtfunk first (npm start) or set DATABASE_URL`);
  }
  return `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${config.embeddedDatabasePort}/stadtfunk`;
}

export function runningMqttUrl(config: Readonly<Config>): string {
  return config.mqttUrl ?? `mqtt://127.0.0.1:${config.embeddedMqttPort}`;
}
