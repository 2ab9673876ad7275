/**
 * Start-up against a database and a broker that are not up yet (issue 26, item 7): the
 * service used to exit. Now `stadtfunk start` listens on its HTTP port at once, answers
 * /health 503 naming what it waits for, logs each attempt, and goes on once both answer;
 * SIGTERM while it waits ends it cleanly.
 *
 * "Not up yet" is a TCP forwarder to the real test database (or broker) on a port where
 * nothing listens until the test opens it.
 */
import net from 'node:net';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from './global-setup.js';
import { createTestDatabase, eventually, uniqueName, type TestDatabase } from './helpers.js';
import { registerLppDevices, startIngestProcess, warnings, type IngestProcess } from './ingest-process.js';
import { startMosquitto, type TestMosquitto } from './mosquitto.js';

interface Forwarder {
  close(): Promise<void>;
}

/** Forwards connections on 127.0.0.1:`port` to `target` from now on. */
async function forward(port: number, target: { host: string; port: number }): Promise<Forwarder> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const upstream = net.connect(target.port, target.host);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('error', () => undefined);
      s.on('close', () => sockets.delete(s));
    }
    client.pipe(upstream).pipe(client);
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return {
    close: () => new Promise<void>((resolve) => {
      server.close(() => resolve());
      for (const s of sockets) s.destroy();
    }),
  };
}

function withPort(url: string, port: number): string {
  const u = new URL(url);
  u.hostname = '127.0.0.1';
  u.port = String(port);
  return u.toString();
}

async function health(port: number): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`http://127.0.0.1:${port}/health`);
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

describe('start-up waits for the database and the broker', () => {
  let db: TestDatabase;
  let broker: TestMosquitto;
  let devEui: (i: number) => string;
  const runs: IngestProcess[] = [];
  const forwarders: Forwarder[] = [];

  beforeAll(async () => {
    db = await createTestDatabase();
    broker = await startMosquitto();
    devEui = await registerLppDevices(db.pool, 1, 0x5a17000000);
  });
  afterAll(async () => {
    for (const { child } of runs) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    for (const f of forwarders) await f.close();
    await broker?.stop();
    await db?.drop();
  });

  it('answers /health 503 with what it waits for, then 200, and stores an uplink', async () => {
    const [dbPort, brokerPort, httpPort] = [await freePort(), await freePort(), await freePort()];
    const dbTarget = new URL(db.url);
    const brokerTarget = new URL(broker.url);
    const prefix = `wait-${uniqueName('p')}`;
    const run = startIngestProcess({
      databaseUrl: withPort(db.url, dbPort), mqttUrl: withPort(broker.url, brokerPort), clientId: uniqueName('wait-'), prefix, httpPort, logLevel: 'info',
    });
    runs.push(run);

    // Neither answers: the HTTP port does, naming both.
    const first = await eventually(async () => {
      const h = await health(httpPort).catch(() => undefined);
      return h && /waiting for PostgreSQL/.test(JSON.stringify(h.body)) && /waiting for the MQTT broker/.test(JSON.stringify(h.body)) ? h : undefined;
    }, { timeoutMs: 60_000, intervalMs: 200 });
    expect(first.status).toBe(503);
    expect(first.body).toMatchObject({ status: 'unavailable', database: { ok: false }, broker: { ok: false } });
    expect(String((first.body.database as { reason: string }).reason)).toContain(`waiting for PostgreSQL at 127.0.0.1:${dbPort} (attempt`);
    expect(String((first.body.broker as { reason: string }).reason)).toContain(`waiting for the MQTT broker at 127.0.0.1:${brokerPort} (attempt`);
    const other = await fetch(`http://127.0.0.1:${httpPort}/api/v1/devices`);
    expect(other.status).toBe(503);
    expect(await other.json()).toMatchObject({ code: 'STADTFUNK_ERR_STARTING', message: expect.stringContaining('waiting for PostgreSQL') });
    expect(run.output()).toMatch(new RegExp(`waiting for PostgreSQL at 127\\.0\\.0\\.1:${dbPort} \\(attempt \\d+, next in [\\d.]+ s\\)`));

    // The database comes up: only the broker is awaited.
    forwarders.push(await forward(dbPort, { host: dbTarget.hostname, port: Number(dbTarget.port || 5432) }));
    const second = await eventually(async () => {
      const h = await health(httpPort).catch(() => undefined);
      return h && (h.body.database as { ok: boolean } | undefined)?.ok === true ? h : undefined;
    }, { timeoutMs: 30_000, intervalMs: 200 });
    expect(second.status).toBe(503);
    expect(String((second.body.broker as { reason: string }).reason)).toContain('waiting for the MQTT broker');
    expect(run.child.exitCode).toBeNull();

    // The broker comes up: the service starts and stores what it gets.
    forwarders.push(await forward(brokerPort, { host: brokerTarget.hostname, port: Number(brokerTarget.port || 1883) }));
    await eventually(async () => ((await health(httpPort).catch(() => undefined))?.status === 200 ? true : undefined), { timeoutMs: 60_000, intervalMs: 200 });
    const publisher = await mqtt.connectAsync(broker.url, { clientId: uniqueName('pub-') });
    const payload = Buffer.from('0367011005670040', 'hex').toString('base64');
    await publisher.publishAsync(`${prefix}/app/device/${devEui(0)}/event/up`, JSON.stringify({ deduplicationId: 'after-wait-1', time: '2026-11-24T12:00:00Z', deviceInfo: { devEui: devEui(0) }, fCnt: 1, fPort: 1, data: payload }), { qos: 1 });
    await publisher.endAsync();
    await eventually(async () => ((await db.pool.query("select 1 from uplinks where id = 'after-wait-1'")).rowCount === 1 ? true : undefined), { timeoutMs: 30_000 });
    expect(warnings(run.output()).filter((line) => !line.includes('waiting for'))).toEqual([]);

    run.child.kill('SIGTERM');
    expect(await run.exited).toBe(0);
  });

  it('stops cleanly on SIGTERM while it waits', async () => {
    const [dbPort, httpPort] = [await freePort(), await freePort()];
    const run = startIngestProcess({ databaseUrl: withPort(db.url, dbPort), mqttUrl: broker.url, clientId: uniqueName('wait-'), prefix: 'never', httpPort, logLevel: 'info' });
    runs.push(run);
    await eventually(async () => ((await health(httpPort).catch(() => undefined))?.status === 503 ? true : undefined), { timeoutMs: 60_000, intervalMs: 200 });
    run.child.kill('SIGTERM');
    expect(await run.exited).toBe(0);
    expect(run.output()).toContain('stopped while start-up waited');
    // The port is free again.
    const probe = net.createServer();
    await new Promise<void>((resolve, reject) => probe.once('error', reject).listen(httpPort, '127.0.0.1', resolve));
    await new Promise<void>((resolve) => probe.close(() => resolve()));
  });
});
