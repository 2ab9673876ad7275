/**
 * Joins and downlinks hold the ingest guarantees (private Mosquitto, MQTT 5):
 * - two workers on one shared subscription, each join-request heard by three
 *   concentrators whose copies land on either worker: every request is answered
 *   exactly once, and every queued downlink goes out exactly once after the device's
 *   first uplink (the database decides, not memory);
 * - a service restart keeps a queued downlink, sent after the next uplink;
 * - a broker restart that loses a published downlink: no event/ack comes, the
 *   transmission is recorded as lost and the downlink goes out after the next uplink.
 * Skipped (with a message) where no mosquitto binary exists.
 */
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startService, type Service } from '../service.js';
import { buildUplinkFrame, createKeyVault, decodeGatewayDownlink, deriveSessionKeys, encodeGatewayTxAck, keyAad, openDownlinkFrame, openJoinAccept, type GatewayDownlink } from '../ingest/lorawan/index.js';
import { buildFleet } from '../simulators/fleet.js';
import { CONCENTRATORS, gatewayUplinkMessage } from '../simulators/messages.js';
import { SimOtaaDevice } from '../simulators/otaa-device.js';
import { otaaIdentityOf } from '../simulators/otaa-city.js';
import { Random } from '../simulators/random.js';
import { registerOtaaFleet } from '../simulators/register.js';
import { insertQueueItems, upsertDevice, upsertDeviceModel } from '../storage/index.js';
import { createTestDatabase, eventually, TEST_MASTER_KEY, testConfig, testLog, uniqueName, type TestDatabase } from './helpers.js';
import { mosquittoAvailable, startMosquitto, type TestMosquitto } from './mosquitto.js';

const hasMosquitto = mosquittoAvailable();
if (!hasMosquitto) console.warn('SKIPPED joins and downlinks with two workers and a broker restart: no mosquitto binary');
const DEVICES = 120;

