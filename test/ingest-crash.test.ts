/**
 * Nothing lost, nothing doubled: an ingest process killed with SIGKILL in the middle
 * of 50,000 messages, then restarted, stores every message exactly once. Needs an
 * MQTT broker that keeps the session while ingest is dead: a private Mosquitto.
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
const MESSAGES = 50_000;
const DEVICES = 200;
const hasMosquitto = mosquittoAvailable();
if (!hasMosquitto) console.warn('SKIPPED ingest crash test: no mosquitto binary on this machine (it needs a broker that outlives the ingest process)');

function devEui(i: number): string {
  return (0xa0000000 + i).toString(16).padStart(16, '0');
}

describe.skipIf(!hasMosquitto)('ingest killed with SIGKILL mid-run', () => {
  let db: TestDatabase;
  let broker: TestMosquitto;
  const children: ChildProcess[] = [];

  beforeAll(async () => {
    db = await createTestDatabase();
    broker = await startMosquitto();
    await upsertDeviceModel(db.pool, { id: 'lpp', name: 'LPP', decoderKind: 'builtin', builtinName: 'cayenne-lpp' });
    for (let i = 0; i < DEVICES; i++) await upsertDevice(db.pool, { devEui: devEui(i), modelId: 'lpp' });
  });
  afterAll(async () => {
    for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
    await broker?.stop();
    await db?.drop();
  });

  function startIngest(clientId: string, prefix: string, httpPort: number): ChildProcess {
    const child = spawn(process.execPath, [path.join(root, 'bin/stadtfunk.js'), 'start'], {
      cwd: root,
      env: {
        PATH: process.env.PATH ?? '', DATABASE_URL: db.url, MQTT_URL: broker.url, HTTP_PORT: String(httpPort), LOG_LEVEL: 'warn',
        MQTT_CLIENT_ID: clientId, INGEST_CHIRPSTACK_PREFIX: prefix, INGEST_TTS_PREFIX: 'off', INGEST_CONCENTRATOR_PREFIXES: 'off',
      },
      stdio: ['ignore', 'inherit', 'inherit'],
    });
    children.push(child);
    return child;
  }

  const count = async (): Promise<number> => (await db.pool.query<{ n: number }>('select count(*)::int as n from uplinks')).rows[0]!.n;

  it('stores every message exactly once', async () => {
    const prefix = `${uniqueName('t')}/application`;
    const clientId = uniqueName('ingest-');
    const httpPort = await freePort();
    const first = startIngest(clientId, prefix, httpPort);
    // Healthy means the ingest is connected and subscribed (start-up subscribes before the API listens).
    await eventually(async () => ((await fetch(`http://127.0.0.1:${httpPort}/health`)).status === 200 ? true : undefined), { timeoutMs: 60_000, intervalMs: 200 });

    const publisher = await mqtt.connectAsync(broker.url, { clientId: uniqueName('pub-'), protocolVersion: 5 });
    const payload = Buffer.from('0367011005670040', 'hex').toString('base64');
    let published = 0;
    const publishAll = (async () => {
      const inFlight = new Set<Promise<unknown>>();
      for (let i = 0; i < MESSAGES; i++) {
        const d = devEui(i % DEVICES);
        const event = { deduplicationId: `crash-${i}`, time: new Date(Date.UTC(2026, 10, 24, 0, 0, 0, i)).toISOString(), deviceInfo: { devEui: d }, fCnt: Math.floor(i / DEVICES), fPort: 1, data: payload };
        const p = publisher.publishAsync(`${prefix}/app/device/${d}/event/up`, JSON.stringify(event), { qos: 1 }).then(() => {
          published++;
          inFlight.delete(p);
        });
        inFlight.add(p);
        if (inFlight.size >= 500) await Promise.race(inFlight);
      }
      await Promise.all(inFlight);
    })();

    // Kill the ingest once a fair share is committed, in the middle of the run.
    await eventually(async () => ((await count()) >= 10_000 ? true : undefined), { timeoutMs: 120_000, intervalMs: 100 });
    first.kill('SIGKILL');
    await new Promise((r) => first.once('exit', r));
    const atKill = await count();
    expect(atKill).toBeLessThan(MESSAGES);

    startIngest(clientId, prefix, httpPort);
    await publishAll;
    expect(published).toBe(MESSAGES);
    await eventually(async () => ((await count()) >= MESSAGES ? true : undefined), { timeoutMs: 240_000, intervalMs: 250 });
    const r = await db.pool.query<{ n: number; distinct_ids: number; readings: number }>(
      `select count(*)::int as n, count(distinct id)::int as distinct_ids,
              (select count(*)::int from readings where metric = 'temperature') as readings from uplinks`);
    expect(r.rows[0]).toEqual({ n: MESSAGES, distinct_ids: MESSAGES, readings: MESSAGES * 2 });
    await publisher.endAsync();
  }, 400_000);
});

