import { createHash } from 'node:crypto';
import { once } from 'node:events';
import mqttPacket, { type IPublishPacket, type Packet } from 'mqtt-packet';
import { describe, expect, it } from 'vitest';
import { HEADER_SLACK_BYTES, OVERSIZE_PREFIX_BYTES, PublishGuard, type OversizePayload } from './publish-guard.js';

const MAX_PAYLOAD = 1024;
/** Far over the guard's threshold (MAX_PAYLOAD + HEADER_SLACK_BYTES). */
const BIG = 3 * HEADER_SLACK_BYTES + 17;

function encode(packet: Packet, protocolVersion: 4 | 5): Buffer {
  return mqttPacket.generate(packet, { protocolVersion });
}

function publish(topic: string, payload: Buffer, qos: 0 | 1, messageId: number, properties?: IPublishPacket['properties']): IPublishPacket {
  return { cmd: 'publish', topic, payload, qos, dup: false, retain: false, ...(qos > 0 ? { messageId } : {}), ...(properties ? { properties } : {}) };
}

/** A payload whose every byte depends on its position, so a wrong cut shows. */
function pattern(length: number): Buffer {
  const bytes = Buffer.alloc(length);
  for (let i = 0; i < length; i++) bytes[i] = (i * 31 + (i >> 8)) & 0xff;
  return bytes;
}

/**
 * Writes `input` into a fresh guard in the given pieces and parses what comes out as
 * mqtt.js does, asking takePublish() for each PUBLISH the moment it is parsed.
 */
async function pass(input: Buffer, split: (length: number) => number[], protocolVersion: 4 | 5): Promise<{ output: Buffer; packets: Packet[]; cuts: (OversizePayload | null)[] }> {
  const guard = new PublishGuard({ protocolVersion, maxPayloadBytes: MAX_PAYLOAD });
  const parser = mqttPacket.parser({ protocolVersion });
  const packets: Packet[] = [];
  const cuts: (OversizePayload | null)[] = [];
  parser.on('packet', (p: Packet) => {
    packets.push(p);
    if (p.cmd === 'publish') cuts.push(guard.takePublish());
  });
  const out: Buffer[] = [];
  guard.on('data', (d: Buffer) => {
    out.push(d);
    parser.parse(d);
  });
  let at = 0;
  for (const size of split(input.length)) {
    guard.write(input.subarray(at, at + size));
    at += size;
  }
  guard.end();
  await once(guard, 'end');
  return { output: Buffer.concat(out), packets, cuts };
}

const splits: Record<string, (length: number) => number[]> = {
  'one chunk': (n) => [n],
  'byte by byte': (n) => Array.from({ length: n }, () => 1),
  'irregular chunks': (n) => {
    const sizes: number[] = [];
    for (let left = n, i = 0; left > 0; i++) {
      const size = Math.min(left, [1, 2, 3, 7, 4096, 5, 65_537, 13][i % 8]!);
      sizes.push(size);
      left -= size;
    }
    return sizes;
  },
};

