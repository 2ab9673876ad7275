/**
 * The embedded broker keeps what it acknowledged: QoS 1 messages on ingest topics are
 * committed to the database before the publisher's PUBACK and survive a crash.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import mqtt from 'mqtt';
import { startEmbeddedBroker, type EmbeddedBroker } from '../ingest/embedded-broker.js';
import { startMqttConsumer, type InboundMessage } from '../ingest/mqtt-consumer.js';
import { freePort } from './global-setup.js';
import { createTestDatabase, eventually, testLog, type TestDatabase } from './helpers.js';

describe('embedded broker durable inbox', () => {
  let db: TestDatabase;
  const brokers: EmbeddedBroker[] = [];

  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => {
    for (const b of brokers) await b.close().catch(() => undefined);
    await db.drop();
  });

  async function broker(): Promise<EmbeddedBroker> {
    const b = await startEmbeddedBroker({ port: await freePort(), pool: db.pool, log: testLog, durableFilters: ['app/+/up'], ingestClientId: 'ingest-1' });
    brokers.push(b);
    return b;
  }

  it('refuses publishers until opened, then keeps acknowledged messages across a crash', async () => {
    const first = await broker();
    await expect(mqtt.connectAsync(first.url, { clientId: 'early', reconnectPeriod: 0 })).rejects.toThrow();

    const held: InboundMessage[] = [];
    const slowIngest = await startMqttConsumer({
      url: first.url, clientId: 'ingest-1', topics: ['app/+/up'], protocolVersion: 4, maxInFlight: 100, maxInFlightBytes: 1 << 20, log: testLog,
      onMessage: (m) => held.push(m), // never acknowledges: as if the process died before committing
    });
    first.open();
    const publisher = await mqtt.connectAsync(first.url, { clientId: 'pub-1', reconnectPeriod: 0 });
    for (let i = 0; i < 5; i++) await publisher.publishAsync(`app/${i}/up`, `message ${i}`, { qos: 1 });
    await publisher.publishAsync('other/topic', 'not an ingest topic', { qos: 1 });
    await eventually(async () => (held.length === 5 ? true : undefined));
    expect(await first.inboxSize()).toBe(5);

    // Crash: broker memory and the unacknowledged deliveries are gone.
    await publisher.endAsync(true);
    await slowIngest.close();
    await first.close();

    const second = await broker();
    const received: string[] = [];
    const ingest = await startMqttConsumer({
      url: second.url, clientId: 'ingest-1', topics: ['app/+/up'], protocolVersion: 4, maxInFlight: 100, maxInFlightBytes: 1 << 20, log: testLog,
      onMessage: (m) => {
        received.push(m.payload.toString());
        m.ack();
      },
    });
    second.open();
    expect(await second.replayInbox()).toBe(5);
    expect(received.sort()).toEqual(['message 0', 'message 1', 'message 2', 'message 3', 'message 4']);
    await eventually(async () => ((await second.inboxSize()) === 0 ? true : undefined));
    await ingest.close();
  });

  it('removes inbox rows once ingest acknowledges them', async () => {
    const b = await broker();
    const ingest = await startMqttConsumer({
      url: b.url, clientId: 'ingest-1', topics: ['app/+/up'], protocolVersion: 4, maxInFlight: 100, maxInFlightBytes: 1 << 20, log: testLog,
      onMessage: (m) => setTimeout(() => m.ack(), 10),
    });
    b.open();
    const publisher = await mqtt.connectAsync(b.url, { clientId: 'pub-2', reconnectPeriod: 0 });
    for (let i = 0; i < 20; i++) await publisher.publishAsync(`app/${i}/up`, `m${i}`, { qos: 1 });
    await eventually(async () => ((await b.inboxSize()) === 0 ? true : undefined));
    await publisher.endAsync();
    await ingest.close();
  });
});
