/**
 * The embedded broker keeps what it acknowledged: QoS 1 messages on ingest topics are
 * committed to the database before the publisher's PUBACK and survive a crash.
 */
import { createHash } from 'node:crypto';
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

  async function broker(maxPacketBytes?: number): Promise<EmbeddedBroker> {
    const b = await startEmbeddedBroker({
      port: await freePort(), pool: db.pool, log: testLog, durableFilters: ['app/+/up'], ingestClientId: 'ingest-1',
      ...(maxPacketBytes ? { maxPacketBytes } : {}),
    });
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

  it('disconnects a publisher whose packet is over maxPacketBytes; smaller oversize ones reach ingest cut', async () => {
    const b = await broker(1024 * 1024);
    const received: InboundMessage[] = [];
    const ingest = await startMqttConsumer({
      url: b.url, clientId: 'ingest-1', topics: ['app/+/up'], protocolVersion: 4, maxInFlight: 100, maxInFlightBytes: 1 << 20, maxPayloadBytes: 1024, log: testLog,
      onMessage: (m) => {
        received.push(m);
        m.ack();
      },
    });
    b.open();
    const publisher = await mqtt.connectAsync(b.url, { clientId: 'pub-3', reconnectPeriod: 0 });
    const half = Buffer.alloc(512 * 1024, 5);
    await publisher.publishAsync('app/half/up', half, { qos: 1 });
    // The broker closes the connection while the client still writes: a reset is expected.
    publisher.on('error', () => undefined);
    const closed = new Promise<void>((resolve) => publisher.once('close', () => resolve()));
    publisher.publish('app/big/up', Buffer.alloc(3 * 1024 * 1024, 7), { qos: 1 });
    await Promise.race([closed, new Promise((_, reject) => setTimeout(() => reject(new Error('the publisher of 3 MB is still connected after 15 s')), 15_000))]);
    await publisher.endAsync(true);

    const next = await mqtt.connectAsync(b.url, { clientId: 'pub-4', reconnectPeriod: 0 });
    await next.publishAsync('app/after/up', 'after', { qos: 1 });
    await next.endAsync();
    await eventually(async () => (received.length >= 2 ? true : undefined));
    expect(received.map((m) => m.topic)).toEqual(['app/half/up', 'app/after/up']);
    expect(received[0]!.payload.length).toBe(1024);
    expect(received[0]!.oversize).toEqual({ length: half.length, sha256: createHash('sha256').update(half).digest() });
    await eventually(async () => ((await b.inboxSize()) === 0 ? true : undefined));
    await ingest.close();
  });
});
