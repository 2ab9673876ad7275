/**
 * The benchmarks' lean publisher through the test broker: every message arrives once,
 * topic and payload intact, with many more messages than it keeps in flight.
 */
import { describe, expect, inject, it } from 'vitest';
import { connectRawPublisher, encodePublish } from '../bench/raw-publisher.js';
import { connectPublisher, eventually, uniqueName } from './helpers.js';

describe('raw publisher', () => {
  it('publishes QoS 1 messages that a subscriber receives exactly as sent', async () => {
    const prefix = uniqueName('raw');
    const subscriber = await connectPublisher();
    const received = new Map<string, string>();
    subscriber.on('message', (topic, payload) => received.set(topic, payload.toString()));
    await subscriber.subscribeAsync(`${prefix}/#`, { qos: 1 });
    const protocolVersion = inject('mqttProtocolVersion');
    const publisher = await connectRawPublisher({ url: inject('mqttUrl'), clientId: uniqueName('rawpub-'), protocolVersion, maxInFlight: 50 });
    // Below the 1,000 queued messages a packaged Mosquitto keeps for one subscriber (TEST_MQTT_URL).
    const total = 900;
    let i = 0;
    const sent = await publisher.publishAll(() => (i < total ? encodePublish(`${prefix}/m/${i}`, Buffer.from(`payload ${i++} ${'x'.repeat(i % 300)}`), protocolVersion) : null));
    await publisher.close();
    expect(sent).toBe(total);
    await eventually(async () => (received.size === total ? true : undefined));
    for (const n of [0, 1, 299, 500, total - 1]) expect(received.get(`${prefix}/m/${n}`)).toBe(`payload ${n} ${'x'.repeat((n + 1) % 300)}`);
    await subscriber.endAsync();
  });
});
