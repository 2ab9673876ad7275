/**
 * The benchmarks' load generator: an MQTT publisher that costs the machine as little as
 * possible, because on a 2-core machine every cycle it takes is a cycle the broker,
 * PostgreSQL and the service under test do not get.
 *
 * Design note. mqtt.js spends tens of microseconds of CPU per QoS 1 publish (its
 * outgoing store, a callback and an event per packet, a generic packet writer and parser):
 * measured here, 2026-12-02, the mqtt.js publisher took 52 % of a core during a flat-out
 * `bench ingest` while the service took 78 %. This one writes PUBLISH packets that were
 * encoded before the clock started, many per socket write, and reads PUBACKs with a
 * 4-byte parse. It speaks only what the benchmarks need: mqtt:// (TCP, optional user
 * and password in the URL), MQTT 3.1.1 or 5, QoS 1, no will, no subscriptions; the
 * harness uses mqtt.js for anything else (see traffic-publisher.ts).
 *
 * Packet layouts: MQTT 3.1.1 §3.3 (PUBLISH) and §3.4 (PUBACK); MQTT 5.0 §3.3 and §3.4,
 * where PUBLISH carries a property length (0 here) after the packet identifier and PUBACK
 * may add a reason code and properties after it.
 */
import net from 'node:net';
import mqttPacket from 'mqtt-packet';
import { variableByteInteger } from '../ingest/mqtt-varint.js';

export interface RawPublisherOptions {
  /** mqtt://[user[:password]@]host[:port] */
  url: string;
  clientId: string;
  protocolVersion: 4 | 5;
  /** Most publishes sent and not yet acknowledged (capped by the broker's Receive Maximum). */
  maxInFlight: number;
}

/** A QoS 1 PUBLISH, encoded once; the packet identifier is written in just before it is sent. */
export interface EncodedPublish {
  bytes: Buffer;
  /** Offset of the 2-byte packet identifier in `bytes`. */
  idOffset: number;
}

const PUBLISH_QOS1 = 0x32;
const PUBACK = 0x40;
const PINGREQ = Buffer.from([0xc0, 0x00]);
/** Seconds; a PINGREQ goes out at half of it (MQTT 3.1.1 §3.1.2.10). */
const KEEPALIVE_S = 60;
/** Packets per socket write. */
const WRITE_CHUNK = 64;

export function encodePublish(topic: string, payload: Buffer, protocolVersion: 4 | 5): EncodedPublish {
  const topicBytes = Buffer.from(topic, 'utf8');
  const variableHeader = 2 + topicBytes.length + 2 + (protocolVersion === 5 ? 1 : 0);
  const head = [PUBLISH_QOS1, ...variableByteInteger(variableHeader + payload.length)];
  const bytes = Buffer.allocUnsafe(head.length + variableHeader + payload.length);
  let at = 0;
  for (const b of head) bytes[at++] = b;
  bytes.writeUInt16BE(topicBytes.length, at);
  at += 2;
  at += topicBytes.copy(bytes, at);
  const idOffset = at;
  bytes.writeUInt16BE(0, at);
  at += 2;
  if (protocolVersion === 5) bytes[at++] = 0; // no properties
  payload.copy(bytes, at);
  return { bytes, idOffset };
}

export interface RawPublisher {
  /**
   * Sends every message of `source` (called until it returns null) and resolves when all
   * are acknowledged. `source` may return a promise, e.g. to wait for a schedule.
   */
  publishAll(source: () => EncodedPublish | null | Promise<EncodedPublish | null>): Promise<number>;
  close(): Promise<void>;
}