describe.skipIf(!hasMosquitto)('joins and downlinks: two workers, restarts', () => {
  let db: TestDatabase;
  let broker: TestMosquitto;
  let brokerPort: number;
  let gateway: MqttClient;
  const services: Service[] = [];
  const prefix = `${uniqueName('t')}/450mhz`;
  const commands: { topic: string; frame: GatewayDownlink }[] = [];

  const env = (extra: Record<string, string> = {}) => testConfig(db.url, {
    MQTT_URL: broker.url, MQTT_PROTOCOL_VERSION: '5', INGEST_CONCENTRATOR_PREFIXES: prefix, INGEST_CONCENTRATOR_BANDS: `${prefix}=450MHz`, ...extra,
  });

  async function connectGateway(): Promise<MqttClient> {
    const client = await mqtt.connectAsync(broker.url, { clientId: uniqueName('gw-'), protocolVersion: 5, reconnectPeriod: 200 });
    client.on('message', (topic, payload) => commands.push({ topic, frame: decodeGatewayDownlink(payload) }));
    await client.subscribeAsync(`${prefix}/gateway/+/command/down`, { qos: 1 });
    return client;
  }

  function copies(index: number, phy: Buffer) {
    return CONCENTRATORS.map((gw, g) => {
      const context = Buffer.alloc(8);
      context.writeUInt32BE(index, 0);
      context.writeUInt32BE(g, 4);
      return gatewayUplinkMessage({ prefix, gatewayId: gw.gatewayId, phyPayload: phy, frequencyHz: 451_350_000, spreadingFactor: 9, rssiDbm: -90 - 10 * g, snrDb: 5 - 3 * g, context });
    });
  }

  beforeAll(async () => {
    db = await createTestDatabase();
    broker = await startMosquitto();
    brokerPort = Number(new URL(broker.url).port);
    gateway = await connectGateway();
  });

  afterAll(async () => {
    await gateway?.endAsync();
    for (const s of services) await s.stop();
    await broker?.stop();
    await db?.drop();
  });

  it('answers every join-request once and sends every queued downlink once, with two workers sharing the copies', async () => {
    const fleet = buildFleet({ devices: DEVICES, kinds: ['streetlight'], seed: 'workers' });
    await registerOtaaFleet(db.pool, fleet, TEST_MASTER_KEY, 'workers');
    const group = uniqueName('g');
    for (const n of [1, 2]) services.push(await startService(env({ MQTT_SHARED_GROUP: group, MQTT_CLIENT_ID: `${group}-w${n}` }), testLog));
    const publisher = await mqtt.connectAsync(broker.url, { clientId: uniqueName('pub-'), protocolVersion: 5 });
    const sims = fleet.map((d) => new SimOtaaDevice(otaaIdentityOf(d, 'workers'), new Random(d.devEui)));
    for (const [i, sim] of sims.entries()) for (const m of copies(i, sim.joinRequest())) publisher.publish(m.topic, m.payload, { qos: 1 });
    await eventually(async () => ((await db.pool.query('select count(*)::int as n from otaa_joins')).rows[0].n === DEVICES ? true : undefined), { timeoutMs: 30_000 });
    await new Promise((r) => setTimeout(r, 1500)); // a second accept would come now
    const accepts = commands.filter((c) => c.frame.items[0]!.phyPayload[0] === 0x20);
    const perDevice = new Map<number, number>();
    for (const a of accepts) perDevice.set(a.frame.context.readUInt32BE(0), (perDevice.get(a.frame.context.readUInt32BE(0)) ?? 0) + 1);
    expect(accepts).toHaveLength(DEVICES);
    expect([...perDevice.values()].every((n) => n === 1)).toBe(true);
    expect((await db.pool.query("select count(*)::int as n from downlinks where kind = 'join_accept'")).rows[0].n).toBe(DEVICES);

    // Each device opens its accept; one downlink per device is queued; the first uplinks (three copies) go out.
    for (const a of accepts) {
      const i = a.frame.context.readUInt32BE(0);
      expect(sims[i]!.onDownlink(a.frame.items[0]!.phyPayload)).toBe('join_accept');
    }
    await insertQueueItems(db.pool, fleet.map((d) => ({ devEui: d.devEui, fPort: 12, payload: Buffer.from([1, 1, 50]), confirmed: false, object: null, route: 'concentrator' as const, routeTopic: null, requestedBy: 'test' })));
    commands.length = 0;
    for (const [i, sim] of sims.entries()) for (const m of copies(i, sim.uplink(12, Buffer.from([1, 1, 100, 0, 0, 0, 0, 0, 0, 0, 0]), false))) publisher.publish(m.topic, m.payload, { qos: 1 });
    await eventually(async () => ((await db.pool.query("select count(*)::int as n from downlink_queue where state = 'sent'")).rows[0].n === DEVICES ? true : undefined), { timeoutMs: 30_000 });
    await new Promise((r) => setTimeout(r, 1500));
    expect(commands).toHaveLength(DEVICES);
    for (const c of commands) expect(sims[c.frame.context.readUInt32BE(0)]!.onDownlink(c.frame.items[0]!.phyPayload)).toBe('data');
    expect(sims.every((s) => s.lamp?.dimPercent === 50)).toBe(true);
    expect((await db.pool.query('select count(*)::int as n from uplinks')).rows[0].n).toBe(DEVICES);
    await publisher.endAsync();
    for (const s of services.splice(0)) await s.stop();
  }, 120_000);

  describe('one device, one worker', () => {
    const devEui = '70b3d57ed000c0de';
    const devAddr = '26c0de00';
    const nwkSKey = Buffer.alloc(16, 3);
    const appSKey = Buffer.alloc(16, 4);
    let fCnt = 0;
    let lastFCntDown: number | null = null;
    let publisher: MqttClient;

    beforeAll(async () => {
      const vault = createKeyVault(TEST_MASTER_KEY);
      await upsertDeviceModel(db.pool, { id: 'lpp', name: 'LPP', decoderKind: 'builtin', builtinName: 'cayenne-lpp' });
      await upsertDevice(db.pool, { devEui, modelId: 'lpp', devAddr, nwkSKeySealed: vault.sealKey(nwkSKey, keyAad(devEui, 'nwkSKey')), appSKeySealed: vault.sealKey(appSKey, keyAad(devEui, 'appSKey')) });
      publisher = await mqtt.connectAsync(broker.url, { clientId: uniqueName('pub-'), protocolVersion: 5, reconnectPeriod: 200 });
    });
    afterAll(async () => publisher?.endAsync());

    async function uplink(): Promise<void> {
      const n = fCnt++;
      const [m] = copies(n, buildUplinkFrame({ devAddr, fCnt32: n, fPort: 1, payload: Buffer.from('0367011a', 'hex'), nwkSKey, appSKey }));
      await publisher.publishAsync(m!.topic, m!.payload, { qos: 1 });
      await eventually(async () => ((await db.pool.query('select 1 from uplinks where dev_eui = $1 and f_cnt = $2', [devEui, n])).rowCount === 1 ? true : undefined), { timeoutMs: 20_000 });
    }

    async function downlink(): Promise<{ frame: GatewayDownlink; fCnt32: number }> {
      const c = await eventually(async () => commands.find((x) => openDownlinkFrame(x.frame.items[0]!.phyPayload, { devAddr, nwkSKey, appSKey }, lastFCntDown)));
      commands.splice(commands.indexOf(c), 1);
      const opened = openDownlinkFrame(c.frame.items[0]!.phyPayload, { devAddr, nwkSKey, appSKey }, lastFCntDown)!;
      lastFCntDown = opened.fCnt32;
      expect(opened.fPort).toBe(9);
      return { frame: c.frame, fCnt32: opened.fCnt32 };
    }

    it('keeps a queued downlink over a service restart', async () => {
      commands.length = 0;
      services.push(await startService(env(), testLog));
      const [item] = await insertQueueItems(db.pool, [{ devEui, fPort: 9, payload: Buffer.from([7]), confirmed: false, object: null, route: 'concentrator', routeTopic: null, requestedBy: 'test' }]);
      await services.pop()!.stop();
      services.push(await startService(env(), testLog));
      await uplink();
      const { frame } = await downlink();
      await gateway.publishAsync(`${prefix}/gateway/${frame.gatewayId}/event/ack`, encodeGatewayTxAck({ gatewayId: frame.gatewayId, downlinkId: frame.downlinkId, statuses: ['OK'] }, 'protobuf'), { qos: 1 });
      await eventually(async () => ((await db.pool.query('select tx_status from downlink_queue where id = $1', [item!.id])).rows[0].tx_status === 'OK' ? true : undefined));
    });

    it('sends a downlink lost in a broker restart again after the next uplink, the loss recorded', async () => {
      await services.pop()!.stop();
      services.push(await startService(env({ LORAWAN_DOWNLINK_ACK_TIMEOUT_MS: '2000' }), testLog));
      const [item] = await insertQueueItems(db.pool, [{ devEui, fPort: 9, payload: Buffer.from([8]), confirmed: false, object: null, route: 'concentrator', routeTopic: null, requestedBy: 'test' }]);
      // The concentrator is away (not subscribed) when the downlink is published; then the broker restarts.
      await gateway.endAsync();
      await uplink();
      await eventually(async () => ((await db.pool.query("select state from downlink_queue where id = $1", [item!.id])).rows[0].state === 'sent' ? true : undefined));
      await broker.stop();
      broker = await startMosquitto({ port: brokerPort });
      const lost = await eventually(async () => (await db.pool.query("select tx_status, state, attempts from downlink_queue where id = $1 and tx_status = 'NO_ACK'", [item!.id])).rows[0], { timeoutMs: 20_000 });
      expect(lost).toEqual({ tx_status: 'NO_ACK', state: 'queued', attempts: 1 });
      expect((await db.pool.query("select count(*)::int as n from downlinks where tx_status = 'NO_ACK' and dev_eui = $1", [devEui])).rows[0].n).toBe(1);
      commands.length = 0;
      gateway = await connectGateway();
      await eventually(async () => (services[0]!.ingest.connected() ? true : undefined), { timeoutMs: 20_000 });
      await uplink();
      const { frame, fCnt32 } = await downlink();
      expect(fCnt32).toBe(lastFCntDown);
      await gateway.publishAsync(`${prefix}/gateway/${frame.gatewayId}/event/ack`, encodeGatewayTxAck({ gatewayId: frame.gatewayId, downlinkId: frame.downlinkId, statuses: ['OK'] }, 'protobuf'), { qos: 1 });
      const done = await eventually(async () => { const r = (await db.pool.query('select state, attempts, tx_status from downlink_queue where id = $1', [item!.id])).rows[0]; return r.tx_status === 'OK' ? r : undefined; });
      expect(done).toEqual({ state: 'sent', attempts: 2, tx_status: 'OK' });
    }, 90_000);
  });
});
