/**
 * The first end-to-end slice: a ChirpStack v4 JSON uplink event published on a real
 * broker for a registered device with a Cayenne LPP payload ends up as rows in a real
 * PostgreSQL and is readable through the API.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MqttClient } from 'mqtt';
import { startService, type Service } from '../service.js';
import { upsertAsset, upsertDevice, upsertDeviceModel } from '../storage/index.js';
import { createApiKey } from '../api/auth.js';
import { ingestDuplicates } from '../ingest/metrics.js';
import { connectPublisher, createTestDatabase, eventually, testConfig, testLog, type TestDatabase } from './helpers.js';

const DEV_EUI = '0004a30b001c0530';

/** Uplinks this process's ingest found already stored. */
async function duplicateUplinks(): Promise<number> {
  return (await ingestDuplicates.get()).values[0]?.value ?? 0;
}

/**
 * A ChirpStack v4 `up` event as its MQTT integration publishes it in JSON. Field names from
 * ChirpStack's api/proto/integration/integration.proto (UplinkEvent); fields with default
 * values are left out as ChirpStack's protojson marshaling does (here: confirmed, adr, fCnt 0 is absent).
 * Payload: the Cayenne LPP example from the LPP documentation,
 * 03 67 01 10 05 67 00 FF = channel 3 temperature 27.2 °C, channel 5 temperature 25.5 °C.
 */
function uplinkEvent(deduplicationId: string, time: string): Record<string, unknown> & { deduplicationId: string } {
  return {
    deduplicationId,
    time,
    deviceInfo: {
      tenantId: '52f14cd4-c6f1-4fbd-8f87-4025e1d49242',
      tenantName: 'Stadt',
      applicationId: '17c82e96-be03-4f38-aef3-f83d48582d97',
      applicationName: 'air',
      deviceProfileName: 'lpp',
      deviceName: 'lamp-0815',
      devEui: DEV_EUI,
    },
    devAddr: '00189440',
    dr: 5,
    fPort: 1,
    data: Buffer.from('03670110056700ff', 'hex').toString('base64'),
    rxInfo: [
      { gatewayId: '0016c001f153a14c', uplinkId: 4217106255, rssi: -36, snr: 10.5, context: 'E3OWOQ==' },
      { gatewayId: '0016c001f153a14d', uplinkId: 4217106256, rssi: -80, snr: 3 },
    ],
    txInfo: { frequency: 868100000, modulation: { lora: { bandwidth: 125000, spreadingFactor: 7, codeRate: 'CR_4_5' } } },
  };
}

