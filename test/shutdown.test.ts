/**
 * An ordered stop on SIGTERM with DATABASE_URL and MQTT_URL set, while uplinks arrive:
 * the service stops taking messages, commits and acknowledges what it took, closes its
 * connections and exits 0. The next start takes the rest; every uplink is stored once.
 * Needs a broker that keeps the session between the two runs: a private Mosquitto.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { upsertDevice, upsertDeviceModel } from '../storage/index.js';
import { freePort } from './global-setup.js';
import { createTestDatabase, eventually, uniqueName, type TestDatabase } from './helpers.js';
import { mosquittoAvailable, startMosquitto, type TestMosquitto } from './mosquitto.js';

const root = path.resolve(import.meta.dirname, '..');
const MESSAGES = 20_000;
const DEVICES = 50;
const hasMosquitto = mosquittoAvailable();
if (!hasMosquitto) console.warn('SKIPPED shutdown test: no mosquitto binary on this machine (it needs a broker that keeps the session between two runs)');

function devEui(i: number): string {
  return (0xb0000000 + i).toString(16).padStart(16, '0');
}

interface Run {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

describe.skipIf(!hasMosquitto)('SIGTERM in the middle of traffic, external database and broker', () => {
  let db: TestDatabase;
  let broker: TestMosquitto;
  const runs: Run[] = [];

  beforeAll(async () => {
    db = await createTestDatabase();
    broker = await startMosquitto();
    await upsertDeviceModel(db.pool, { id: 'lpp', name: 'LPP', decoderKind: 'builtin', builtinName: 'cayenne-lpp' });
    for (let i = 0; i < DEVICES; i++) await upsertDevice(db.pool, { devEui: devEui(i), modelId: 'lpp' });
  });
  afterAll(async () => {
    for (const { child } of runs) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await broker?.stop();
    await db?.drop();
  });

  function start(clientId: string, prefix: string, httpPort: number): Run {
    const child = spawn(process.execPath, [path.join(root, 'bin/stadtfunk.js'), 'start'], {
      cwd: root,
      env: {
        PATH: process.env.PATH ?? '', DATABASE_URL: db.url, MQTT_URL: broker.url, HTTP_PORT: String(httpPort), LOG_LEVEL: 'info',
        MQTT_CLIENT_ID: clientId, INGEST_CHIRPSTACK_PREFIX: prefix, INGEST_TTS_PREFIX: 'off', INGEST_CONCENTRATOR_PREFIXES: 'off',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout?.on('data', (d) => (out += d));
    child.stderr?.on('data', (d) => (out += d));
    const run = { child, output: () => out, exited: new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code))) };
    runs.push(run);
    return run;
  }

  const healthy = (port: number): Promise<boolean> =>
    eventually(async () => ((await fetch(`http://127.0.0.1:${port}/health`)).status === 200 ? true : undefined), { timeoutMs: 60_000, intervalMs: 200 });
  const count = async (): Promise<number> => (await db.pool.query<{ n: number }>('select count(*)::int as n from uplinks')).rows[0]!.n;

  it('commits what it took, exits 0, and the next start stores the rest once', async () => {
    const prefix = `${uniqueName('t')}/application`;
    const clientId = uniqueName('ingest-');
    const httpPort = await freePort();
    const first = start(clientId, prefix, httpPort);
    await healthy(httpPort);

    const publisher = await mqtt.connectAsync(broker.url, { clientId: uniqueName('pub-'), protocolVersion: 5 });
    const payload = Buffer.from('0367011005670040', 'hex').toString('base64'); // LPP: temperature 27.2 °C, humidity 32 %
    const publishAll = (async () => {
      const inFlight = new Set<Promise<unknown>>();
      for (let i = 0; i < MESSAGES; i++) {
        const d = devEui(i % DEVICES);
        const event = { deduplicationId: `stop-${i}`, time: new Date(Date.UTC(2026, 11, 2, 0, 0, 0, i)).toISOString(), deviceInfo: { devEui: d }, fCnt: Math.floor(i / DEVICES), fPort: 1, data: payload };
        const p: Promise<unknown> = publisher.publishAsync(`${prefix}/app/device/${d}/event/up`, JSON.stringify(event), { qos: 1 }).then(() => inFlight.delete(p));
        inFlight.add(p);
        if (inFlight.size >= 200) await Promise.race(inFlight);
      }
      await Promise.all(inFlight);
    })();

    await eventually(async () => ((await count()) >= 500 ? true : undefined), { timeoutMs: 60_000, intervalMs: 20 });
    const stopAsked = Date.now();
    first.child.kill('SIGTERM');
    expect(await first.exited).toBe(0);
    expect(Date.now() - stopAsked).toBeLessThan(10_000);
    expect(first.output()).toContain('stopped cleanly');
    expect(first.output().split('\n').filter((line) => /"level":(4|5|6)\d/.test(line))).toEqual([]);
    const atStop = await count();
    expect(atStop).toBeLessThan(MESSAGES);

    const second = start(clientId, prefix, httpPort);
    await healthy(httpPort);
    await publishAll;
    await publisher.endAsync();
    await eventually(async () => ((await count()) >= MESSAGES ? true : undefined), { timeoutMs: 120_000, intervalMs: 100 });
    const r = await db.pool.query<{ n: number; distinct_ids: number }>('select count(*)::int as n, count(distinct id)::int as distinct_ids from uplinks');
    expect(r.rows[0]).toEqual({ n: MESSAGES, distinct_ids: MESSAGES });
    second.child.kill('SIGTERM');
    expect(await second.exited).toBe(0);
  }, 240_000);
});
