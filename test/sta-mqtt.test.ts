/**
 * SensorThings MQTT, subscribe side (OGC 18-088 §14.2), end to end: a ChirpStack uplink
 * published on a real broker is committed by ingest and arrives at SensorThings
 * subscribers as the Observation GET answers, on the entity-set, navigation and $select
 * topics. Ported from FROST-Server.Tests c08mqttsubscribe/MqttCoreTests (check01a
 * entity set insert, check04 $select topics, check07 relative topics, check08 deep insert
 * announcing new entities): the expected message is fetched with GET, as its
 * TestSubscription.addExpectedJson does. Then the external-broker case, across a restart
 * of the broker (FROST-Server#2405: publishing stopped after a reconnect).
 */
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../bench/free-port.js';
import { mosquittoAvailable, startMosquitto, type TestMosquitto } from '../bench/mosquitto.js';
import type { Service } from '../service.js';
import { datastreamId, thingId } from '../storage/sta/ids.js';
import { upsertAsset, upsertDevice, upsertDeviceModel } from '../storage/index.js';
import { createTestDatabase, eventually, testConfig, testLog, uniqueName, type TestDatabase } from './helpers.js';

const LAMP_DEV = '0004a30b001c0901';
const PRIVATE_DEV = '0004a30b001c0902';

async function seed(db: TestDatabase): Promise<void> {
  await upsertDeviceModel(db.pool, { id: 'lpp-generic', name: 'Cayenne LPP device', decoderKind: 'builtin', builtinName: 'cayenne-lpp' });
  await upsertAsset(db.pool, { id: 'lamp-9', kind: 'street_lamp', latitude: 51.2277, longitude: 6.7735, zone: 'altstadt', isPublic: true });
  await upsertAsset(db.pool, { id: 'lamp-p', kind: 'street_lamp', latitude: 51.23, longitude: 6.78, zone: 'altstadt', isPublic: false });
  await upsertDevice(db.pool, { devEui: LAMP_DEV, modelId: 'lpp-generic', assetId: 'lamp-9' });
  await upsertDevice(db.pool, { devEui: PRIVATE_DEV, modelId: 'lpp-generic', assetId: 'lamp-p' });
}

/**
 * A ChirpStack v4 JSON `up` event (integration.proto UplinkEvent). Payload: Cayenne LPP
 * channel 3 temperature `t3`, channel 5 temperature 25.5 °C.
 */
function uplink(devEui: string, id: string, time: string, t3: number): string {
  const payload = Buffer.from([0x03, 0x67, 0, 0, 0x05, 0x67, 0x00, 0xff]);
  payload.writeInt16BE(Math.round(t3 * 10), 2);
  return JSON.stringify({
    deduplicationId: id, time,
    deviceInfo: { tenantId: 't', tenantName: 'Stadt', applicationId: 'a', applicationName: 'air', deviceProfileName: 'lpp', deviceName: devEui, devEui },
    devAddr: '00189440', dr: 5, fPort: 1, data: payload.toString('base64'),
    rxInfo: [{ gatewayId: '0016c001f153a14c', uplinkId: 1, rssi: -36, snr: 10.5 }],
    txInfo: { frequency: 868100000, modulation: { lora: { bandwidth: 125000, spreadingFactor: 7, codeRate: 'CR_4_5' } } },
  });
}

/** Collects messages per subscribed topic filter. */
class Listener {
  readonly messages: { topic: string; body: any }[] = [];
  constructor(readonly client: MqttClient) {
    client.on('message', (topic, payload) => this.messages.push({ topic, body: JSON.parse(payload.toString()) }));
  }
  on(topic: string): any[] {
    return this.messages.filter((m) => m.topic === topic).map((m) => m.body);
  }
}

async function getJson(service: Service, path: string): Promise<any> {
  const res = await fetch(`${service.httpUrl}/sta/v1.1/${path}`);
  expect(res.status, path).toBe(200);
  return res.json();
}

