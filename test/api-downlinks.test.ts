/**
 * The downlink side of the API on the running service: OTAA registration (typed, TR005
 * QR, CSV; the AppKey sealed and never returned), the application downlink queue (roles,
 * audit, 4xx for a bad FPort, a payload too long for the data rate, a codec error),
 * street lamps (one lamp, a zone, confirmation by the next report), and devices behind
 * ChirpStack and The Things Stack, whose downlinks go to their MQTT downlink topics and
 * whose reports (txack/ack, down/sent, down/ack) settle the delivery state.
 */
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { createApiKey, type Role } from '../api/auth.js';
import { startService, type Service } from '../service.js';
import { buildUplinkFrame, createKeyVault, keyAad } from '../ingest/lorawan/index.js';
import { encodeStreetlight } from '../decoders/index.js';
import { gatewayUplinkMessage } from '../simulators/messages.js';
import { upsertAsset, upsertDevice, upsertDeviceModel } from '../storage/index.js';
import { createTestDatabase, eventually, TEST_MASTER_KEY, testConfig, testLog, uniqueName, type TestDatabase } from './helpers.js';

const ABP = '70b3d57ed0000a01';
const LAMP = '70b3d57ed0000a02';
const CS_DEVICE = '70b3d57ed0000a03';
const TTS_DEVICE = '70b3d57ed0000a04';
const nwkSKey = Buffer.alloc(16, 0x11);
const appSKey = Buffer.alloc(16, 0x22);
const APP_KEY_HEX = '000102030405060708090a0b0c0d0e0f';

