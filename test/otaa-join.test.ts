/**
 * OTAA joins through the real broker and database: a device's join-request, heard by two
 * concentrators (one speaking protobuf, one JSON), is answered once through the better
 * one with a join-accept the device opens; its first uplink in the new session is stored
 * and proves the session; bad join-requests are dead-lettered with their reason and
 * change no session.
 */
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { startService, type Service } from '../service.js';
import {
  buildJoinRequest, buildUplinkFrame, createKeyVault, keyAad,
} from '../ingest/lorawan/index.js';
import { deriveSessionKeys, openJoinAccept } from '../ingest/lorawan/join-accept.js';
import { decodeGatewayDownlink, type GatewayDownlink } from '../ingest/lorawan/gateway-downlink.js';
import { gatewayUplinkMessage } from '../simulators/messages.js';
import { upsertDevice, upsertDeviceModel } from '../storage/index.js';
import { createTestDatabase, eventually, TEST_MASTER_KEY, testConfig, testLog, uniqueName, type TestDatabase } from './helpers.js';

const JOIN_EUI = '70b3d57ed0000001';
const APP_KEY = Buffer.from('2b7e151628aed2a6abf7158809cf4f3c', 'hex');
const GW_A = '0016c001f1500001';
const GW_B = '0016c001f1500002';

