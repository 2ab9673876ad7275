/**
 * The external broker's transport (api/sta/mqtt-transport.ts) writes PUBLISH packets into
 * 64 KiB chunks and sends each full chunk at once: a batch larger than a chunk, and a
 * message larger than a chunk, arrive whole and in order at a subscriber of a real
 * Mosquitto (its max_queued_messages raised: the packaged 1,000 would drop some).
 */
import mqtt from 'mqtt';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ExternalTransport } from '../api/sta/mqtt-transport.js';
import { ObservationEncoder, type Links } from '../api/sta/serialize.js';
import { mosquittoAvailable, startMosquitto, type TestMosquitto } from '../bench/mosquitto.js';
import { eventually, uniqueName } from './helpers.js';

const links: Links = { base: 'http://127.0.0.1/sta/v1.1', licence: { id: 'dl-de/by-2-0', name: 'dl-de/by-2-0', url: 'https://www.govdata.de/dl-de/by-2-0' }, attribution: 'test' };

describe.skipIf(!mosquittoAvailable())('SensorThings MQTT to an external broker, in chunks', () => {
  let broker: TestMosquitto;
  let transport: ExternalTransport;
  let subscriber: mqtt.MqttClient;
  const received: { topic: string; body: { '@iot.id': string; result?: number; text?: string } }[] = [];

  beforeAll(async () => {
    broker = await startMosquitto();
    transport = new ExternalTransport({ url: broker.url, clientId: uniqueName('sta-'), log: pino({ level: 'silent' }), topics: ['datastreams', 'observations'] });
    await transport.connected();
    subscriber = await mqtt.connectAsync(broker.url, { clientId: uniqueName('sub-'), protocolVersion: 4 });
    subscriber.on('message', (topic, payload) => received.push({ topic, body: JSON.parse(payload.toString()) }));
    await subscriber.subscribeAsync(['v1.1/+/Observations', 'v1.1/Observations'], { qos: 0 });
  });
  afterAll(async () => {
    await subscriber?.endAsync();
    await transport?.close();
    await broker?.stop();
  });

  it('delivers a batch of many chunks, a message larger than a chunk among them, whole and in order', async () => {
    const start = Date.UTC(2026, 10, 24, 10);
    const big = 'x'.repeat(200 * 1024);
    // About 600 bytes an Observation: 3,000 of them fill some 28 chunks.
    for (let i = 0; i < 3000; i++) {
      const encoder = new ObservationEncoder(links, 1000 + i);
      transport.publishObservation(`v1.1/Datastreams(${1000 + i})/Observations`, encoder, ObservationEncoder.fields(start + i, i / 2, 'ok'));
      if (i === 1500) transport.publish('v1.1/Observations', JSON.stringify({ '@iot.id': 'big', text: big }));
    }
    transport.flush();
    await eventually(async () => (received.length >= 3001 ? true : undefined), { timeoutMs: 20_000 });
    expect(received).toHaveLength(3001);
    const observations = received.filter((m) => m.topic !== 'v1.1/Observations');
    expect(observations.map((m) => m.body['@iot.id'])).toEqual(Array.from({ length: 3000 }, (_, i) => `${1000 + i}-${(start + i) * 1000}`));
    expect(observations.map((m) => m.body.result)).toEqual(Array.from({ length: 3000 }, (_, i) => i / 2));
    expect(received[1501]!.body).toEqual({ '@iot.id': 'big', text: big });
  });
});
