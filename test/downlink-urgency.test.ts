/**
 * An unconfirmed uplink from a concentrator is as urgent as a confirmed one: whether the
 * device gets something in RX1 (here its queued downlink) is only known once the frame is
 * resolved, so its batch goes to the database as soon as a slot is free instead of waiting
 * out INGEST_BATCH_MAX_AGE_MS (set to a minute here, longer than the test waits).
 */
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { startService, type Service } from '../service.js';
import { buildUplinkFrame, createKeyVault, decodeGatewayDownlink, keyAad, openDownlinkFrame, type GatewayDownlink } from '../ingest/lorawan/index.js';
import { gatewayUplinkMessage } from '../simulators/messages.js';
import { insertQueueItems, upsertDevice, upsertDeviceModel } from '../storage/index.js';
import { createTestDatabase, eventually, TEST_MASTER_KEY, testConfig, testLog, uniqueName, type TestDatabase } from './helpers.js';

const DEV_EUI = '70b3d57ed000abce';
const DEV_ADDR = '26011f01';
const nwkSKey = Buffer.from('000102030405060708090a0b0c0d0e0f', 'hex');
const appSKey = Buffer.from('0f0e0d0c0b0a09080706050403020100', 'hex');
const GW = '0016c001f1500004';

describe('downlinks after an unconfirmed uplink', () => {
  let db: TestDatabase;
  let service: Service;
  let publisher: MqttClient;
  let gateway: MqttClient;
  let prefix: string;
  const downlinks: GatewayDownlink[] = [];

  beforeAll(async () => {
    db = await createTestDatabase();
    prefix = `${uniqueName('t')}/eu868`;
    const vault = createKeyVault(TEST_MASTER_KEY);
    await upsertDeviceModel(db.pool, { id: 'lpp', name: 'LPP', decoderKind: 'builtin', builtinName: 'cayenne-lpp' });
    await upsertDevice(db.pool, { devEui: DEV_EUI, modelId: 'lpp', devAddr: DEV_ADDR, nwkSKeySealed: vault.sealKey(nwkSKey, keyAad(DEV_EUI, 'nwkSKey')), appSKeySealed: vault.sealKey(appSKey, keyAad(DEV_EUI, 'appSKey')) });
    service = await startService(testConfig(db.url, { INGEST_CONCENTRATOR_PREFIXES: prefix, INGEST_CONCENTRATOR_BANDS: `${prefix}=EU868`, INGEST_BATCH_MAX_AGE_MS: '60000' }), testLog);
    gateway = await mqtt.connectAsync(inject('mqttUrl'), { clientId: uniqueName('gw-'), protocolVersion: inject('mqttProtocolVersion') });
    gateway.on('message', (_topic, payload) => downlinks.push(decodeGatewayDownlink(payload)));
    await gateway.subscribeAsync(`${prefix}/gateway/${GW}/command/down`, { qos: 1 });
    publisher = await mqtt.connectAsync(inject('mqttUrl'), { clientId: uniqueName('pub-'), protocolVersion: inject('mqttProtocolVersion') });
  });

  afterAll(async () => {
    await gateway?.endAsync();
    await publisher?.endAsync();
    await service?.stop();
    await db?.drop();
  });

  it('sends the queued downlink for RX1 without waiting for the batch age', async () => {
    await insertQueueItems(db.pool, [{ devEui: DEV_EUI, fPort: 12, payload: Buffer.from([0x01, 0x28]), confirmed: false, object: null, route: 'concentrator', routeTopic: null, requestedBy: 'test' }]);
    const phy = buildUplinkFrame({ devAddr: DEV_ADDR, fCnt32: 0, fPort: 1, payload: Buffer.from('0367011a', 'hex'), confirmed: false, nwkSKey, appSKey });
    const m = gatewayUplinkMessage({ prefix, gatewayId: GW, phyPayload: phy, frequencyHz: 868_500_000, spreadingFactor: 8, rssiDbm: -95, snrDb: 3, context: Buffer.from([0, 0, 2, 0]) });
    await publisher.publishAsync(m.topic, m.payload, { qos: 1 });
    // Well within the minute the batch would otherwise wait.
    const frame = await eventually(async () => downlinks.shift(), { timeoutMs: 10_000 });
    expect(openDownlinkFrame(frame.items[0]!.phyPayload, { devAddr: DEV_ADDR, nwkSKey, appSKey }, null)).toMatchObject({ fPort: 12, payload: Buffer.from([0x01, 0x28]) });
    expect(frame.items[0]!.tx.delayS).toBe(1);
  });
});
