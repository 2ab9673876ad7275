/**
 * The consumer's in-flight limits on the test broker: once the unacknowledged messages
 * reach the message or the byte limit, it stops reading; acknowledgements let it go on,
 * and so does closing. Between messages it lets other I/O in.
 */
import { createHash } from 'node:crypto';
import { inject } from 'vitest';
import { describe, expect, it } from 'vitest';
import { startMqttConsumer, type InboundMessage } from '../ingest/mqtt-consumer.js';
import { connectPublisher, eventually, testLog, uniqueName } from './helpers.js';

describe('MQTT consumer in-flight limits', () => {
  it('stops reading at the byte limit and goes on after acknowledgements', async () => {
    const topic = uniqueName('inflight/');
    const held: InboundMessage[] = [];
    const consumer = await startMqttConsumer({
      url: inject('mqttUrl'), clientId: uniqueName('consumer-'), topics: [`${topic}/#`], protocolVersion: inject('mqttProtocolVersion'),
      maxInFlight: 100, maxInFlightBytes: 1000, log: testLog,
      onMessage: (m) => held.push(m),
    });
    const publisher = await connectPublisher();
    try {
      // 400 bytes each: after the third (1,200 bytes held) the consumer must stop.
      for (let i = 0; i < 10; i++) await publisher.publishAsync(`${topic}/${i}`, Buffer.alloc(400, i), { qos: 1 });
      await eventually(async () => (held.length >= 3 ? true : undefined));
      await new Promise((r) => setTimeout(r, 300));
      expect(held.length).toBe(3);
      expect(consumer.inFlight()).toBe(3);
      // Acknowledge as they come: all ten arrive.
      let acked = 0;
      const ackAll = (): void => {
        while (acked < held.length) held[acked++]!.ack();
      };
      ackAll();
      await eventually(async () => {
        ackAll();
        return held.length === 10 ? true : undefined;
      });
      ackAll();
      expect(held.map((m) => m.payload[0])).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    } finally {
      await publisher.endAsync();
      await consumer.close();
    }
  });

  it('lets the event loop run after every messagesPerTurn messages, also within one socket read', async () => {
    const topic = uniqueName('turns/');
    let holding = true;
    const handed: number[] = [];
    const consumer = await startMqttConsumer({
      url: inject('mqttUrl'), clientId: uniqueName('consumer-'), topics: [`${topic}/#`], protocolVersion: inject('mqttProtocolVersion'),
      maxInFlight: 1000, maxInFlightBytes: 1_000_000, log: testLog, messagesPerTurn: 4,
      held: () => holding,
      onMessage: (m) => {
        handed.push(m.payload[0]!);
        m.ack();
      },
    });
    const publisher = await connectPublisher();
    try {
      // The first message is taken, then reading is held: the other 59 pile up unread.
      await publisher.publishAsync(`${topic}/0`, Buffer.from([0]), { qos: 1 });
      await eventually(async () => (handed.length === 1 ? true : undefined));
      await Promise.all(Array.from({ length: 59 }, (_, i) => publisher.publishAsync(`${topic}/${i + 1}`, Buffer.from([i + 1]), { qos: 1 })));
      // Published to the broker is not yet at the consumer: give the broker a moment to send them on.
      await new Promise((r) => setTimeout(r, 300));
      // Each event-loop turn records how many messages had been handed over by then.
      const turns = [handed.length];
      const probe = (): void => {
        turns.push(handed.length);
        if (handed.length < 60) setImmediate(probe);
      };
      holding = false;
      setImmediate(probe);
      consumer.resume();
      await eventually(async () => (handed.length === 60 ? true : undefined));
      const gaps = turns.slice(1).map((n, i) => n - turns[i]!);
      expect(Math.max(...gaps)).toBeLessThanOrEqual(4);
      expect(handed).toEqual(Array.from({ length: 60 }, (_, i) => i));
    } finally {
      await publisher.endAsync();
      await consumer.close();
    }
  });

  it('closes while held back at the in-flight bound (shutdown with messages it will not take)', async () => {
    const topic = uniqueName('inflight/');
    const held: InboundMessage[] = [];
    const consumer = await startMqttConsumer({
      url: inject('mqttUrl'), clientId: uniqueName('consumer-'), topics: [`${topic}/#`], protocolVersion: inject('mqttProtocolVersion'),
      maxInFlight: 3, maxInFlightBytes: 1_000_000, log: testLog,
      onMessage: (m) => held.push(m),
    });
    const publisher = await connectPublisher();
    try {
      // Enough bytes behind the held ones (8 MB) that the socket itself stops being read.
      for (let i = 0; i < 80; i++) await publisher.publishAsync(`${topic}/${i}`, Buffer.alloc(100_000, i), { qos: 1 });
      await eventually(async () => (held.length >= 3 ? true : undefined));
      // Reading is held back with three unacknowledged messages. Closing sends DISCONNECT and
      // must see the broker close the connection, which means reading on to the end of the stream.
      const closed = await Promise.race([consumer.close().then(() => 'closed'), new Promise((r) => setTimeout(() => r('still open after 5 s'), 5_000))]);
      expect(closed).toBe('closed');
      expect(consumer.connected()).toBe(false);
      // Nothing read while closing was handed over.
      expect(held.length).toBe(3);
    } finally {
      await publisher.endAsync();
    }
  });
});

