/**
 * Joins and downlinks with the embedded default (no MQTT_URL): the embedded broker
 * refuses every client but ingest's until ingest has subscribed, so the downlink
 * publisher's first attempt is refused and it must connect again by itself. A device
 * joins and a confirmed uplink is acknowledged, through the embedded broker.
 */
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startService, type Service } from '../service.js';
import { buildFleet } from '../simulators/fleet.js';
import { OtaaCity } from '../simulators/otaa-city.js';
import { registerOtaaFleet } from '../simulators/register.js';
import { freePort } from './global-setup.js';
import { createTestDatabase, eventually, TEST_MASTER_KEY, testConfig, testLog, uniqueName, type TestDatabase } from './helpers.js';

describe('OTAA with the embedded broker', () => {
  let db: TestDatabase;
  let service: Service;
  let client: MqttClient;

  beforeAll(async () => {
    db = await createTestDatabase();
    service = await startService(testConfig(db.url, { MQTT_URL: '', EMBEDDED_MQTT_PORT: String(await freePort()), INGEST_CONCENTRATOR_PREFIXES: '450mhz', INGEST_CONCENTRATOR_BANDS: '450mhz=450MHz' }), testLog);
    client = await mqtt.connectAsync(service.mqttUrl, { clientId: uniqueName('sim-'), reconnectPeriod: 500 });
  });

  afterAll(async () => {
    await client?.endAsync();
    await service?.stop();
    await db?.drop();
  });

  it('joins devices and acknowledges their confirmed uplinks', async () => {
    const fleet = buildFleet({ devices: 4, kinds: ['streetlight'], seed: 'embedded' });
    await registerOtaaFleet(db.pool, fleet, TEST_MASTER_KEY, 'embedded');
    const city = new OtaaCity({ client, fleet, prefix: '450mhz', seed: 'embedded', rate: 4, joinSpreadS: 0.5, confirmedShare: 1 });
    await city.start();
    const running = city.run(12);
    await eventually(async () => (city.devices.every((d) => d.joined) && city.stats.acks >= 2 ? true : undefined), { timeoutMs: 12_000 });
    const stats = await running;
    expect(stats.joined).toBe(4);
    expect(stats.acks).toBeGreaterThanOrEqual(2);
    expect((await db.pool.query("select count(*)::int as n from downlinks where tx_status = 'OK'")).rows[0].n).toBeGreaterThanOrEqual(6);
  }, 60_000);
});