describe('MQTT on the embedded broker: every subscribed topic, $select included (MqttCoreTests)', () => {
  let db: TestDatabase;
  let service: Service;
  let listener: Listener;
  let publisher: MqttClient;
  let prefix: string;
  const raw3 = datastreamId('raw', 'lamp-9', 'temperature', 'lpp=3');
  const thing = thingId('lamp-9');
  const topics = {
    all: 'v1.1/Observations',
    datastream: `v1.1/Datastreams(${raw3})/Observations`,
    select: `v1.1/Datastreams(${raw3})/Observations?$select=result,phenomenonTime`,
    thingDeep: `v1.1/Things(${thing})/Datastreams/Observations`,
    thingDatastream: `v1.1/Things(${thing})/Datastreams(${raw3})/Observations`,
    newDatastreams: `v1.1/Things(${thing})/Datastreams`,
    locations: `v1.1/Things(${thing})/Locations`,
    everything: 'v1.1/#',
  };

  beforeAll(async () => {
    db = await createTestDatabase();
    await seed(db);
    const config = testConfig(db.url, { MQTT_URL: '', EMBEDDED_MQTT_PORT: String(await freePort()) });
    prefix = config.ingest.chirpstackPrefix!;
    const { startService } = await import('../service.js');
    service = await startService(config, testLog);
    const client = await mqtt.connectAsync(service.mqttUrl, { clientId: uniqueName('sta-sub-'), protocolVersion: 4 });
    listener = new Listener(client);
    await client.subscribeAsync(Object.values(topics));
    publisher = await mqtt.connectAsync(service.mqttUrl, { clientId: uniqueName('pub-'), protocolVersion: 4 });
  });
  afterAll(async () => {
    await listener?.client.endAsync();
    await publisher?.endAsync();
    await service?.stop();
    await db?.drop();
  });

  it('announces the endpoint in the service root', async () => {
    const root = await getJson(service, '');
    const port = new URL(service.mqttUrl).port;
    expect(root.serverSettings['http://www.opengis.net/spec/iot_sensing/1.1/req/receive-updates-via-mqtt/receive-updates'].endpoints).toEqual([`mqtt://127.0.0.1:${port}`]);
  });

  it('publishes each committed public reading as the Observation GET answers, on every subscribed topic', async () => {
    await publisher.publishAsync(`${prefix}/a/device/${LAMP_DEV}/event/up`, uplink(LAMP_DEV, 'e-1', '2026-11-24T10:00:00.123Z', 21.5), { qos: 1 });
    await publisher.publishAsync(`${prefix}/a/device/${PRIVATE_DEV}/event/up`, uplink(PRIVATE_DEV, 'e-2', '2026-11-24T10:00:01.000Z', 30), { qos: 1 });
    await eventually(async () => (listener.on(topics.datastream).length >= 1 && listener.on(topics.all).length >= 2 ? true : undefined));
    const [message] = listener.on(topics.datastream);
    expect(message).toMatchObject({ result: 21.5, phenomenonTime: '2026-11-24T10:00:00.123Z' });
    // check01a: the message is the entity as GET returns it.
    expect(message).toEqual(await getJson(service, `Observations('${message['@iot.id']}')`));
    // check04: a $select topic gets the selected properties only, as GET with the same $select.
    const [selected] = listener.on(topics.select);
    expect(selected).toEqual(await getJson(service, `Observations('${message['@iot.id']}')?$select=result,phenomenonTime`));
    expect(Object.keys(selected).sort()).toEqual(['phenomenonTime', 'result']);
    // check07: relative topics through the Thing and the Datastream.
    expect(listener.on(topics.thingDatastream)).toEqual([message]);
    expect(listener.on(topics.thingDeep).map((o) => o.result).sort()).toEqual([21.5, 25.5]);
    // The entity set carries both channels of the public lamp, nothing of the private one, no rssi.
    expect(listener.on(topics.all).map((o) => o.result).sort()).toEqual([21.5, 25.5]);
    const topicsSeen = new Set(listener.messages.map((m) => m.topic));
    expect([...topicsSeen].filter((t) => t.includes(String(datastreamId('raw', 'lamp-p', 'temperature', 'lpp=3'))) || t.includes(String(datastreamId('raw', 'lamp-9', 'rssi', ''))))).toEqual([]);
  });

  it('announces new Datastreams of a Thing (check08: new entities on their set topics)', async () => {
    const announced = await eventually(async () => {
      const list = listener.on(topics.newDatastreams);
      return list.length >= 6 ? list : undefined;
    });
    const ids = announced.map((d) => d['@iot.id']).sort();
    const expected = (await getJson(service, `Things(${thing})/Datastreams`)).value.map((d: { '@iot.id': number }) => d['@iot.id']).sort();
    expect(ids).toEqual(expected);
    expect(announced[0]).toEqual(await getJson(service, `Datastreams(${announced[0]['@iot.id']})`));
  });

  it('publishes a move of the Thing as its new Location', async () => {
    await upsertAsset(db.pool, { id: 'lamp-9', kind: 'street_lamp', latitude: 51.2278, longitude: 6.7736, zone: 'altstadt', isPublic: true });
    const moved = await eventually(async () => listener.on(topics.locations)[0], { timeoutMs: 30_000 });
    expect(moved.location).toEqual({ type: 'Point', coordinates: [6.7736, 51.2278] });
    expect(moved).toEqual(await getJson(service, `Locations(${moved['@iot.id']})`));
  }, 60_000);

  it('stops publishing a topic whose subscriber left', async () => {
    await listener.client.unsubscribeAsync([topics.select, topics.everything]);
    const before = listener.on(topics.select).length;
    await publisher.publishAsync(`${prefix}/a/device/${LAMP_DEV}/event/up`, uplink(LAMP_DEV, 'e-3', '2026-11-24T10:10:00.000Z', 22), { qos: 1 });
    await eventually(async () => (listener.on(topics.datastream).length >= 2 ? true : undefined));
    expect(listener.on(topics.select).length).toBe(before);
  });
});

