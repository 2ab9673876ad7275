/**
 * An MQTT subscriber whose PUBACKs wait for the database commit.
 *
 * Design note. mqtt.js handles incoming packets strictly one at a time: the next
 * PUBLISH is parsed only after `handleMessage`'s callback, and that callback is
 * what sends the PUBACK. Holding the callback until commit would therefore allow
 * one message per transaction. Instead `handleMessage` hands the message over and
 * returns at once, and the client's packet writer holds back every PUBACK until
 * the message is released with `ack()` after its batch is committed.
 *
 * Memory stays bounded: with `maxInFlight` messages received but not yet acknowledged,
 * the consumer stops calling back into mqtt.js, so it stops reading the socket and
 * TCP pushes back on the broker. MQTT 5 brokers are also told this bound as the
 * session's Receive Maximum, so they stop sending before that. The next stage can hold
 * reading back the same way before that bound (`held`), when it has work queued.
 *
 * Other I/O gets its turn. mqtt.js parses a whole socket read at once and hands its
 * messages over in a chain of `process.nextTick`s, which Node runs to the end before it
 * looks at any other socket; under a flood one such chain held the database's replies
 * back for milliseconds, and each batch waits for about ten of them. After every
 * `messagesPerTurn` messages the consumer lets the event loop run once (setImmediate)
 * before it takes the next: bench ingest went from 9,980 and 9,894 to 11,067 and 11,024
 * uplinks/s (alternating runs, 2026-12-04), with less memory held.
 *
 * No message is held whole once it is larger than ingest stores: a guard between the
 * socket and mqtt.js's parser cuts such a PUBLISH as it streams (publish-guard.ts), and
 * the message is handed over with its first bytes and the whole payload's length and
 * SHA-256 (`oversize`). MQTT 5 brokers are told `maxPacketBytes` as the session's Maximum
 * Packet Size and do not send us larger packets at all.
 *
 * A PUBACK held for a connection that has since dropped is discarded, never sent on
 * the new connection (the broker may have reused the packet id); the broker
 * redelivers such messages on the resumed session and the database identity makes
 * the second write a no-op.
 */
import type { Duplex } from 'node:stream';
import mqtt, { type IClientOptions, type MqttClient, type Packet } from 'mqtt';
import mqttPacket from 'mqtt-packet';
import type { Logger } from 'pino';
import { PublishGuard, type OversizePayload } from './publish-guard.js';

// mqtt-packet (under mqtt.js and aedes) by default builds, at its first write, a Buffer
// for each of the 65,536 packet ids: 7 MB of heap in 65,536 objects that every major GC
// marks again, to save one 2-byte allocation per PUBACK. Measured here (heap snapshot of
// the idle service): 37.6 MB of live heap with the cache, 30.1 MB without.
mqttPacket.writeToStream.cacheNumbers = false;

export interface InboundMessage {
  topic: string;
  payload: Buffer;
  qos: 0 | 1 | 2;
  /**
   * Set when `payload` is only the first bytes of the message: the whole payload's size
   * and SHA-256 (a payload over `maxPayloadBytes`; see publish-guard.ts).
   */
  oversize?: OversizePayload;
  /** Call once the message's effect is committed; sends the PUBACK (if the connection still stands). */
  ack(): void;
}

export interface MqttConsumerOptions {
  url: string;
  clientId: string;
  topics: string[];
  protocolVersion: 4 | 5;
  username?: string | null;
  password?: string | null;
  /** Most unacknowledged messages held at once. */
  maxInFlight: number;
  /** Most payload bytes of unacknowledged messages held at once (the message that crosses it still gets in). */
  maxInFlightBytes: number;
  /**
   * Largest payload handed over whole, bytes (INGEST_MAX_PAYLOAD_BYTES); of a larger one
   * only the first bytes, with `oversize`. Default 65,536.
   */
  maxPayloadBytes?: number;
  /**
   * MQTT 5: the Maximum Packet Size the broker is told, bytes (INGEST_MAX_PACKET_BYTES).
   * The broker drops a larger message for this client without sending it. Not sent on
   * MQTT 3.1.1, which has no such property. Default 16,777,216.
   */
  maxPacketBytes?: number;
  log: Logger;
  onMessage(message: InboundMessage): void;
  /**
   * Messages handed over before the event loop gets a turn for other I/O (the database's
   * replies). Default 32: about 1.5 ms of parsing a ChirpStack JSON uplink here.
   */
  messagesPerTurn?: number;
  /**
   * True while the next stage takes no more messages (the pipeline has a closed batch
   * waiting for the database): reading pauses as at the in-flight bound. Call
   * `resume()` when it changes back.
   */
  held?: () => boolean;
}

interface HeldAck {
  generation: number;
  bytes: number;
  released: boolean;
  /** The PUBACK mqtt.js wanted to send (`_sendPacket`'s arguments), kept until release. */
  puback: Packet | null;
  cbStorePut: unknown;
  noStore: boolean | undefined;
}

type StreamBuilder = (client: MqttClient) => Duplex;
type SendPacket = (packet: Packet, cb?: (err?: Error) => void, cbStorePut?: unknown, noStore?: boolean) => void;