describe('MQTT consumer message size', () => {
  it('hands over an oversize message as its first bytes with the whole length and SHA-256, and the next one whole', async () => {
    const topic = uniqueName('oversize/');
    const received: InboundMessage[] = [];
    const consumer = await startMqttConsumer({
      url: inject('mqttUrl'), clientId: uniqueName('consumer-'), topics: [`${topic}/#`], protocolVersion: inject('mqttProtocolVersion'),
      maxInFlight: 100, maxInFlightBytes: 1_000_000, maxPayloadBytes: 1024, maxPacketBytes: 268_435_460, log: testLog,
      onMessage: (m) => {
        received.push(m);
        m.ack();
      },
    });
    const publisher = await connectPublisher();
    try {
      const big = Buffer.alloc(4 * 1024 * 1024);
      for (let i = 0; i < big.length; i += 4) big.writeUInt32BE(i, i);
      await publisher.publishAsync(`${topic}/big`, big, { qos: 1 });
      await publisher.publishAsync(`${topic}/small`, Buffer.from('after'), { qos: 1 });
      await eventually(async () => (received.length >= 2 ? true : undefined));
      const [cut, next] = received;
      expect(cut!.topic).toBe(`${topic}/big`);
      expect(cut!.payload.equals(big.subarray(0, 1024))).toBe(true);
      expect(cut!.oversize).toEqual({ length: big.length, sha256: createHash('sha256').update(big).digest() });
      expect(next!.topic).toBe(`${topic}/small`);
      expect(next!.payload.toString()).toBe('after');
      expect(next!.oversize).toBeUndefined();
      // Both were acknowledged (the cut one too): nothing is in flight.
      expect(consumer.inFlight()).toBe(0);
    } finally {
      await publisher.endAsync();
      await consumer.close();
    }
  });

  it.skipIf(inject('mqttProtocolVersion') !== 5)('tells an MQTT 5 broker its Maximum Packet Size, and the broker keeps larger messages from it', async () => {
    const topic = uniqueName('maxpacket/');
    const received: InboundMessage[] = [];
    const consumer = await startMqttConsumer({
      url: inject('mqttUrl'), clientId: uniqueName('consumer-'), topics: [`${topic}/#`], protocolVersion: 5,
      maxInFlight: 100, maxInFlightBytes: 1_000_000, maxPayloadBytes: 1024, maxPacketBytes: 65_536, log: testLog,
      onMessage: (m) => {
        received.push(m);
        m.ack();
      },
    });
    const publisher = await connectPublisher();
    try {
      await publisher.publishAsync(`${topic}/big`, Buffer.alloc(200_000, 1), { qos: 1 });
      await publisher.publishAsync(`${topic}/small`, Buffer.from('after'), { qos: 1 });
      await eventually(async () => (received.length >= 1 ? true : undefined));
      expect(received.map((m) => m.topic)).toEqual([`${topic}/small`]);
      expect(consumer.connected()).toBe(true);
    } finally {
      await publisher.endAsync();
      await consumer.close();
    }
  });
});
