/**
 * `stadtfunk simulate --via concentrator --otaa` against the real service, broker and
 * database: a city of OTAA devices joins through two or three concentrators each, a
 * device whose first join-requests go unanswered retries with new DevNonces until one is
 * answered, every device's uplinks are stored, confirmed uplinks are acknowledged, and a
 * streetlight dimmed through the API reports the new level, which confirms the command.
 */
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { createApiKey } from '../api/auth.js';
import { startService, type Service } from '../service.js';
import { createKeyVault, keyAad } from '../ingest/lorawan/index.js';
import { buildFleet } from '../simulators/fleet.js';
import { OtaaCity } from '../simulators/otaa-city.js';
import { registerOtaaFleet } from '../simulators/register.js';
import { createTestDatabase, eventually, TEST_MASTER_KEY, testConfig, testLog, uniqueName, type TestDatabase } from './helpers.js';

describe('simulate --via concentrator --otaa', () => {
  let db: TestDatabase;
  let service: Service;
  let client: MqttClient;
  let prefix: string;

  beforeAll(async () => {
    db = await createTestDatabase();
    prefix = `${uniqueName('t')}/450mhz`;
    service = await startService(testConfig(db.url, { INGEST_CONCENTRATOR_PREFIXES: prefix, INGEST_CONCENTRATOR_BANDS: `${prefix}=450MHz` }), testLog);
    client = await mqtt.connectAsync(inject('mqttUrl'), { clientId: uniqueName('sim-'), protocolVersion: inject('mqttProtocolVersion') });
  });

  afterAll(async () => {
    await client?.endAsync();
    await service?.stop();
    await db?.drop();
  });

  it('joins every device (retrying where no accept came), stores their uplinks, acknowledges confirmed ones and dims a lamp', async () => {
    const fleet = buildFleet({ devices: 10, kinds: ['streetlight', 'air'], seed: 'otaa-test' });
    await registerOtaaFleet(db.pool, fleet, TEST_MASTER_KEY, 'otaa-test');
    // Device 1 is registered with another AppKey at first: its join-requests fail their MIC and get no accept.
    const rightKey = (await db.pool.query('select app_key from devices where dev_eui = $1', [fleet[1]!.devEui])).rows[0].app_key;
    const wrong = createKeyVault(TEST_MASTER_KEY).sealKey(Buffer.alloc(16, 0x5a), keyAad(fleet[1]!.devEui, 'appKey'));
    await db.pool.query('update devices set app_key = $1 where dev_eui = $2', [wrong, fleet[1]!.devEui]);
    const city = new OtaaCity({ client, fleet, prefix, seed: 'otaa-test', rate: 4, joinSpreadS: 1, joinTimeoutMs: 2500, confirmedShare: 0.3 });
    await city.start();
    const running = city.run(30);
    await eventually(async () => (city.stats.joinRetries >= 1 ? true : undefined), { timeoutMs: 20_000 });
    await db.pool.query('update devices set app_key = $1 where dev_eui = $2', [rightKey, fleet[1]!.devEui]);
    await eventually(async () => (city.devices.every((d) => d.joined) ? true : undefined), { timeoutMs: 25_000 });
    expect(city.devices[1]!.joinAttempts).toBeGreaterThan(1);
    expect((await db.pool.query("select count(*)::int as n from dead_letters where reason = 'mic_mismatch'")).rows[0].n).toBeGreaterThanOrEqual(1);

    // Dim the first streetlight through the API: its controller obeys and reports 30 %.
    const { key } = await createApiKey(db.pool, 'operator sim', 'operator');
    const lamp = fleet.find((d) => d.kind === 'streetlight')!;
    const res = await service.app.inject({ method: 'POST', url: `/api/v1/lamps/${lamp.asset.id}/command`, headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, payload: JSON.stringify({ lamp_on: true, dim_level: 30 }) });
    expect(res.statusCode).toBe(202);
    const confirmed = await eventually(async () => {
      const r = await service.app.inject({ method: 'GET', url: '/api/v1/lamps', headers: { authorization: `Bearer ${key}` } });
      const l = (r.json().items as { devEui: string; command: { confirmation: string } | null; reported: { dimLevel: number } | null }[]).find((x) => x.devEui === lamp.devEui);
      return l?.command?.confirmation === 'confirmed' ? l : undefined;
    }, { timeoutMs: 25_000, intervalMs: 250 });
    expect(confirmed.reported?.dimLevel).toBe(30);
    const stats = await running;

    expect(stats.joined).toBe(10);
    expect(stats.lampCommands).toBeGreaterThanOrEqual(1);
    expect(stats.confirmedUplinks).toBeGreaterThan(0);
    expect(stats.acks).toBeGreaterThan(0);
    const perDevice = await db.pool.query<{ n: number }>("select count(distinct dev_eui)::int as n from uplinks where source = 'concentrator'");
    expect(perDevice.rows[0]!.n).toBe(10);
    const sessions = await db.pool.query<{ n: number }>('select count(*)::int as n from devices where dev_addr is not null and pending_dev_addr is null and nwk_s_key is not null');
    expect(sessions.rows[0]!.n).toBe(10);
  }, 120_000);
});