export interface MqttConsumer {
  readonly client: MqttClient;
  /** Messages received and not yet acknowledged. */
  inFlight(): number;
  connected(): boolean;
  /** The next stage takes messages again (see `held`): go on reading if nothing else holds it back. */
  resume(): void;
  close(): Promise<void>;
}

export async function startMqttConsumer(options: MqttConsumerOptions): Promise<MqttConsumer> {
  const { log } = options;
  const clientOptions: IClientOptions = {
    clientId: options.clientId,
    clean: false,
    protocolVersion: options.protocolVersion,
    reconnectPeriod: 1000,
    connectTimeout: 10_000,
    keepalive: 30,
    resubscribe: true,
    manualConnect: true,
    // mqtt.js logs every packet through the debug package; that is a call with arguments
    // per packet even when nothing listens. Its lines go to our log at trace level, objects
    // left out (they can be packets, payloads or options with credentials).
    log: log.isLevelEnabled('trace')
      ? (...args: unknown[]) => log.trace({ mqttjs: args.map((a) => (typeof a === 'object' && a !== null ? `[${typeof a}]` : String(a))).join(' ') }, 'mqtt.js')
      : () => undefined,
    ...(options.username ? { username: options.username } : {}),
    ...(options.password ? { password: options.password } : {}),
    ...(options.protocolVersion === 5
      ? { properties: { sessionExpiryInterval: 0xffffffff, receiveMaximum: Math.min(options.maxInFlight, 65535), maximumPacketSize: options.maxPacketBytes ?? 16_777_216 } }
      : {}),
  };
  const client = mqtt.connect(options.url, clientOptions);
  // The guard goes on the read side of each connection mqtt.js opens: mqtt.js reads a
  // connection only through `stream.pipe(parser)`, once; writes, errors and close stay
  // those of the connection itself, so reconnecting works as before.
  let guard: PublishGuard | null = null;
  const streams = client as unknown as { streamBuilder: StreamBuilder };
  const buildStream = streams.streamBuilder;
  streams.streamBuilder = (c) => {
    const connection = buildStream(c);
    const connectionGuard = new PublishGuard({ protocolVersion: options.protocolVersion, maxPayloadBytes: options.maxPayloadBytes ?? 65_536 });
    connectionGuard.on('error', (error) => connection.destroy(error));
    const pipe = connection.pipe.bind(connection);
    connection.pipe = <T extends NodeJS.WritableStream>(destination: T, pipeOptions?: { end?: boolean }): T => pipe(connectionGuard).pipe(destination, pipeOptions);
    guard = connectionGuard;
    return connection;
  };
  /** What the guard cut of each PUBLISH packet mqtt.js hands to handleMessage. */
  const cutPayloads = new WeakMap<Packet, OversizePayload>();
  let generation = 0;
  const held = new Map<number, HeldAck>();
  let heldBytes = 0;
  let blocked: (() => void) | null = null;
  let closing = false;
  const messagesPerTurn = options.messagesPerTurn ?? 32;
  let sinceTurn = 0;

  const full = (): boolean => held.size >= options.maxInFlight || heldBytes >= options.maxInFlightBytes || (options.held?.() ?? false);
  const forget = (messageId: number, entry: HeldAck): void => {
    held.delete(messageId);
    heldBytes -= entry.bytes;
  };
  /** The deferred callback of a turn (see messagesPerTurn), for the connection it belongs to only. */
  function takeTurn(connection: number, callback: () => void): void {
    if (connection === generation) callback();
  }
  const unblock = (): void => {
    if (blocked && !full()) {
      const resume = blocked;
      blocked = null;
      resume();
    }
  };

  // Intercept PUBACKs: held until the message is released by ack().
  const internals = client as unknown as { _sendPacket: SendPacket };
  const sendPacket = internals._sendPacket.bind(client);
  internals._sendPacket = (packet, cb, cbStorePut, noStore) => {
    if (packet.cmd !== 'puback' || packet.messageId === undefined) return sendPacket(packet, cb, cbStorePut, noStore);
    const entry = held.get(packet.messageId);
    if (!entry || entry.generation !== generation) return sendPacket(packet, cb, cbStorePut, noStore);
    if (entry.released) {
      forget(packet.messageId, entry);
      sendPacket(packet, undefined, cbStorePut, noStore);
    } else {
      entry.puback = packet;
      entry.cbStorePut = cbStorePut;
      entry.noStore = noStore;
    }
    // Let mqtt.js go on parsing; when too much is in flight, hold its callback instead
    // (not while closing: see close()).
    if (full() && !closing) blocked = () => cb?.();
    else cb?.();
  };

  /**
   * A message as the next stage gets it. One object with a method rather than closures
   * made for each message: under tsx every closure assigned to a name is also given that
   * name with Object.defineProperty, which was 2.6 % of the service's time on the
   * raw-frame path (three messages per uplink).
   */
  class Delivery implements InboundMessage {
    constructor(
      readonly topic: string,
      readonly payload: Buffer,
      readonly qos: 0 | 1 | 2,
      private readonly messageId: number,
      private readonly entry: HeldAck | null,
      readonly oversize: OversizePayload | undefined,
    ) {}

    ack(): void {
      const entry = this.entry;
      if (!entry || entry.released) return;
      entry.released = true;
      if (held.get(this.messageId) !== entry) return;
      if (entry.generation !== generation) {
        forget(this.messageId, entry);
      } else if (entry.puback) {
        forget(this.messageId, entry);
        sendPacket(entry.puback, undefined, entry.cbStorePut, entry.noStore);
      }
      unblock();
    }
  }

  client.handleMessage = (packet, callback) => {
    if (packet.cmd !== 'publish') return callback();
    const payload = Buffer.isBuffer(packet.payload) ? packet.payload : Buffer.from(packet.payload);
    const qos = packet.qos;
    let entry: HeldAck | null = null;
    if (qos > 0 && packet.messageId !== undefined) {
      entry = { generation, bytes: payload.length, released: false, puback: null, cbStorePut: undefined, noStore: undefined };
      held.set(packet.messageId, entry);
      heldBytes += entry.bytes;
    }
    // Closing: the message is held (its PUBACK is never sent) but not handed over.
    if (closing) return callback();
    try {
      options.onMessage(new Delivery(packet.topic, payload, qos, packet.messageId ?? 0, entry, cutPayloads.get(packet)));
    } catch (error) {
      // onMessage must not throw; if it does, the message stays unacknowledged and is redelivered.
      log.error({ err: error, topic: packet.topic }, 'ingest handler threw');
    }
    if (++sinceTurn < messagesPerTurn) return callback();
    sinceTurn = 0;
    // The callback sends the PUBACK: not after the connection it belongs to has dropped
    // (mqtt.js would queue it for the next connection; see above). The old connection's
    // parser is discarded with it.
    setImmediate(takeTurn, generation, callback);
  };

  client.on('close', () => {
    // Everything held belongs to the old connection: drop it, the broker will redeliver.
    generation++;
    held.clear();
    heldBytes = 0;
    const resume = blocked;
    blocked = null;
    resume?.();
  });
  // mqtt.js counts only acknowledgements and PINGRESP as signs of life, not PUBLISH. A
  // subscriber under a flood sends PINGREQ after the keepalive, and the PINGRESP queues
  // behind up to Receive Maximum publishes it has yet to work through; held back by a
  // slow database that took longer than the 15 s mqtt.js waits, and the client dropped a
  // healthy connection (seen in a 60-second flat-out benchmark). Every received
  // publish shows the connection is alive.
  // At most once a second: each reschedule replaces mqtt.js's keepalive interval timer, and
  // under load publishes arrive thousands of times a second.
  let rescheduledAt = 0;
  client.on('packetreceive', (packet) => {
    if (packet.cmd !== 'publish') return;
    // mqtt.js handles the packets of the connection it opened last, in the guard's order.
    const cut = guard?.takePublish();
    if (cut) cutPayloads.set(packet, cut);
    const now = Date.now();
    if (now - rescheduledAt < 1000) return;
    rescheduledAt = now;
    client.reschedulePing();
  });
  client.on('error', (error) => log.warn({ err: error }, 'mqtt client error'));
  client.on('reconnect', () => log.info('mqtt reconnecting'));

  await new Promise<void>((resolve, reject) => {
    const onError = (error: Error): void => {
      client.end(true);
      reject(new Error(`cannot connect to MQTT broker: ${error.message}`, { cause: error }));
    };
    client.once('error', onError);
    client.once('connect', (connack) => {
      client.off('error', onError);
      log.info({ sessionPresent: connack.sessionPresent, clientId: options.clientId }, 'mqtt connected');
      if (options.topics.length === 0) {
        log.warn('no ingest source is enabled: connected, subscribed to nothing');
        return resolve();
      }
      client
        .subscribeAsync(
          options.topics.map((topic) => ({ topic, qos: 1 as const })).reduce<Record<string, { qos: 1 }>>((all, t) => {
            all[t.topic] = { qos: t.qos };
            return all;
          }, {}),
        )
        .then((granted) => {
          const refused = granted.filter((g) => g.qos === 128);
          if (refused.length > 0) throw new Error(`broker refused subscriptions: ${refused.map((g) => g.topic).join(', ')}`);
          log.info({ topics: options.topics }, 'ingest subscribed');
          resolve();
        })
        .catch(onError);
    });
    client.connect();
  });

  return {
    client,
    inFlight: () => held.size,
    connected: () => client.connected,
    resume: unblock,
    async close() {
      if (closing) return;
      closing = true;
      // Read on to the end of the stream. Held back at the in-flight bound, mqtt.js would
      // never read the end of the connection that the broker closes after our DISCONNECT,
      // and close() would wait forever (seen as a shutdown past its 10 s limit when a
      // broker had megabytes queued for us). What arrives now is not taken and never
      // acknowledged: the broker keeps it for the session.
      const resume = blocked;
      blocked = null;
      resume?.();
      await client.endAsync(false);
    },
  };
}
