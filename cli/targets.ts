import fs from 'node:fs/promises';
import path from 'node:path';
import type pg from 'pg';
import pino from 'pino';
import type { Config } from '../config.js';
import { openDatabase } from '../service.js';
import { closePool, createPool, migrate } from '../storage/index.js';

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

/**
 * A database for a one-off command: the configured one; else the embedded cluster of a
 * stadtfunk that is running now (never stop it under its feet); else the embedded
 * cluster started just for this command and stopped after it.
 */
export async function commandDatabase(config: Readonly<Config>): Promise<{ pool: pg.Pool; close(): Promise<void> }> {
  const log = pino({ level: 'warn' });
  if (!config.databaseUrl && (await embeddedIsRunning(config))) {
    const pool = createPool({ url: await runningDatabaseUrl(config), log });
    await migrate(pool);
    return { pool, close: () => pool.end() };
  }
  const db = await openDatabase(config, log);
  return {
    pool: db.pool,
    async close() {
      await closePool(db.pool);
      await db.embedded?.stop();
    },
  };
}

async function embeddedIsRunning(config: Readonly<Config>): Promise<boolean> {
  try {
    const pid = Number((await fs.readFile(path.join(config.dataDir, 'postgres', 'postmaster.pid'), 'utf8')).split('\n')[0]);
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