describe('publish guard', () => {
  for (const protocolVersion of [4, 5] as const) {
    for (const [splitName, split] of Object.entries(splits)) {
      it(`passes ordinary packets byte for byte (MQTT ${protocolVersion === 5 ? '5' : '3.1.1'}, ${splitName})`, async () => {
        const properties = protocolVersion === 5 ? { contentType: 'application/json', userProperties: { k: 'v' } } : undefined;
        const input = Buffer.concat([
          encode({ cmd: 'connack', returnCode: 0, reasonCode: 0, sessionPresent: true }, protocolVersion),
          encode(publish('application/1/device/01/event/up', Buffer.from('{"a":1}'), 0, 0, properties), protocolVersion),
          encode(publish('t/qos1', pattern(MAX_PAYLOAD), 1, 7, properties), protocolVersion),
          encode({ cmd: 'suback', messageId: 3, granted: [1] }, protocolVersion),
          // Over the payload limit but within the header slack: passed whole, the pipeline cuts it.
          encode(publish('t/slack', pattern(MAX_PAYLOAD + 1000), 1, 8), protocolVersion),
          encode(publish('t/empty', Buffer.alloc(0), 1, 9), protocolVersion),
          encode({ cmd: 'pingresp' }, protocolVersion),
        ]);
        const { output, cuts } = await pass(input, split, protocolVersion);
        expect(output.equals(input)).toBe(true);
        expect(cuts).toEqual([null, null, null, null]);
      });

      it(`cuts an oversize publish to its prefix with length and SHA-256, the next one intact (MQTT ${protocolVersion === 5 ? '5' : '3.1.1'}, ${splitName})`, async () => {
        const big = pattern(BIG);
        const properties = protocolVersion === 5 ? { userProperties: { origin: 'x'.repeat(100) }, messageExpiryInterval: 60 } : undefined;
        const after = publish('t/after', Buffer.from('next'), 1, 12, properties);
        const before = publish('t/before', Buffer.from('first'), 0, 0);
        const input = Buffer.concat([
          encode(before, protocolVersion),
          encode(publish('t/big', big, 1, 11, properties), protocolVersion),
          encode(after, protocolVersion),
          encode(publish('t/big0', big, 0, 0), protocolVersion),
        ]);
        const { output, packets: parsed, cuts } = await pass(input, split, protocolVersion);
        const packets = parsed as IPublishPacket[];
        expect(packets.map((p) => [p.topic, p.qos, p.messageId])).toEqual([['t/before', 0, undefined], ['t/big', 1, 11], ['t/after', 1, 12], ['t/big0', 0, undefined]]);
        expect((packets[1]!.payload as Buffer).equals(big.subarray(0, MAX_PAYLOAD))).toBe(true);
        expect((packets[3]!.payload as Buffer).equals(big.subarray(0, MAX_PAYLOAD))).toBe(true);
        // The publish after the cut one comes out exactly as it went in.
        expect(output.indexOf(encode(after, protocolVersion))).toBeGreaterThan(0);
        const sha256 = createHash('sha256').update(big).digest();
        expect(cuts).toEqual([null, { length: BIG, sha256 }, null, { length: BIG, sha256 }]);
      });
    }
  }

  it('passes a chunk of ordinary packets on as one slice of it, not one piece per packet', async () => {
    const guard = new PublishGuard({ protocolVersion: 4, maxPayloadBytes: MAX_PAYLOAD });
    const chunk = Buffer.concat(Array.from({ length: 50 }, (_, i) => encode(publish(`t/${i}`, pattern(100), 1, i + 1), 4)));
    const out: Buffer[] = [];
    guard.on('data', (d: Buffer) => out.push(d));
    guard.end(chunk);
    await once(guard, 'end');
    expect(out).toHaveLength(1);
    expect(out[0]!.buffer).toBe(chunk.buffer);
    expect(out[0]!.equals(chunk)).toBe(true);
  });

  it('keeps a payload within the limit whole when only the MQTT 5 properties make the packet large', async () => {
    const payload = pattern(200);
    const input = encode(publish('t/props', payload, 1, 5, { userProperties: { huge: Array.from({ length: 4 }, () => 'p'.repeat(60_000)) } }), 5);
    expect(input.length).toBeGreaterThan(MAX_PAYLOAD + HEADER_SLACK_BYTES);
    const { output, packets, cuts } = await pass(input, splits['irregular chunks']!, 5);
    const packet = packets[0] as IPublishPacket | undefined;
    expect(packet!.topic).toBe('t/props');
    expect(packet!.messageId).toBe(5);
    expect((packet!.payload as Buffer).equals(payload)).toBe(true);
    expect(cuts).toEqual([null]);
    expect(output.length).toBeLessThan(300);
  });

  it('keeps OVERSIZE_PREFIX_BYTES of an oversize payload when the limit is larger', async () => {
    const guard = new PublishGuard({ protocolVersion: 4, maxPayloadBytes: 65_536 });
    const big = pattern(65_536 + HEADER_SLACK_BYTES + 1);
    const parser = mqttPacket.parser({ protocolVersion: 4 });
    const packets: IPublishPacket[] = [];
    parser.on('packet', (p: Packet) => packets.push(p as IPublishPacket));
    guard.on('data', (d: Buffer) => parser.parse(d));
    guard.end(encode(publish('t/big', big, 1, 1), 4));
    await once(guard, 'end');
    expect((packets[0]!.payload as Buffer).equals(big.subarray(0, OVERSIZE_PREFIX_BYTES))).toBe(true);
    expect(guard.takePublish()?.length).toBe(big.length);
  });

  it('fails the stream on a Remaining Length longer than four bytes', async () => {
    const guard = new PublishGuard({ protocolVersion: 4, maxPayloadBytes: MAX_PAYLOAD });
    const failed = once(guard, 'error');
    guard.write(Buffer.from([0x30, 0xff, 0xff, 0xff, 0xff, 0x01]));
    const [error] = await failed;
    expect((error as Error).message).toMatch(/malformed Remaining Length/);
  });
});