export async function connectRawPublisher(options: RawPublisherOptions): Promise<RawPublisher> {
  const url = new URL(options.url);
  if (url.protocol !== 'mqtt:') throw new Error(`the raw publisher speaks mqtt:// only, not ${url.protocol}`);
  const socket = net.connect(Number(url.port || 1883), url.hostname);
  socket.setNoDelay(true);
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });

  // CONNECT and CONNACK through mqtt-packet (once per run; CONNACK properties vary).
  const connect = mqttPacket.generate({
    cmd: 'connect', protocolId: 'MQTT', protocolVersion: options.protocolVersion, clean: true, clientId: options.clientId, keepalive: KEEPALIVE_S,
    ...(url.username ? { username: decodeURIComponent(url.username) } : {}),
    ...(url.password ? { password: Buffer.from(decodeURIComponent(url.password)) } : {}),
  });
  const receiveMaximum = await new Promise<number>((resolve, reject) => {
    const parser = mqttPacket.parser({ protocolVersion: options.protocolVersion });
    const onData = (data: Buffer): void => void parser.parse(data);
    parser.on('packet', (packet) => {
      socket.off('data', onData);
      if (packet.cmd !== 'connack') return reject(new Error(`expected CONNACK, got ${packet.cmd}`));
      const code = packet.reasonCode ?? packet.returnCode ?? 0;
      if (code !== 0) return reject(new Error(`broker refused the connection (code ${code})`));
      resolve(packet.properties?.receiveMaximum ?? 65535);
    });
    parser.on('error', reject);
    socket.on('data', onData);
    socket.once('error', reject);
    socket.write(connect);
  });
  const maxInFlight = Math.min(options.maxInFlight, receiveMaximum, 65535);
  const ping = setInterval(() => socket.write(PINGREQ), (KEEPALIVE_S * 1000) / 2);
  ping.unref();

  const freeIds: number[] = [];
  for (let id = maxInFlight; id >= 1; id--) freeIds.push(id);
  let inFlight = 0;
  let acked = 0;
  let wake: (() => void) | null = null;
  let failure: Error | null = null;
  const wakeUp = (): void => {
    const w = wake;
    wake = null;
    w?.();
  };
  socket.on('error', (error) => {
    failure = error;
    wakeUp();
  });
  socket.on('close', () => {
    failure ??= new Error('broker closed the connection');
    wakeUp();
  });

  // Incoming: PUBACK (and PINGRESP, skipped). Packets may straddle reads.
  let rest: Buffer | null = null;
  socket.on('data', (data: Buffer) => {
    const buf = rest ? Buffer.concat([rest, data]) : data;
    let at = 0;
    while (at + 2 <= buf.length) {
      let length = 0;
      let shift = 0;
      let p = at + 1;
      for (; p < buf.length; p++) {
        length += (buf[p]! & 0x7f) * 2 ** shift;
        shift += 7;
        if ((buf[p]! & 0x80) === 0) break;
      }
      if (p >= buf.length || p + 1 + length > buf.length) break;
      const body = p + 1;
      if (buf[at] === PUBACK) {
        freeIds.push(buf.readUInt16BE(body));
        inFlight--;
        acked++;
      }
      at = body + length;
    }
    rest = at < buf.length ? buf.subarray(at) : null;
    wakeUp();
  });

  return {
    async publishAll(source) {
      const sentBefore = acked;
      let sent = 0;
      let chunk: Buffer[] = [];
      const flush = async (): Promise<void> => {
        if (chunk.length === 0) return;
        const ok = socket.write(chunk.length === 1 ? chunk[0]! : Buffer.concat(chunk));
        chunk = [];
        if (!ok) await new Promise<void>((resolve) => socket.once('drain', resolve));
      };
      for (;;) {
        const next = source();
        const message = next instanceof Promise ? (await flush(), await next) : next;
        if (message === null) break;
        while (inFlight >= maxInFlight) {
          await flush();
          if (failure) throw failure;
          if (inFlight >= maxInFlight) await new Promise<void>((resolve) => (wake = resolve));
        }
        if (failure) throw failure;
        message.bytes.writeUInt16BE(freeIds.pop()!, message.idOffset);
        inFlight++;
        sent++;
        chunk.push(message.bytes);
        if (chunk.length >= WRITE_CHUNK) await flush();
      }
      await flush();
      while (acked - sentBefore < sent) {
        if (failure) throw failure;
        await new Promise<void>((resolve) => (wake = resolve));
      }
      return sent;
    },
    async close() {
      clearInterval(ping);
      if (socket.destroyed) return;
      socket.end(Buffer.from([0xe0, 0x00])); // DISCONNECT
      await new Promise<void>((resolve) => socket.once('close', () => resolve()));
    },
  };
}