describe('ChirpStack JSON uplink end to end', () => {
  let db: TestDatabase;
  let service: Service;
  let publisher: MqttClient;
  let topic: string;
  let operatorKey: string;

  beforeAll(async () => {
    db = await createTestDatabase();
    await upsertDeviceModel(db.pool, { id: 'lpp-generic', name: 'Cayenne LPP device', decoderKind: 'builtin', builtinName: 'cayenne-lpp' });
    await upsertAsset(db.pool, { id: 'lamp-0815', kind: 'street_lamp', latitude: 51.2277, longitude: 6.7735, zone: 'altstadt', isPublic: true });
    await upsertDevice(db.pool, { devEui: DEV_EUI, modelId: 'lpp-generic', assetId: 'lamp-0815' });
    const config = testConfig(db.url);
    service = await startService(config, testLog);
    topic = `${config.ingest.chirpstackPrefix}/17c82e96-be03-4f38-aef3-f83d48582d97/device/${DEV_EUI}/event/up`;
    publisher = await connectPublisher();
    operatorKey = (await createApiKey(db.pool, 'control desk', 'operator')).key;
  });

  afterAll(async () => {
    await publisher?.endAsync();
    await service?.stop();
    await db?.drop();
  });

  it('stores the uplink and its readings and serves them through the API', async () => {
    const event = uplinkEvent('3e9c3fd5-bbca-4c2b-8fa1-2b5b8a3d0a01', '2026-11-24T10:00:00.123Z');
    await publisher.publishAsync(topic, JSON.stringify(event), { qos: 1 });

    const body = await eventually(async () => {
      const res = await fetch(`${service.httpUrl}/api/v1/devices/${DEV_EUI}/readings?metric=temperature&from=2026-11-24T00:00:00Z&to=2026-11-25T00:00:00Z`, { headers: { authorization: `Bearer ${operatorKey}` } });
      const json = (await res.json()) as { items: { value: number; time: string }[] };
      return json.items.length >= 2 ? json : undefined;
    });
    expect(body.items.map((r) => r.value).sort()).toEqual([25.5, 27.2]);
    expect(body.items[0]?.time).toBe('2026-11-24T10:00:00.123Z');

    const uplinks = await db.pool.query('select id, dev_eui, f_cnt, f_port, source, radio from uplinks');
    expect(uplinks.rows).toHaveLength(1);
    expect(uplinks.rows[0]).toMatchObject({ id: event.deduplicationId, dev_eui: DEV_EUI, f_cnt: 0, f_port: 1, source: 'chirpstack' });
    expect(uplinks.rows[0].radio.receptions).toHaveLength(2);
    expect(uplinks.rows[0].radio.receptions[0]).toMatchObject({ gatewayId: '0016c001f153a14c', best: true });
    const lastSeen = await db.pool.query('select last_seen_at from latest_state where dev_eui = $1', [DEV_EUI]);
    expect(lastSeen.rows[0].last_seen_at.toISOString()).toBe('2026-11-24T10:00:00.123Z');
  });

  it('does not double a redelivered uplink', async () => {
    const event = uplinkEvent('7d1f8a2c-0000-4c2b-8fa1-2b5b8a3d0a02', '2026-11-24T11:00:00.000Z');
    const duplicatesBefore = await duplicateUplinks();
    await publisher.publishAsync(topic, JSON.stringify(event), { qos: 1 });
    await publisher.publishAsync(topic, JSON.stringify(event), { qos: 1 });
    // Both copies are processed once one of them is stored and the other was counted as a
    // duplicate. (Two batches may be in the database at once, so a later uplink's commit
    // says nothing about an earlier one's.)
    await eventually(async () => {
      const r = await db.pool.query('select 1 from uplinks where id = $1', [event.deduplicationId]);
      return r.rowCount === 1 && (await duplicateUplinks()) > duplicatesBefore ? true : undefined;
    });
    const copies = await db.pool.query('select count(*)::int as n from uplinks where id = $1', [event.deduplicationId]);
    expect(copies.rows[0].n).toBe(1);
    const readings = await db.pool.query(
      "select count(*)::int as n from readings where uplink_id = $1 and metric = 'temperature'", [event.deduplicationId]);
    expect(readings.rows[0].n).toBe(2);
  });

  it('dead-letters an uplink of an unknown device and goes on', async () => {
    const unknownTopic = topic.replace(DEV_EUI, '0000000000000001');
    const event = { ...uplinkEvent('aaaaaaaa-0000-4c2b-8fa1-2b5b8a3d0a04', '2026-11-24T13:00:00.000Z'), deviceInfo: { devEui: '0000000000000001' } };
    await publisher.publishAsync(unknownTopic, JSON.stringify(event), { qos: 1 });
    await publisher.publishAsync(topic, '{not json', { qos: 1 });
    const reasons = await eventually(async () => {
      const r = await db.pool.query<{ reason: string }>('select reason from dead_letters order by reason');
      return r.rowCount === 2 ? r.rows.map((x) => x.reason) : undefined;
    });
    expect(reasons).toEqual(['invalid_json', 'unknown_device']);
  });

  it('keeps ingesting other devices while a hostile vendor codec is stopped, and keeps its raw uplink', async () => {
    await upsertDeviceModel(db.pool, { id: 'hostile', name: 'loops forever', decoderKind: 'codec', codecScript: 'function decodeUplink() { for (;;) {} }' });
    await upsertDevice(db.pool, { devEui: '00000000000000bb', modelId: 'hostile', assetId: 'lamp-0815' });
    const bad = { ...uplinkEvent('bbbbbbbb-0000-4c2b-8fa1-2b5b8a3d0a05', '2026-11-24T14:00:00.000Z'), deviceInfo: { devEui: '00000000000000bb' } };
    const good = uplinkEvent('cccccccc-0000-4c2b-8fa1-2b5b8a3d0a06', '2026-11-24T14:00:01.000Z');
    await publisher.publishAsync(topic.replace(DEV_EUI, '00000000000000bb'), JSON.stringify(bad), { qos: 1 });
    await publisher.publishAsync(topic, JSON.stringify(good), { qos: 1 });
    const rows = await eventually(async () => {
      const r = await db.pool.query<{ id: string; decode_error: string | null }>('select id, decode_error from uplinks where id = any($1) order by id', [[bad.deduplicationId, good.deduplicationId]]);
      return r.rowCount === 2 ? r.rows : undefined;
    });
    expect(rows[0]).toMatchObject({ id: bad.deduplicationId, decode_error: expect.stringMatching(/time limit of 100 ms/) });
    expect(rows[1]).toMatchObject({ id: good.deduplicationId, decode_error: null });
    const letters = await db.pool.query("select reason from dead_letters where dev_eui = '00000000000000bb'");
    expect(letters.rows).toEqual([{ reason: 'decode_failed' }]);
  });

  it('answers /health with 200 and the state of database and broker', async () => {
    const res = await fetch(`${service.httpUrl}/health`);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ status: 'ok', database: { ok: true }, broker: { ok: true } });
  });
});