describe('OTAA joins end to end', () => {
  let db: TestDatabase;
  let service: Service;
  let publisher: MqttClient;
  let listener: MqttClient;
  let prefix: string;
  const downlinks: { topic: string; frame: GatewayDownlink; raw: Buffer }[] = [];

  const devEui = (n: number) => (0x70b3d57e00000000n + BigInt(n)).toString(16).padStart(16, '0');

  beforeAll(async () => {
    db = await createTestDatabase();
    prefix = `${uniqueName('t')}/eu868`;
    const vault = createKeyVault(TEST_MASTER_KEY);
    await upsertDeviceModel(db.pool, { id: 'lpp', name: 'LPP', decoderKind: 'builtin', builtinName: 'cayenne-lpp' });
    for (const [n, version] of [[1, '1.0.3'], [2, '1.0.4'], [3, '1.0.3']] as const) {
      await upsertDevice(db.pool, { devEui: devEui(n), modelId: 'lpp', joinEui: JOIN_EUI, macVersion: version, appKeySealed: vault.sealKey(APP_KEY, keyAad(devEui(n), 'appKey')) });
    }
    service = await startService(testConfig(db.url, { INGEST_CONCENTRATOR_PREFIXES: prefix, INGEST_CONCENTRATOR_BANDS: `${prefix}=EU868`, LORAWAN_NET_ID: '000013', LORAWAN_JOIN_DEDUP_WINDOW_MS: '150' }), testLog);
    listener = await mqtt.connectAsync(inject('mqttUrl'), { clientId: uniqueName('gw-'), protocolVersion: inject('mqttProtocolVersion') });
    listener.on('message', (topic, payload) => downlinks.push({ topic, frame: decodeGatewayDownlink(payload), raw: payload }));
    await listener.subscribeAsync(`${prefix}/gateway/+/command/down`, { qos: 1 });
    publisher = await mqtt.connectAsync(inject('mqttUrl'), { clientId: uniqueName('pub-'), protocolVersion: inject('mqttProtocolVersion') });
  });

  afterAll(async () => {
    await listener?.endAsync();
    await publisher?.endAsync();
    await service?.stop();
    await db?.drop();
  });

  /**
   * The request as two concentrators hear it: A weaker (protobuf), B stronger (JSON), SF9,
   * each reporting its own frequency (a concentrator may tag a frame with a neighbouring channel).
   */
  async function hear(phy: Buffer): Promise<void> {
    const common = { prefix, phyPayload: phy, spreadingFactor: 9 };
    await publisher.publishAsync(...asArgs(gatewayUplinkMessage({ ...common, gatewayId: GW_A, frequencyHz: 868_100_000, rssiDbm: -110, snrDb: -4, context: Buffer.from('aaaa0001', 'hex') })));
    await publisher.publishAsync(...asArgs(gatewayUplinkMessage({ ...common, gatewayId: GW_B, frequencyHz: 868_300_000, rssiDbm: -90, snrDb: 6.5, context: Buffer.from('bbbb0002', 'hex'), encoding: 'json' })));
  }

  async function deadLetter(reason: string): Promise<{ detail: string; dev_eui: string | null }> {
    return eventually(async () => (await db.pool.query<{ detail: string; dev_eui: string | null }>('select detail, dev_eui from dead_letters where reason = $1', [reason])).rows[0]);
  }

  it('answers a join-request heard twice with one accept through the better concentrator, and the first uplink proves the session', async () => {
    const devNonce = 0x1234;
    await hear(buildJoinRequest({ joinEui: JOIN_EUI, devEui: devEui(1), devNonce, appKey: APP_KEY }));
    const accept = await eventually(async () => (downlinks.length > 0 ? downlinks[0] : undefined));
    await new Promise((r) => setTimeout(r, 400));
    expect(downlinks).toHaveLength(1);
    expect(accept.topic).toBe(`${prefix}/gateway/${GW_B}/command/down`);
    // B spoke JSON: the answer is JSON too.
    expect(accept.raw[0]).toBe(0x7b);
    expect(accept.frame.context).toEqual(Buffer.from('bbbb0002', 'hex'));
    expect(accept.frame.items.map((i) => [i.tx.frequencyHz, i.tx.spreadingFactor, i.tx.delayS])).toEqual([[868_300_000, 9, 5], [869_525_000, 12, 6]]);
    const opened = openJoinAccept(APP_KEY, accept.frame.items[0]!.phyPayload)!;
    expect(opened).toMatchObject({ micValid: true, netId: '000013', joinNonce: 0 });
    expect(opened.devAddr).toMatch(/^2[67]/);
    const stored = await db.pool.query('select dev_addr, pending_dev_addr, pending_nwk_s_key from devices where dev_eui = $1', [devEui(1)]);
    expect(stored.rows[0]).toMatchObject({ dev_addr: null, pending_dev_addr: opened.devAddr });
    expect(stored.rows[0].pending_nwk_s_key).toMatch(/^v1:/);

    const keys = deriveSessionKeys(APP_KEY, opened.joinNonce, opened.netId, devNonce);
    const uplink = buildUplinkFrame({ devAddr: opened.devAddr, fCnt32: 0, fPort: 1, payload: Buffer.from('0367011a', 'hex'), nwkSKey: keys.nwkSKey, appSKey: keys.appSKey });
    await publisher.publishAsync(...asArgs(gatewayUplinkMessage({ prefix, gatewayId: GW_B, phyPayload: uplink, frequencyHz: 868_100_000, spreadingFactor: 7, rssiDbm: -80, snrDb: 8, context: Buffer.from('bbbb0003', 'hex') })));
    const row = await eventually(async () => (await db.pool.query('select f_port, decoded from uplinks where dev_eui = $1', [devEui(1)])).rows[0]);
    expect(row.decoded).toEqual({ temperatureSensor: { '3': 28.2 } });
    const promoted = await db.pool.query('select dev_addr, pending_dev_addr, f_cnt_up from devices where dev_eui = $1', [devEui(1)]);
    expect(promoted.rows[0]).toEqual({ dev_addr: opened.devAddr, pending_dev_addr: null, f_cnt_up: 0 });
    expect((await db.pool.query('select kind, gateway_id from downlinks')).rows).toEqual([{ kind: 'join_accept', gateway_id: GW_B }]);
  });

  it('dead-letters bad join-requests with their reason and changes no session', async () => {
    const before = (await db.pool.query('select dev_eui, dev_addr, nwk_s_key, pending_dev_addr, pending_nwk_s_key from devices order by dev_eui')).rows;
    const downlinksBefore = downlinks.length;
    await hear(buildJoinRequest({ joinEui: JOIN_EUI, devEui: devEui(3), devNonce: 7, appKey: Buffer.alloc(16, 9) }));
    expect((await deadLetter('mic_mismatch')).dev_eui).toBe(devEui(3));
    await hear(buildJoinRequest({ joinEui: JOIN_EUI, devEui: devEui(9), devNonce: 7, appKey: APP_KEY }));
    await deadLetter('unknown_deveui');
    await hear(buildJoinRequest({ joinEui: '0000000000000000', devEui: devEui(3), devNonce: 8, appKey: APP_KEY }));
    await deadLetter('unknown_joineui');
    await hear(buildJoinRequest({ joinEui: JOIN_EUI, devEui: devEui(3), devNonce: 9, appKey: APP_KEY }).subarray(0, 21));
    await deadLetter('malformed_frame');
    // A join-accept heard on the uplink side (a replayed accept) is not ours to take.
    await hear(downlinks[0]!.frame.items[0]!.phyPayload);
    await deadLetter('downlink_frame');
    // The answered request of the first test, sent again later (after a restart, and an hour on): its DevNonce is used.
    await db.pool.query("update otaa_joins set received_at = received_at - interval '1 hour'");
    const config = testConfig(db.url, { INGEST_CONCENTRATOR_PREFIXES: prefix, INGEST_CONCENTRATOR_BANDS: `${prefix}=EU868`, LORAWAN_NET_ID: '000013', LORAWAN_JOIN_DEDUP_WINDOW_MS: '150' });
    await service.stop();
    service = await startService(config, testLog);
    await hear(buildJoinRequest({ joinEui: JOIN_EUI, devEui: devEui(1), devNonce: 0x1234, appKey: APP_KEY }));
    expect((await deadLetter('devnonce_reused')).detail).toContain('DevNonce 4660');
    await new Promise((r) => setTimeout(r, 300));
    expect(downlinks.length).toBe(downlinksBefore);
    expect((await db.pool.query('select dev_eui, dev_addr, nwk_s_key, pending_dev_addr, pending_nwk_s_key from devices order by dev_eui')).rows).toEqual(before);
  });

  it('keeps the old session working until an uplink proves the new one', async () => {
    // Device 1 joined in the first test; its session keys are those of that join.
    const first = (await db.pool.query('select dev_addr from devices where dev_eui = $1', [devEui(1)])).rows[0].dev_addr as string;
    const oldAccept = openJoinAccept(APP_KEY, downlinks[0]!.frame.items[0]!.phyPayload)!;
    const oldKeys = deriveSessionKeys(APP_KEY, oldAccept.joinNonce, oldAccept.netId, 0x1234);
    const before = downlinks.length;
    await hear(buildJoinRequest({ joinEui: JOIN_EUI, devEui: devEui(1), devNonce: 0x2222, appKey: APP_KEY }));
    const accept = await eventually(async () => (downlinks.length > before ? downlinks[before] : undefined));
    const opened = openJoinAccept(APP_KEY, accept.frame.items[0]!.phyPayload)!;
    expect(opened.joinNonce).toBe(1);
    const newKeys = deriveSessionKeys(APP_KEY, opened.joinNonce, opened.netId, 0x2222);
    const up = (devAddr: string, keys: typeof newKeys, fCnt32: number) => gatewayUplinkMessage({
      prefix, gatewayId: GW_B, phyPayload: buildUplinkFrame({ devAddr, fCnt32, fPort: 1, payload: Buffer.from('0367011b', 'hex'), ...keys }),
      frequencyHz: 868_100_000, spreadingFactor: 7, rssiDbm: -80, snrDb: 8, context: Buffer.from([0, 0, 0, fCnt32]),
    });
    const stored = async (fCnt: number, count: number) => eventually(async () => ((await db.pool.query('select count(*)::int as n from uplinks where dev_eui = $1 and f_cnt = $2', [devEui(1), fCnt])).rows[0].n === count ? true : undefined));
    // The accept may have been lost: the device still speaks in its old session, and is heard.
    await publisher.publishAsync(...asArgs(up(first, oldKeys, 1)));
    await stored(1, 1);
    expect((await db.pool.query('select dev_addr, pending_dev_addr from devices where dev_eui = $1', [devEui(1)])).rows[0]).toEqual({ dev_addr: first, pending_dev_addr: opened.devAddr });
    // Its first uplink in the new session (counter 0) proves it; the old one is gone.
    await publisher.publishAsync(...asArgs(up(opened.devAddr, newKeys, 0)));
    await stored(0, 2);
    expect((await db.pool.query('select dev_addr, pending_dev_addr, f_cnt_up from devices where dev_eui = $1', [devEui(1)])).rows[0]).toEqual({ dev_addr: opened.devAddr, pending_dev_addr: null, f_cnt_up: 0 });
    await publisher.publishAsync(...asArgs(up(first, oldKeys, 2)));
    await deadLetter(first === opened.devAddr ? 'mic_mismatch' : 'unknown_devaddr');
  });

  it('holds a LoRaWAN 1.0.4 device to increasing DevNonces', async () => {
    await hear(buildJoinRequest({ joinEui: JOIN_EUI, devEui: devEui(2), devNonce: 10, appKey: APP_KEY }));
    await eventually(async () => ((await db.pool.query("select 1 from otaa_joins where dev_eui = $1 and dev_nonce = 10", [devEui(2)])).rowCount === 1 ? true : undefined));
    await hear(buildJoinRequest({ joinEui: JOIN_EUI, devEui: devEui(2), devNonce: 9, appKey: APP_KEY }));
    expect((await deadLetter('devnonce_not_increasing')).detail).toContain('DevNonce 9 is not above the last one, 10');
    await hear(buildJoinRequest({ joinEui: JOIN_EUI, devEui: devEui(2), devNonce: 11, appKey: APP_KEY }));
    const joins = await eventually(async () => {
      const r = await db.pool.query<{ dev_nonce: number; join_nonce: number }>('select dev_nonce, join_nonce from otaa_joins where dev_eui = $1 order by dev_nonce', [devEui(2)]);
      return r.rowCount === 2 ? r.rows : undefined;
    });
    expect(joins).toEqual([{ dev_nonce: 10, join_nonce: 0 }, { dev_nonce: 11, join_nonce: 1 }]);
  });
});

function asArgs(m: { topic: string; payload: Buffer }): [string, Buffer, { qos: 1 }] {
  return [m.topic, m.payload, { qos: 1 }];
}