describe('downlink API', () => {
  let db: TestDatabase;
  let service: Service;
  let publisher: MqttClient;
  let networkServer: MqttClient;
  let ids: ReturnType<typeof testConfig>['ingest'];
  const keys = {} as Record<Role, string>;
  const nsMessages: { topic: string; body: Record<string, unknown> }[] = [];

  beforeAll(async () => {
    db = await createTestDatabase();
    const vault = createKeyVault(TEST_MASTER_KEY);
    await upsertDeviceModel(db.pool, { id: 'lpp', name: 'LPP', decoderKind: 'builtin', builtinName: 'cayenne-lpp' });
    await upsertDeviceModel(db.pool, { id: 'light-v1', name: 'Streetlight controller', decoderKind: 'builtin', builtinName: 'stadtfunk-streetlight' });
    await upsertDeviceModel(db.pool, { id: 'plain-codec', name: 'codec without encodeDownlink', decoderKind: 'codec', codecScript: 'function decodeUplink() { return { data: {} }; }' });
    await upsertAsset(db.pool, { id: 'lamp-7', kind: 'street_lamp', latitude: 51.226, longitude: 6.773, zone: 'altstadt' });
    await upsertAsset(db.pool, { id: 'lamp-8', kind: 'street_lamp', latitude: 51.227, longitude: 6.774, zone: 'altstadt' });
    await upsertDevice(db.pool, { devEui: ABP, modelId: 'lpp', devAddr: '26000a01', nwkSKeySealed: vault.sealKey(nwkSKey, keyAad(ABP, 'nwkSKey')), appSKeySealed: vault.sealKey(appSKey, keyAad(ABP, 'appSKey')) });
    await upsertDevice(db.pool, { devEui: LAMP, modelId: 'light-v1', assetId: 'lamp-7', devAddr: '26000a02', nwkSKeySealed: vault.sealKey(nwkSKey, keyAad(LAMP, 'nwkSKey')), appSKeySealed: vault.sealKey(appSKey, keyAad(LAMP, 'appSKey')) });
    await upsertDevice(db.pool, { devEui: CS_DEVICE, modelId: 'light-v1', assetId: 'lamp-8' });
    await upsertDevice(db.pool, { devEui: TTS_DEVICE, modelId: 'plain-codec' });
    const config = testConfig(db.url, { LORAWAN_NET_ID: '000013' });
    ids = config.ingest;
    service = await startService({ ...config, ingest: { ...config.ingest, concentratorBands: { [config.ingest.concentratorPrefixes[0]!]: 'EU868' } } }, testLog);
    for (const role of ['admin', 'technician', 'operator'] as const) keys[role] = (await createApiKey(db.pool, `${role} key`, role)).key;
    publisher = await mqtt.connectAsync(inject('mqttUrl'), { clientId: uniqueName('pub-'), protocolVersion: inject('mqttProtocolVersion') });
    networkServer = await mqtt.connectAsync(inject('mqttUrl'), { clientId: uniqueName('ns-'), protocolVersion: inject('mqttProtocolVersion') });
    networkServer.on('message', (topic, payload) => nsMessages.push({ topic, body: JSON.parse(payload.toString()) }));
    await networkServer.subscribeAsync([`${ids.chirpstackPrefix}/+/device/+/command/down`, `${ids.ttsPrefix}/+/devices/+/down/push`], { qos: 1 });
  });

  afterAll(async () => {
    await networkServer?.endAsync();
    await publisher?.endAsync();
    await service?.stop();
    await db?.drop();
  });

  async function call(method: string, url: string, role: Role | null, body?: unknown, headers: Record<string, string> = {}) {
    const res = await service.app.inject({
      method: method as 'GET', url,
      headers: { ...(role ? { authorization: `Bearer ${keys[role]}` } : {}), ...(body !== undefined && typeof body !== 'string' ? { 'content-type': 'application/json' } : {}), ...headers },
      ...(body === undefined ? {} : { payload: typeof body === 'string' ? body : JSON.stringify(body) }),
    });
    return { status: res.statusCode, json: res.headers['content-type']?.includes('json') ? res.json() : res.body, body: res.body };
  }

  /** A concentrator uplink of an ABP device (SF12, so RX1 carries at most 51 bytes in EU868). */
  async function concentratorUplink(devEui: string, devAddr: string, fCnt: number, fPort: number, payload: Buffer, sf = 12): Promise<void> {
    const phy = buildUplinkFrame({ devAddr, fCnt32: fCnt, fPort, payload, nwkSKey, appSKey });
    const m = gatewayUplinkMessage({ prefix: ids.concentratorPrefixes[0]!, gatewayId: '0016c001f1500001', phyPayload: phy, frequencyHz: 868_100_000, spreadingFactor: sf, rssiDbm: -100, snrDb: 2, context: Buffer.from([1, 2, 3, fCnt & 0xff]) });
    await publisher.publishAsync(m.topic, m.payload, { qos: 1 });
    await eventually(async () => ((await db.pool.query('select 1 from uplinks where dev_eui = $1 and f_cnt = $2', [devEui, fCnt])).rowCount === 1 ? true : undefined));
  }

  describe('OTAA registration', () => {
    it('registers a device from its TR005 QR code and an AppKey, keeps the key sealed and never shows it', async () => {
      const res = await call('POST', '/api/v1/devices', 'technician', { qr: 'LW:D0:70B3D57ED0000001:70B3D57ED00000B1:00AA00BB:SLAMP-1', appKey: APP_KEY_HEX, macVersion: '1.0.4', modelId: 'lpp' });
      expect(res.status).toBe(201);
      expect(res.json).toMatchObject({ devEui: '70b3d57ed00000b1', joinEui: '70b3d57ed0000001', appKeySet: true, macVersion: '1.0.4', joinPending: false, nwkSKeySet: false });
      expect(res.body).not.toContain(APP_KEY_HEX);
      const stored = (await db.pool.query('select app_key from devices where dev_eui = $1', ['70b3d57ed00000b1'])).rows[0].app_key as string;
      expect(stored).toMatch(/^v1:/);
      expect(createKeyVault(TEST_MASTER_KEY).openKey(stored, keyAad('70b3d57ed00000b1', 'appKey')).toString('hex')).toBe(APP_KEY_HEX);
      const audit = await eventually(async () => (await db.pool.query("select detail from audit_log where action = 'device.create' and target = $1", ['70b3d57ed00000b1'])).rows[0]);
      expect(audit.detail).toMatchObject({ otaa: true });
      expect(JSON.stringify(audit.detail)).not.toContain(APP_KEY_HEX);
    });

    it('refuses an AppKey without JoinEUI and an AppKey beside ABP keys', async () => {
      expect((await call('POST', '/api/v1/devices', 'technician', { devEui: '70b3d57ed00000b2', appKey: APP_KEY_HEX, modelId: 'lpp' })).json).toMatchObject({ message: expect.stringMatching(/^joinEui: is required/) });
      const both = await call('POST', '/api/v1/devices', 'technician', { devEui: '70b3d57ed00000b2', joinEui: '70b3d57ed0000001', appKey: APP_KEY_HEX, devAddr: '26000001', nwkSKey: APP_KEY_HEX, appSKey: APP_KEY_HEX, modelId: 'lpp' });
      expect(both).toMatchObject({ status: 400, json: { message: expect.stringMatching(/^appKey: /) } });
    });

    it('imports OTAA devices from CSV', async () => {
      const csv = `devEui,joinEui,appKey,macVersion,modelId\n70b3d57ed00000b3,70b3d57ed0000001,${APP_KEY_HEX},1.0.3,lpp\n70b3d57ed00000b4,,${APP_KEY_HEX},1.0.3,lpp\n`;
      const res = await call('POST', '/api/v1/devices/import', 'technician', csv, { 'content-type': 'text/csv' });
      expect(res.json).toMatchObject({ imported: 1, failed: 1, problems: [{ row: 3, field: 'joinEui' }] });
      expect((await call('GET', '/api/v1/devices/70b3d57ed00000b3', 'technician')).json).toMatchObject({ appKeySet: true, joinEui: '70b3d57ed0000001' });
    });
  });

  describe('application downlinks', () => {
    it('queues bytes for an operator, shows the delivery state, and audits both', async () => {
      const res = await call('POST', `/api/v1/devices/${ABP}/downlinks`, 'operator', { fPort: 5, hex: 'cafe', confirmed: true });
      expect(res.status).toBe(201);
      expect(res.json).toMatchObject({ devEui: ABP, fPort: 5, dataBase64: Buffer.from('cafe', 'hex').toString('base64'), confirmed: true, state: 'queued', route: 'concentrator', attempts: 0, requestedBy: 'operator key' });
      const list = await call('GET', `/api/v1/devices/${ABP}/downlinks`, 'technician');
      expect(list.json.items.map((i: { id: number }) => i.id)).toEqual([res.json.id]);
      expect((await call('DELETE', `/api/v1/devices/${ABP}/downlinks/${res.json.id}`, 'operator')).status).toBe(204);
      expect((await call('DELETE', `/api/v1/devices/${ABP}/downlinks/${res.json.id}`, 'operator')).status).toBe(409);
      const actions = await eventually(async () => {
        const r = await db.pool.query<{ action: string }>("select action from audit_log where action like 'downlink.%' order by id");
        return r.rowCount! >= 3 ? r.rows.map((a) => a.action) : undefined;
      });
      expect(actions).toEqual(['downlink.queue', 'downlink.list', 'downlink.cancel']);
    });

    it.each<[string, Role, unknown, number, string]>([
      ['a technician', 'technician', { fPort: 5, hex: '01' }, 403, 'STADTFUNK_ERR_FORBIDDEN'],
      ['FPort 0', 'operator', { fPort: 0, hex: '01' }, 400, 'STADTFUNK_ERR_BAD_FPORT'],
      ['FPort 224', 'operator', { fPort: 224, hex: '01' }, 400, 'STADTFUNK_ERR_BAD_FPORT'],
      ['no FPort for bytes', 'operator', { hex: '01' }, 400, 'STADTFUNK_ERR_BAD_FPORT'],
      ['bytes and an object at once', 'operator', { fPort: 5, hex: '01', object: { a: 1 } }, 400, 'STADTFUNK_ERR_BAD_REQUEST'],
      ['odd hex', 'operator', { fPort: 5, hex: '012' }, 400, 'STADTFUNK_ERR_VALIDATION'],
      ['an object the built-in format cannot encode', 'operator', { object: { a: 1 } }, 422, 'STADTFUNK_ERR_ENCODE'],
    ])('refuses %s', async (_name, role, body, status, code) => {
      const res = await call('POST', `/api/v1/devices/${ABP}/downlinks`, role, body);
      expect(res).toMatchObject({ status, json: { code } });
    });

    it('refuses a payload too long for the data rate of the device\'s last uplink (SF12 in EU868: 51 bytes), and takes one that fits', async () => {
      await concentratorUplink(ABP, '26000a01', 1, 1, Buffer.from('0367011a', 'hex'));
      const tooLong = await call('POST', `/api/v1/devices/${ABP}/downlinks`, 'operator', { fPort: 5, data: Buffer.alloc(52).toString('base64') });
      expect(tooLong).toMatchObject({ status: 400, json: { code: 'STADTFUNK_ERR_TOO_LONG', message: expect.stringContaining('51 bytes') } });
      expect((await call('POST', `/api/v1/devices/${ABP}/downlinks`, 'operator', { fPort: 5, data: Buffer.alloc(51).toString('base64') })).status).toBe(201);
    });

    it('says 422 when the device\'s codec cannot encode, 404 for an unknown device, 409 for one it cannot reach', async () => {
      await db.pool.query("update devices set downlink_route = 'tts', downlink_topic = 'x/y' where dev_eui = $1", [TTS_DEVICE]);
      expect(await call('POST', `/api/v1/devices/${TTS_DEVICE}/downlinks`, 'operator', { object: { level: 1 } })).toMatchObject({ status: 422, json: { message: expect.stringContaining('no encodeDownlink') } });
      await db.pool.query('update devices set downlink_route = null, downlink_topic = null where dev_eui = $1', [TTS_DEVICE]);
      expect((await call('POST', '/api/v1/devices/70b3d57ed00000ff/downlinks', 'operator', { fPort: 1, hex: '00' })).status).toBe(404);
      expect(await call('POST', `/api/v1/devices/${TTS_DEVICE}/downlinks`, 'operator', { fPort: 1, hex: '00' })).toMatchObject({ status: 409, json: { code: 'STADTFUNK_ERR_NO_DOWNLINK_PATH' } });
    });
  });

  describe('street lamps', () => {
    it('dims one lamp; the next report confirms it', async () => {
      const res = await call('POST', '/api/v1/lamps/lamp-7/command', 'operator', { lamp_on: true, dim_level: 40 });
      expect(res.status).toBe(202);
      expect(res.json.queued).toHaveLength(1);
      expect(res.json.queued[0]).toMatchObject({ devEui: LAMP, fPort: 12, dataBase64: Buffer.from([1, 1, 40]).toString('base64'), object: { lamp_on: true, dim_level: 40 } });
      const lampOf = async () => (await call('GET', '/api/v1/lamps?zone=altstadt', 'operator')).json.items.find((l: { devEui: string }) => l.devEui === LAMP);
      expect((await lampOf()).command).toMatchObject({ lampOn: true, dimLevel: 40, state: 'queued', confirmation: 'pending' });
      // The controller's next uplink takes the command (RX1), the gateway sends it; the report after it shows 40 %.
      await concentratorUplink(LAMP, '26000a02', 1, 12, encodeStreetlight({ lamp_on: true, dim_level: 100, power: 38, energy: 1000, voltage: 230 }), 9);
      await eventually(async () => ((await lampOf()).command.state === 'sent' ? true : undefined));
      await concentratorUplink(LAMP, '26000a02', 2, 12, encodeStreetlight({ lamp_on: true, dim_level: 40, power: 15, energy: 1001, voltage: 230 }), 9);
      const lamp = await lampOf();
      expect(lamp.reported).toMatchObject({ lampOn: true, dimLevel: 40 });
      expect(lamp.command.confirmation).toBe('confirmed');
    });

    it('switches a zone off: every controller gets the command through its own path', async () => {
      // The controller of lamp-8 is behind ChirpStack: its uplink taught stadtfunk the way back.
      const app = 'a5e1b2c3-0000-4000-8000-000000000001';
      await publisher.publishAsync(`${ids.chirpstackPrefix}/${app}/device/${CS_DEVICE}/event/up`, JSON.stringify({ deduplicationId: uniqueName('cs-'), time: new Date().toISOString(), deviceInfo: { devEui: CS_DEVICE }, fCnt: 1, fPort: 12, data: encodeStreetlight({ lamp_on: true, dim_level: 100, power: 38, energy: 1, voltage: 230 }).toString('base64') }), { qos: 1 });
      await eventually(async () => ((await db.pool.query("select 1 from devices where dev_eui = $1 and downlink_route = 'chirpstack'", [CS_DEVICE])).rowCount === 1 ? true : undefined));
      const res = await call('POST', '/api/v1/zones/altstadt/lamps/command', 'operator', { lamp_on: false });
      expect(res.status).toBe(202);
      expect(res.json.queued.map((q: { devEui: string; route: string }) => [q.devEui, q.route]).sort()).toEqual([[LAMP, 'concentrator'], [CS_DEVICE, 'chirpstack']].sort());
      const command = await eventually(async () => nsMessages.find((m) => m.topic === `${ids.chirpstackPrefix}/${app}/device/${CS_DEVICE}/command/down`));
      expect(command.body).toMatchObject({ devEui: CS_DEVICE, fPort: 12, confirmed: false, data: Buffer.from([1, 0, 0]).toString('base64') });
      // ChirpStack reports the gateway took it.
      await publisher.publishAsync(`${ids.chirpstackPrefix}/${app}/device/${CS_DEVICE}/event/txack`, JSON.stringify({ queueItemId: command.body.id, deviceInfo: { devEui: CS_DEVICE }, fCntDown: 3 }), { qos: 1 });
      const item = res.json.queued.find((q: { devEui: string }) => q.devEui === CS_DEVICE);
      const state = await eventually(async () => { const r = (await db.pool.query('select state, tx_status from downlink_queue where id = $1', [item.id])).rows[0]; return r.tx_status ? r : undefined; });
      expect(state).toEqual({ state: 'sent', tx_status: 'OK' });
    });
  });

  describe('devices behind The Things Stack', () => {
    it('pushes a confirmed downlink to the device\'s down/push topic and takes its ack', async () => {
      await upsertDeviceModel(db.pool, { id: 'tts-codec', name: 'codec', decoderKind: 'codec', codecScript: 'function decodeUplink() { return { data: {} }; } function encodeDownlink(i) { return { bytes: [i.data.level], fPort: 3 }; }' });
      await db.pool.query("update devices set model_id = 'tts-codec' where dev_eui = $1", [TTS_DEVICE]);
      await publisher.publishAsync(`${ids.ttsPrefix}/city-app@stadt/devices/sensor-4/up`, JSON.stringify({ end_device_ids: { device_id: 'sensor-4', dev_eui: TTS_DEVICE.toUpperCase() }, uplink_message: { f_port: 1, f_cnt: 9, frm_payload: 'AQ==', received_at: new Date().toISOString() } }), { qos: 1 });
      await eventually(async () => ((await db.pool.query("select 1 from devices where dev_eui = $1 and downlink_route = 'tts'", [TTS_DEVICE])).rowCount === 1 ? true : undefined));
      const res = await call('POST', `/api/v1/devices/${TTS_DEVICE}/downlinks`, 'admin', { object: { level: 9 }, confirmed: true });
      expect(res.json).toMatchObject({ route: 'tts', fPort: 3, dataBase64: Buffer.from([9]).toString('base64') });
      const push = await eventually(async () => nsMessages.find((m) => m.topic === `${ids.ttsPrefix}/city-app@stadt/devices/sensor-4/down/push`));
      const downlink = (push.body.downlinks as Record<string, unknown>[])[0]!;
      expect(downlink).toMatchObject({ f_port: 3, frm_payload: 'CQ==', confirmed: true, priority: 'NORMAL' });
      await publisher.publishAsync(`${ids.ttsPrefix}/city-app@stadt/devices/sensor-4/down/ack`, JSON.stringify({ end_device_ids: { device_id: 'sensor-4' }, downlink_ack: { f_port: 3, frm_payload: 'CQ==', confirmed: true, correlation_ids: downlink.correlation_ids } }), { qos: 1 });
      const state = await eventually(async () => { const r = (await db.pool.query('select state from downlink_queue where id = $1', [res.json.id])).rows[0]; return r.state === 'acknowledged' ? r : undefined; });
      expect(state.state).toBe('acknowledged');
    });
  });
});
