/**
 * For the tests that run `stadtfunk start` as a real child process against an external
 * database and broker (crash, shutdown): the process with its output, LPP devices, and a
 * stream of ChirpStack uplinks for them.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import type pg from 'pg';
import mqtt from 'mqtt';
import { afterAll, beforeAll } from 'vitest';
import { reapAfterRun } from '../bench/reaper.js';
import { upsertDevice, upsertDeviceModel } from '../storage/index.js';
import { createTestDatabase, eventually, uniqueName, type TestDatabase } from './helpers.js';
import { startMosquitto, type TestMosquitto } from './mosquitto.js';

const root = path.resolve(import.meta.dirname, '..');

export interface IngestProcess {
  child: ChildProcess;
  /** Everything it wrote to stdout and stderr so far. */
  output(): string;
  exited: Promise<number | null>;
}

export interface IngestProcessOptions {
  databaseUrl: string;
  mqttUrl: string;
  clientId: string;
  /** ChirpStack topic prefix; the other sources are off. */
  prefix: string;
  httpPort: number;
  logLevel: string;
  /** More environment variables for the service. */
  env?: Record<string, string>;
}

export function startIngestProcess(o: IngestProcessOptions): IngestProcess {
  const child = spawn(process.execPath, [path.join(root, 'bin/stadtfunk.js'), 'start'], {
    cwd: root,
    env: {
      PATH: process.env.PATH ?? '', ENV_FILE: 'off', DATABASE_URL: o.databaseUrl, MQTT_URL: o.mqttUrl, HTTP_PORT: String(o.httpPort), LOG_LEVEL: o.logLevel,
      MQTT_CLIENT_ID: o.clientId, INGEST_CHIRPSTACK_PREFIX: o.prefix, INGEST_TTS_PREFIX: 'off', INGEST_CONCENTRATOR_PREFIXES: 'off',
      // A city profile of its own: the demonstration profile warns at start, and these tests count warnings.
      CITY_NAME: 'Teststadt', CITY_PUBLISHER: 'Stadt Teststadt', CITY_CONTACT_EMAIL: 'opendata@teststadt.example',
      ...o.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  if (child.pid) reapAfterRun({ pid: child.pid, match: 'stadtfunk' });
  let out = '';
  child.stdout?.on('data', (d) => (out += d));
  child.stderr?.on('data', (d) => (out += d));
  return { child, output: () => out, exited: new Promise((resolve) => child.on('exit', (code) => resolve(code))) };
}

/** Healthy means ingest is connected and subscribed (start-up subscribes before the API listens). */
export async function healthy(httpPort: number): Promise<void> {
  await eventually(async () => ((await fetch(`http://127.0.0.1:${httpPort}/health`)).status === 200 ? true : undefined), { timeoutMs: 60_000, intervalMs: 200 });
}

/** Lines logged at warn level or above (pino's JSON lines). */
export function warnings(output: string): string[] {
  return output.split('\n').filter((line) => /"level":(4|5|6)\d/.test(line));
}

/** `count` LPP devices with DevEUIs from `base` up. */
export async function registerLppDevices(pool: pg.Pool, count: number, base: number): Promise<(i: number) => string> {
  const devEui = (i: number): string => (base + i).toString(16).padStart(16, '0');
  await upsertDeviceModel(pool, { id: 'lpp', name: 'LPP', decoderKind: 'builtin', builtinName: 'cayenne-lpp' });
  for (let i = 0; i < count; i++) await upsertDevice(pool, { devEui: devEui(i), modelId: 'lpp' });
  return devEui;
}

/**
 * Publishes `messages` ChirpStack uplinks (QoS 1, at most 200 unacknowledged by the broker)
 * round-robin over `devices`, ids `${idPrefix}-${i}`; resolves with the number the broker
 * acknowledged. Each carries LPP temperature 27.2 °C and humidity 32 %.
 */
export async function publishUplinks(o: { mqttUrl: string; prefix: string; messages: number; devices: number; devEui: (i: number) => string; idPrefix: string }): Promise<number> {
  const publisher = await mqtt.connectAsync(o.mqttUrl, { clientId: uniqueName('pub-'), protocolVersion: 5 });
  const payload = Buffer.from('0367011005670040', 'hex').toString('base64');
  let published = 0;
  const inFlight = new Set<Promise<unknown>>();
  for (let i = 0; i < o.messages; i++) {
    const d = o.devEui(i % o.devices);
    const event = { deduplicationId: `${o.idPrefix}-${i}`, time: new Date(Date.UTC(2026, 10, 24, 0, 0, 0, i)).toISOString(), deviceInfo: { devEui: d }, fCnt: Math.floor(i / o.devices), fPort: 1, data: payload };
    const p: Promise<unknown> = publisher.publishAsync(`${o.prefix}/app/device/${d}/event/up`, JSON.stringify(event), { qos: 1 }).then(() => {
      published++;
      inFlight.delete(p);
    });
    inFlight.add(p);
    if (inFlight.size >= 200) await Promise.race(inFlight);
  }
  await Promise.all(inFlight);
  await publisher.endAsync();
  return published;
}

export interface IngestProcessBench {
  db: TestDatabase;
  broker: TestMosquitto;
  devEui: (i: number) => string;
  /** Starts `stadtfunk start` on this database and broker; killed after the describe block if still running. */
  start(o: { clientId: string; prefix: string; httpPort: number; logLevel: string; env?: Record<string, string> }): IngestProcess;
  /** Uplinks stored. */
  count(): Promise<number>;
}

/**
 * Registers beforeAll/afterAll for a describe block: a fresh database with `devices` LPP
 * devices from DevEUI `base` up, and a private Mosquitto, which keeps an ingest process's
 * session while that process is down (and does not drop QoS 1 messages for it).
 */
export function useIngestProcesses(devices: number, base: number): IngestProcessBench {
  const runs: IngestProcess[] = [];
  const bench = {
    start(o: { clientId: string; prefix: string; httpPort: number; logLevel: string; env?: Record<string, string> }) {
      const run = startIngestProcess({ databaseUrl: bench.db.url, mqttUrl: bench.broker.url, ...o });
      runs.push(run);
      return run;
    },
    count: async () => (await bench.db.pool.query<{ n: number }>('select count(*)::int as n from uplinks')).rows[0]!.n,
  } as IngestProcessBench;
  beforeAll(async () => {
    bench.db = await createTestDatabase();
    bench.broker = await startMosquitto();
    bench.devEui = await registerLppDevices(bench.db.pool, devices, base);
  });
  afterAll(async () => {
    for (const { child } of runs) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await bench.broker?.stop();
    await bench.db?.drop();
  });
  return bench;
}
