/**
 * A database outage delays data and loses none: PostgreSQL is stopped for 10 s in the
 * middle of a run; ingest stops acknowledging, /health says why, and when the database
 * is back every message is stored exactly once.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import mqtt from 'mqtt';
import { afterAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { reapAfterRun } from '../bench/reaper.js';
import { startService, type Service } from '../service.js';
import { startEmbeddedPostgres, upsertDevice, upsertDeviceModel, createPool, migrate, type EmbeddedPostgresHandle } from '../storage/index.js';
import { freePort } from './global-setup.js';
import { eventually, testConfig, testLog, uniqueName } from './helpers.js';
import { mosquittoAvailable, startMosquitto, type TestMosquitto } from './mosquitto.js';

const MESSAGES = 6_000;

describe('database outage during ingest', () => {
  const cleanup: (() => Promise<unknown>)[] = [];
  afterAll(async () => {
    for (const c of cleanup.reverse()) await c().catch(() => undefined);
  });

  it('loses nothing while PostgreSQL is down for 10 s', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'stadtfunk-outage-'));
    reapAfterRun({ dir });
    cleanup.push(() => fs.rm(dir, { recursive: true, force: true }));
    const port = await freePort();
    let pg: EmbeddedPostgresHandle = await startEmbeddedPostgres({ dataDir: dir, port, log: testLog });
    cleanup.push(() => pg.stop());
    const setup = createPool({ url: pg.url, log: testLog });
    await migrate(setup);
    await upsertDeviceModel(setup, { id: 'lpp', name: 'LPP', decoderKind: 'builtin', builtinName: 'cayenne-lpp' });
    await upsertDevice(setup, { devEui: '00000000000000aa', modelId: 'lpp' });
    await setup.end();

    let brokerUrl = inject('mqttUrl');
    let protocol: 4 | 5 = inject('mqttProtocolVersion');
    if (mosquittoAvailable()) {
      const broker: TestMosquitto = await startMosquitto();
      cleanup.push(() => broker.stop());
      brokerUrl = broker.url;
      protocol = 5;
    }
    const config = testConfig(pg.url, { MQTT_URL: brokerUrl, MQTT_PROTOCOL_VERSION: String(protocol), INGEST_MAX_IN_FLIGHT: '2000' });
    const service: Service = await startService(config, testLog);
    cleanup.push(() => service.stop());
    const topic = `${config.ingest.chirpstackPrefix}/app/device/00000000000000aa/event/up`;
    const publisher = await mqtt.connectAsync(brokerUrl, { clientId: uniqueName('pub-'), protocolVersion: protocol });
    cleanup.push(() => publisher.endAsync(true));

    const payload = Buffer.from('03670110', 'hex').toString('base64');
    const publishRange = async (from: number, to: number): Promise<void> => {
      for (let i = from; i < to; i++) {
        const event = { deduplicationId: `outage-${i}`, time: new Date(Date.UTC(2026, 10, 24, 1, 0, 0) + i).toISOString(), deviceInfo: { devEui: '00000000000000aa' }, fCnt: i, fPort: 1, data: payload };
        publisher.publish(topic, JSON.stringify(event), { qos: 1 });
        if (i % 200 === 199) await new Promise((r) => setTimeout(r, 20));
      }
    };

    await publishRange(0, MESSAGES / 3);
    await pg.stop();
    const downAt = Date.now();
    const health = await fetch(`${service.httpUrl}/health`);
    expect(health.status).toBe(503);
    expect(((await health.json()) as { database: { ok: boolean } }).database.ok).toBe(false);
    await publishRange(MESSAGES / 3, (2 * MESSAGES) / 3);
    await new Promise((r) => setTimeout(r, Math.max(0, 10_000 - (Date.now() - downAt))));
    pg = await startEmbeddedPostgres({ dataDir: dir, port, log: testLog });
    await publishRange((2 * MESSAGES) / 3, MESSAGES);

    const check = createPool({ url: pg.url, log: testLog });
    cleanup.push(() => check.end());
    const count = async () => (await check.query<{ n: number; d: number }>('select count(*)::int as n, count(distinct id)::int as d from uplinks')).rows[0]!;
    const final = await eventually(async () => {
      const c = await count();
      return c.n >= MESSAGES ? c : undefined;
    }, { timeoutMs: 60_000, intervalMs: 200 });
    expect(final).toEqual({ n: MESSAGES, d: MESSAGES });
    expect((await fetch(`${service.httpUrl}/health`)).status).toBe(200);
  }, 120_000);
});
