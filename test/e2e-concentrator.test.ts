/**
 * Raw frames from 450 MHz concentrators end to end: encrypted frames heard by two or
 * three concentrators become one uplink each with every reception, counters survive a
 * restart so replays stay rejected, and no key ever appears in a log line.
 */
import { Writable } from 'node:stream';
import mqtt, { type MqttClient } from 'mqtt';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import gwPb from '@chirpstack/chirpstack-api/gw/gw_pb.js';
import { startService, type Service } from '../service.js';
import { buildUplinkFrame, createKeyVault, keyAad } from '../ingest/lorawan/index.js';
import { registerFleet } from '../simulators/register.js';
import { CityTraffic } from '../simulators/traffic.js';
import { encodeWater } from '../decoders/index.js';
import { upsertDevice } from '../storage/index.js';
import { createTestDatabase, eventually, TEST_MASTER_KEY, testConfig, uniqueName, type TestDatabase } from './helpers.js';

const UPLINKS = 60;

describe('raw concentrator frames end to end', () => {
  let db: TestDatabase;
  let service: Service;
  let publisher: MqttClient;
  let traffic: CityTraffic;
  let prefix: string;
  const logLines: string[] = [];
  const log = pino({ level: 'trace' }, new Writable({ write(chunk, _enc, done) { logLines.push(String(chunk)); done(); } }));
  let config: ReturnType<typeof testConfig>;

  beforeAll(async () => {
    db = await createTestDatabase();
    prefix = `${uniqueName('t')}/450mhz`;
    config = testConfig(db.url, { INGEST_CONCENTRATOR_PREFIXES: prefix, INGEST_CONCENTRATOR_BANDS: `${prefix}=450MHz`, LOG_LEVEL: 'trace' });
    service = await startService(config, log);
    traffic = new CityTraffic({ devices: 12, via: 'concentrator', seed: 'frames', start: new Date('2026-11-24T06:00:00Z'), firstFCnt: 65_533, rate: 50, prefixes: { chirpstack: 'unused', concentrator: prefix, applicationId: 'x' } });
    await registerFleet(db.pool, traffic.fleet, TEST_MASTER_KEY);
    publisher = await mqtt.connectAsync(inject('mqttUrl'), { clientId: uniqueName('pub-'), protocolVersion: inject('mqttProtocolVersion') });
  });

  afterAll(async () => {
    await publisher?.endAsync();
    await service?.stop();
    await db?.drop();
  });

  async function publish(messages: { topic: string; payload: Buffer; delayMs: number }[]): Promise<void> {
    for (const m of messages) {
      if (m.delayMs > 0) await new Promise((r) => setTimeout(r, m.delayMs));
      await publisher.publishAsync(m.topic, m.payload, { qos: 1 });
    }
  }

  it('turns every frame heard by two or three concentrators into one uplink with all receptions, across the 16-bit counter wrap', async () => {
    const sent: { fCnt: number; devEui: string; copies: number }[] = [];
    for (let i = 0; i < UPLINKS; i++) {
      const up = traffic.next();
      sent.push({ fCnt: up.fCnt, devEui: up.device.devEui, copies: up.messages.filter((m) => m.topic.endsWith('/event/up')).length });
      await publish(up.messages);
    }
    const rows = await eventually(async () => {
      const r = await db.pool.query<{ dev_eui: string; f_cnt: number; radio: { band: string; receptions: { best: boolean }[] } }>(
        "select dev_eui, f_cnt, radio from uplinks where source = 'concentrator' order by dev_eui, f_cnt");
      return r.rowCount === UPLINKS ? r.rows : undefined;
    }, { timeoutMs: 30_000 });
    const byKey = new Map(rows.map((r) => [`${r.dev_eui}:${r.f_cnt}`, r]));
    for (const s of sent) {
      const row = byKey.get(`${s.devEui}:${s.fCnt}`);
      expect(row, `uplink ${s.devEui}:${s.fCnt}`).toBeDefined();
      expect(row!.radio.receptions).toHaveLength(s.copies);
      expect(row!.radio.receptions.filter((r) => r.best)).toHaveLength(1);
      expect(row!.radio.band).toBe('450MHz');
    }
    expect(sent.some((s) => s.fCnt > 65_535)).toBe(true);
    const concentrators = await db.pool.query<{ gateway_id: string; band: string; rx_received: number }>('select gateway_id, band, rx_received from concentrators order by 1');
    expect(concentrators.rows.map((c) => [c.gateway_id, c.band])).toEqual([['0016c001f1500001', '450MHz'], ['0016c001f1500002', '450MHz'], ['0016c001f1500003', '450MHz']]);
    const readings = await db.pool.query<{ n: number }>('select count(*)::int as n from readings');
    expect(readings.rows[0]!.n).toBeGreaterThan(UPLINKS);
    const counters = await db.pool.query<{ f_cnt_up: number }>('select f_cnt_up from devices where f_cnt_up is not null');
    expect(counters.rowCount).toBe(12);
    expect(Math.min(...counters.rows.map((r) => r.f_cnt_up))).toBeGreaterThan(65_535);
  });

  it('merges a late copy into the stored uplink instead of making a second one', async () => {
    const up = traffic.next();
    const frames = up.messages.filter((m) => m.topic.endsWith('/event/up'));
    await publish([frames[0]!]);
    await eventually(async () => ((await db.pool.query('select 1 from uplinks where dev_eui = $1 and f_cnt = $2', [up.device.devEui, up.fCnt])).rowCount === 1 ? true : undefined));
    await publish(frames.slice(1).map((m) => ({ ...m, delayMs: 0 })));
    const receptions = await eventually(async () => {
      const r = await db.pool.query<{ n: number; c: number }>(
        "select count(*)::int as c, max(jsonb_array_length(radio->'receptions'))::int as n from uplinks where dev_eui = $1 and f_cnt = $2", [up.device.devEui, up.fCnt]);
      return r.rows[0]!.n === frames.length ? r.rows[0] : undefined;
    });
    expect(receptions).toEqual({ c: 1, n: frames.length });
  });

  it('rejects a replayed frame, also after a restart, and a frame with the wrong key', async () => {
    const device = traffic.fleet[0]!;
    const old = buildUplinkFrame({ devAddr: device.devAddr, fCnt32: 65_531, fPort: device.fPort, payload: encodeWater({ water_level: 1, battery_voltage: 3 }), nwkSKey: device.nwkSKey, appSKey: device.appSKey });
    await service.stop();
    service = await startService(config, log);
    const wrongKey = buildUplinkFrame({ devAddr: device.devAddr, fCnt32: 70_000, fPort: 10, payload: Buffer.from([1]), nwkSKey: Buffer.alloc(16, 9), appSKey: device.appSKey });
    await publish([frameMessage(prefix, old), frameMessage(prefix, wrongKey)]);
    const reasons = await eventually(async () => {
      const r = await db.pool.query<{ reason: string; detail: string }>("select reason, detail from dead_letters where reason in ('replay', 'mic_mismatch') order by reason");
      return r.rowCount === 2 ? r.rows : undefined;
    });
    expect(reasons.map((r) => r.reason)).toEqual(['mic_mismatch', 'replay']);
    for (const r of reasons) expect(r.detail).not.toMatch(device.nwkSKey.toString('hex'));
  });

  it('picks the right device when two share a DevAddr', async () => {
    const [a, b] = [traffic.fleet[1]!, traffic.fleet[2]!];
    // Give b the DevAddr of a (with b's own keys): only b's NwkSKey verifies b's frame.
    const vault = createKeyVault(TEST_MASTER_KEY);
    await upsertDevice(db.pool, { devEui: b.devEui, modelId: b.modelId, assetId: b.asset.id, devAddr: a.devAddr,
      nwkSKeySealed: vault.sealKey(b.nwkSKey, keyAad(b.devEui, 'nwkSKey')), appSKeySealed: vault.sealKey(b.appSKey, keyAad(b.devEui, 'appSKey')) });
    await db.pool.query('update devices set f_cnt_up = null where dev_eui = $1', [b.devEui]);
    const frame = buildUplinkFrame({ devAddr: a.devAddr, fCnt32: 5, fPort: b.fPort, payload: Buffer.from([1, 0, 0, 0, 0]), nwkSKey: b.nwkSKey, appSKey: b.appSKey });
    await publish([frameMessage(prefix, frame)]);
    await eventually(async () => ((await db.pool.query('select 1 from uplinks where dev_eui = $1 and f_cnt = 5', [b.devEui])).rowCount === 1 ? true : undefined));
  });

  it('never writes a key to the log', () => {
    expect(logLines.length).toBeGreaterThan(10);
    const all = logLines.join('\n').toLowerCase();
    for (const device of traffic.fleet) {
      expect(all).not.toContain(device.nwkSKey.toString('hex'));
      expect(all).not.toContain(device.appSKey.toString('hex'));
      expect(all).not.toContain(device.nwkSKey.toString('base64').toLowerCase());
    }
    expect(all).not.toContain(TEST_MASTER_KEY.toString('hex'));
  });
});

function frameMessage(prefix: string, phy: Buffer): { topic: string; payload: Buffer; delayMs: number } {
  const rx = new gwPb.UplinkRxInfo();
  rx.setGatewayId('0016c001f1500001');
  rx.setRssi(-90);
  rx.setSnr(5);
  rx.setCrcStatus(gwPb.CRCStatus.CRC_OK);
  const frame = new gwPb.UplinkFrame();
  frame.setPhyPayload(new Uint8Array(phy));
  frame.setRxInfo(rx);
  return { topic: `${prefix}/gateway/0016c001f1500001/event/up`, payload: Buffer.from(frame.serializeBinary()), delayMs: 0 };
}