describe.skipIf(!mosquittoAvailable())('MQTT on an external broker, across a broker restart (FROST-Server#2405)', () => {
  let db: TestDatabase;
  let service: Service;
  let broker: TestMosquitto;
  let port: number;
  let listener: Listener;
  let prefix: string;
  const raw3 = datastreamId('raw', 'lamp-9', 'temperature', 'lpp=3');
  const topic = `v1.1/Datastreams(${raw3})/Observations`;

  beforeAll(async () => {
    db = await createTestDatabase();
    await seed(db);
    port = await freePort();
    broker = await startMosquitto({ port });
    const config = testConfig(db.url, { MQTT_URL: broker.url, MQTT_PROTOCOL_VERSION: '5', STA_MQTT_TOPICS: 'datastreams,things' });
    prefix = config.ingest.chirpstackPrefix!;
    const { startService } = await import('../service.js');
    service = await startService(config, testLog);
    const client = await mqtt.connectAsync(broker.url, { clientId: uniqueName('sta-sub-'), protocolVersion: 4, reconnectPeriod: 200 });
    listener = new Listener(client);
    await client.subscribeAsync([topic, 'v1.1/#']);
  });
  afterAll(async () => {
    await listener?.client.endAsync(true);
    await service?.stop();
    await broker?.stop();
    await db?.drop();
  });

  async function send(id: string, time: string, t3: number): Promise<void> {
    const publisher = await mqtt.connectAsync(broker.url, { clientId: uniqueName('pub-'), protocolVersion: 5, reconnectPeriod: 0 });
    await publisher.publishAsync(`${prefix}/a/device/${LAMP_DEV}/event/up`, uplink(LAMP_DEV, id, time, t3), { qos: 1 });
    await publisher.endAsync();
  }

  it('publishes the canonical topics without knowing who subscribed, never private series', async () => {
    await send('x-1', '2026-11-24T11:00:00.000Z', 18);
    const [message] = await eventually(async () => (listener.on(topic).length > 0 ? listener.on(topic) : undefined));
    expect(message).toEqual(await getJson(service, `Observations('${message['@iot.id']}')`));
    // STA_MQTT_TOPICS=datastreams,things: no v1.1/Observations entity set, no FeatureOfInterest topic.
    expect(listener.messages.some((m) => m.topic === 'v1.1/Observations' || m.topic.startsWith('v1.1/FeaturesOfInterest'))).toBe(false);
    expect(listener.on(`v1.1/Things(${thingId('lamp-9')})/Datastreams/Observations`).map((o) => o.result).sort()).toEqual([18, 25.5]);
    // The Thing's new Datastreams (raw, hourly, daily of both channels) under `things`; the
    // entity set v1.1/Datastreams only with `entities`, which this service does not name.
    const announced = await eventually(async () => {
      const list = listener.on(`v1.1/Things(${thingId('lamp-9')})/Datastreams`);
      return list.length >= 6 ? list : undefined;
    });
    expect(announced.map((d) => d['@iot.id']).sort()).toEqual((await getJson(service, `Things(${thingId('lamp-9')})/Datastreams`)).value.map((d: { '@iot.id': number }) => d['@iot.id']).sort());
    expect(listener.on('v1.1/Datastreams')).toEqual([]);
  });

  it('goes on publishing after the broker restarts', async () => {
    await broker.stop();
    broker = await startMosquitto({ port });
    await eventually(async () => (listener.client.connected ? true : undefined), { timeoutMs: 20_000 });
    await listener.client.subscribeAsync([topic]);
    // Ingest and the publisher reconnect by themselves; keep sending until a reading comes through.
    let n = 0;
    const received = await eventually(async () => {
      await send(`x-r${n}`, new Date(Date.UTC(2026, 10, 24, 12, 0, n++)).toISOString(), 19);
      return listener.on(topic).find((o) => o.result === 19);
    }, { timeoutMs: 40_000, intervalMs: 1000 });
    expect(received).toEqual(await getJson(service, `Observations('${received['@iot.id']}')`));
  }, 90_000);
});
