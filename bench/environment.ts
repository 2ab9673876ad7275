/**
 * Where a benchmark runs: DATABASE_URL / MQTT_URL when set (the deployment being
 * measured), otherwise a private embedded PostgreSQL in a temporary directory and a
 * private Mosquitto (or, without the mosquitto binary, an embedded aedes broker).
 * Each run gets a fresh database so results do not depend on earlier runs.
 */
import fs from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Aedes } from 'aedes';
import pg from 'pg';
import pino from 'pino';
import { loadConfig, type Config } from '../config.js';
import { databaseDefaultCollation, startEmbeddedPostgres } from '../storage/index.js';
import { reapAfterRun } from './reaper.js';
import { writeSettings } from './database-activity.js';
import { freePort } from './free-port.js';
import { mosquittoAvailable, startMosquitto } from './mosquitto.js';

export interface BenchEnvironment {
  /** A fresh database for this run. */
  databaseUrl: string;
  mqttUrl: string;
  mqttProtocolVersion: 4 | 5;
  /** `databaseSettings`: the server settings that decide what writing costs it (see database-activity.ts). */
  describe: { database: string; databaseSettings: string; broker: string };
  close(): Promise<void>;
}

export const benchLog = pino({ level: process.env.LOG_LEVEL ?? 'warn' });

export async function benchEnvironment(env: NodeJS.ProcessEnv = process.env): Promise<BenchEnvironment> {
  const cleanups: (() => Promise<unknown>)[] = [];
  let adminUrl = env.DATABASE_URL;
  let databaseDesc = 'external PostgreSQL (DATABASE_URL)';
  if (!adminUrl) {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'stadtfunk-bench-pg-'));
    reapAfterRun({ dir });
    const server = await startEmbeddedPostgres({ dataDir: dir, port: await freePort(), log: benchLog, portVariable: 'bench port' });
    cleanups.push(async () => {
      await server.stop();
      await fs.rm(dir, { recursive: true, force: true });
    });
    adminUrl = server.adminUrl;
    databaseDesc = 'embedded PostgreSQL (private, temporary)';
  }
  const name = `sf_bench_${Date.now().toString(36)}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`create database ${name}`);
  // The database's collation sets what its text keys cost where migration 0008 does not
  // apply (TimescaleDB): part of what a run measured.
  const { rows } = await admin.query<{ database: Record<string, string | null> }>('select to_jsonb(d) as database from pg_database d where datname = $1', [name]);
  databaseDesc += `, default collation ${rows[0] ? databaseDefaultCollation(rows[0].database).collation : 'unknown'}`;
  const databaseSettings = await writeSettings(admin);
  await admin.end();
  cleanups.push(async () => {
    const a = new pg.Client({ connectionString: adminUrl });
    await a.connect();
    await a.query(`drop database if exists ${name} with (force)`);
    await a.end();
  });
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;

  let mqttUrl = env.MQTT_URL;
  let protocol: 4 | 5 = 5;
  let brokerDesc = 'external MQTT broker (MQTT_URL)';
  if (!mqttUrl) {
    if (mosquittoAvailable()) {
      const broker = await startMosquitto();
      cleanups.push(() => broker.stop());
      mqttUrl = broker.url;
      brokerDesc = 'private Mosquitto (max_queued_messages 1000000, max_inflight_messages 0)';
    } else {
      const broker = await Aedes.createBroker();
      const server = net.createServer(broker.handle);
      const port = await freePort();
      await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
      cleanups.push(async () => {
        await new Promise<void>((resolve) => broker.close(() => resolve()));
        await new Promise<void>((resolve) => server.close(() => resolve()));
      });
      mqttUrl = `mqtt://127.0.0.1:${port}`;
      protocol = 4;
      brokerDesc = 'aedes (no mosquitto binary found)';
    }
  }
  let closing: Promise<void> | null = null;
  const close = (): Promise<void> =>
    (closing ??= (async () => {
      process.removeListener('SIGINT', onSignal);
      process.removeListener('SIGTERM', onSignal);
      for (const c of cleanups.reverse()) await c().catch(() => undefined);
    })());
  // Ctrl-C during a run: stop the private servers and drop the database before leaving
  // (the embedded PostgreSQL runs in a process group of its own and does not get the signal).
  const onSignal = (signal: NodeJS.Signals): void => {
    console.error(`\nbench: ${signal}, stopping the private servers`);
    void close().finally(() => process.exit(signal === 'SIGINT' ? 130 : 143));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  return {
    databaseUrl: url.toString(),
    mqttUrl,
    mqttProtocolVersion: protocol,
    describe: { database: databaseDesc, databaseSettings, broker: brokerDesc },
    close,
  };
}

/** Prints a two-column table of results. */
export function printTable(title: string, rows: [string, string | number][]): void {
  const width = Math.max(...rows.map(([k]) => k.length));
  console.log(`\n${title}`);
  for (const [k, v] of rows) console.log(`  ${k.padEnd(width)}  ${typeof v === 'number' ? formatNumber(v) : v}`);
}

export function formatNumber(v: number): string {
  return Math.abs(v) >= 100 ? Math.round(v).toLocaleString('en-US') : v.toFixed(2);
}

export async function writeJson(file: string | undefined, value: unknown): Promise<void> {
  if (!file) return;
  await fs.mkdir(path.dirname(path.resolve(file)), { recursive: true });
  await fs.writeFile(file, JSON.stringify(value, null, 2) + '\n');
}

/** Percentile of a sorted array (nearest rank). */
export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

/**
 * Service configuration for a benchmark on this environment: its database and broker, any
 * free HTTP port, all sources off unless the benchmark turns one on in `overrides`.
 */
export function benchServiceConfig(env: BenchEnvironment, overrides: Record<string, string>): Readonly<Config> {
  return loadConfig(benchServiceEnv(env, overrides));
}

/** The environment variables behind benchServiceConfig, for a service in a child process. */
export function benchServiceEnv(env: BenchEnvironment, overrides: Record<string, string>): Record<string, string> {
  return {
    DATABASE_URL: env.databaseUrl,
    MQTT_URL: env.mqttUrl,
    MQTT_PROTOCOL_VERSION: String(env.mqttProtocolVersion),
    HTTP_PORT: '0',
    LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn',
    MQTT_CLIENT_ID: `stadtfunk-bench-${process.pid}`,
    INGEST_CHIRPSTACK_PREFIX: 'off',
    INGEST_TTS_PREFIX: 'off',
    INGEST_CONCENTRATOR_PREFIXES: 'off',
    ...overrides,
  };
}
