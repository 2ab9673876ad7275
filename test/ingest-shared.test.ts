/**
 * Two ingest workers on one MQTT 5 shared subscription ($share/<group>/…) against a
 * private Mosquitto: the load is shared, nothing is doubled, nothing is lost, also when
 * messages are published twice. Skipped (with a message) where no mosquitto binary exists:
 * the embedded aedes broker has no shared subscriptions.
 */
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ingestUplinks } from '../ingest/metrics.js';
import { startService, type Service } from '../service.js';
import { upsertDevice, upsertDeviceModel } from '../storage/index.js';
import { createTestDatabase, eventually, testConfig, testLog, uniqueName, type TestDatabase } from './helpers.js';
import { mosquittoAvailable, startMosquitto, type TestMosquitto } from './mosquitto.js';

const hasMosquitto = mosquittoAvailable();
if (!hasMosquitto) console.warn('SKIPPED shared-subscription test: no mosquitto binary (needs an MQTT 5 broker with shared subscriptions)');
const MESSAGES = 6000;

describe.skipIf(!hasMosquitto)('two ingest workers on a shared subscription', () => {
  let db: TestDatabase;
  let broker: TestMosquitto;
  const workers: Service[] = [];

  beforeAll(async () => {
    db = await createTestDatabase();
    broker = await startMosquitto();
    await upsertDeviceModel(db.pool, { id: 'lpp', name: 'LPP', decoderKind: 'builtin', builtinName: 'cayenne-lpp' });
    for (let i = 0; i < 50; i++) await upsertDevice(db.pool, { devEui: (0xc0000000 + i).toString(16).padStart(16, '0'), modelId: 'lpp' });
  });
  afterAll(async () => {
    for (const w of workers) await w.stop();
    await broker?.stop();
    await db?.drop();
  });

  it('shares the load with nothing doubled and nothing lost', async () => {
    const prefix = `${uniqueName('t')}/application`;
    const group = uniqueName('g');
    for (const n of [1, 2]) {
      workers.push(await startService(testConfig(db.url, { MQTT_URL: broker.url, MQTT_PROTOCOL_VERSION: '5', MQTT_SHARED_GROUP: group, MQTT_CLIENT_ID: `${group}-worker-${n}`, INGEST_CHIRPSTACK_PREFIX: prefix }), testLog));
    }
    const before = (await ingestUplinks.get()).values.reduce((s, v) => s + v.value, 0);
    // Each service has its own live bus, fed with every batch it commits: count per worker there.
    const share = workers.map((w) => {
      const counter = { uplinks: 0 };
      const publishCommitted = w.liveBus.publishCommitted.bind(w.liveBus);
      w.liveBus.publishCommitted = (batch, result) => {
        counter.uplinks += batch.uplinks.length;
        publishCommitted(batch, result);
      };
      return counter;
    });
    const publisher = await mqtt.connectAsync(broker.url, { clientId: uniqueName('pub-'), protocolVersion: 5 });
    const payload = Buffer.from('03670110', 'hex').toString('base64');
    for (let i = 0; i < MESSAGES; i++) {
      const devEui = (0xc0000000 + (i % 50)).toString(16).padStart(16, '0');
      const body = JSON.stringify({ deduplicationId: `shared-${i}`, time: new Date(Date.UTC(2026, 10, 24, 2) + i).toISOString(), deviceInfo: { devEui }, fCnt: i, fPort: 1, data: payload });
      const topic = `${prefix}/app/device/${devEui}/event/up`;
      publisher.publish(topic, body, { qos: 1 });
      if (i % 10 === 0) publisher.publish(topic, body, { qos: 1 }); // a redelivered copy
      if (i % 500 === 499) await new Promise((r) => setTimeout(r, 10));
    }
    const counts = await eventually(async () => {
      const r = await db.pool.query<{ n: number; d: number }>('select count(*)::int as n, count(distinct id)::int as d from uplinks');
      return r.rows[0]!.n >= MESSAGES ? r.rows[0] : undefined;
    }, { timeoutMs: 60_000, intervalMs: 200 });
    await new Promise((r) => setTimeout(r, 500)); // a late duplicate would show up now
    const final = (await db.pool.query<{ n: number; d: number }>('select count(*)::int as n, count(distinct id)::int as d from uplinks')).rows[0];
    expect(counts).toEqual({ n: MESSAGES, d: MESSAGES });
    expect(final).toEqual({ n: MESSAGES, d: MESSAGES });
    // Both workers took a share of the load.
    expect(share[0]!.uplinks).toBeGreaterThan(MESSAGES / 10);
    expect(share[1]!.uplinks).toBeGreaterThan(MESSAGES / 10);
    // …and each message went to one of them (6,000 plus 600 published twice), not to both.
    expect(share[0]!.uplinks + share[1]!.uplinks).toBeLessThanOrEqual(MESSAGES + MESSAGES / 10);
    // New uplinks counted once in all (the two in-process services share one metrics registry).
    const after = (await ingestUplinks.get()).values.reduce((s, v) => s + v.value, 0);
    expect(after - before).toBe(MESSAGES);
    await publisher.endAsync();
  }, 120_000);
});
