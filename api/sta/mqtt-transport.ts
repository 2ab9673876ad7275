/**
 * Where SensorThings MQTT messages go (OGC 18-088 §14.2, "receive updates via MQTT").
 *
 * Embedded broker (aedes, in this process): messages are handed to aedes directly, and
 * only for topics someone subscribed to — aedes reports every SUBSCRIBE, so the
 * publisher knows exactly which topics (also `?$select=…` topics) have an audience.
 *
 * External broker: the service cannot see subscriptions there, so it publishes the
 * configured canonical topics (STA_MQTT_TOPICS) for every public reading. It connects as
 * its own MQTT 3.1.1 client and writes QoS 0 PUBLISH packets itself, straight into 64 KiB
 * chunks as they are published: no object per message, and mqtt.js' per-message packet
 * generation and callbacks are skipped. A full chunk goes to the socket at once, so the
 * broker delivers a large batch's first messages while the rest are being written (one
 * socket write per batch held a 20,000-reading batch's first subscriber until its last
 * message was serialized, 130 ms in `bench sta`); `flush()` sends the rest. The socket
 * has Nagle's algorithm off: a batch's last segment does not wait for the broker's ACK.
 * QoS 0: a message sent while the broker is away is not kept (a subscriber misses it);
 * the client reconnects on its own and publishing goes on (FROST-Server#2405 was a server
 * that stopped after a reconnect). While the socket's buffer holds more than
 * `maxBufferedBytes` the messages are dropped and counted, so a slow broker never grows
 * this process' memory.
 */
import type { EventEmitter } from 'node:events';
import mqtt, { type MqttClient } from 'mqtt';
import type { Logger } from 'pino';
import { compileTopicFilter } from '../../ingest/index.js';
import type { StaMqttTopic } from '../../config.js';
import { staMqttDropped, staMqttPublished } from './metrics.js';
import { ObservationEncoder } from './serialize.js';
import { variableByteInteger, variableByteIntegerLength, writeVariableByteInteger } from '../../ingest/mqtt-varint.js';

export interface StaTransport {
  readonly kind: 'embedded' | 'external';
  /** Changes whenever the set of subscriptions changes (embedded); constant for external. */
  version(): number;
  /** Does anyone listen on `topic`? External: only the configured canonical topics are asked for. */
  interested(topic: string): boolean;
  /** Subscribed topics `${topic}?$select=…` (embedded only). */
  selectVariants(topic: string): string[];
  /** Queue one message; `flush()` sends what is queued. */
  publish(topic: string, payload: string): void;
  /** Queue one raw Observation, written by its Datastream's encoder (see ObservationEncoder). */
  publishObservation(topic: string, encoder: ObservationEncoder, fields: [string, string, string, string]): void;
  flush(): void;
  close(): Promise<void>;
}

/** The few aedes calls used here (its typings lack the events' arguments). */
interface AedesLike extends EventEmitter {
  publish(packet: { cmd: 'publish'; topic: string; payload: Buffer; qos: 0; retain: false; dup: false }, done: (error?: Error) => void): void;
}

/** No broker to publish to (STA_MQTT_TOPICS=off): series are still registered. */
export class NoTransport implements StaTransport {
  readonly kind = 'external';
  version(): number { return 0; }
  interested(): boolean { return false; }
  selectVariants(): string[] { return []; }
  publish(): void {}
  publishObservation(): void {}
  flush(): void {}
  async close(): Promise<void> {}
}

export class EmbeddedTransport implements StaTransport {
  readonly kind = 'embedded';
  private readonly byClient = new Map<string, Set<string>>();
  private filters: { filter: string; matches: (topic: string) => boolean }[] = [];
  private counter = 0;
  private readonly listeners: [string, (...args: never[]) => void][] = [];

  constructor(private readonly broker: AedesLike) {
    const on = (event: string, listener: (...args: never[]) => void): void => {
      broker.on(event, listener as (...args: unknown[]) => void);
      this.listeners.push([event, listener]);
    };
    on('subscribe', (subscriptions: { topic: string }[], client: { id: string } | null) => {
      if (!client) return;
      const set = this.byClient.get(client.id) ?? new Set<string>();
      for (const s of subscriptions) if (s.topic.startsWith('v1.1/') || s.topic === '#' || s.topic.startsWith('+/')) set.add(s.topic);
      this.byClient.set(client.id, set);
      this.rebuild();
    });
    on('unsubscribe', (topics: string[], client: { id: string } | null) => {
      const set = client ? this.byClient.get(client.id) : undefined;
      if (!set) return;
      for (const t of topics) set.delete(t);
      this.rebuild();
    });
    on('clientDisconnect', (client: { id: string }) => {
      if (this.byClient.delete(client.id)) this.rebuild();
    });
  }

  private rebuild(): void {
    const all = new Set<string>();
    for (const set of this.byClient.values()) for (const t of set) all.add(t);
    this.filters = [...all].map((filter) => ({ filter, matches: compileTopicFilter(filter) }));
    this.counter++;
  }

  version(): number {
    return this.counter;
  }

  interested(topic: string): boolean {
    return this.filters.some((f) => f.matches(topic));
  }

  selectVariants(topic: string): string[] {
    const prefix = `${topic}?$select=`;
    return this.filters.filter((f) => f.filter.startsWith(prefix) && !/[+#]/.test(f.filter)).map((f) => f.filter);
  }

  publish(topic: string, payload: string): void {
    this.broker.publish({ cmd: 'publish', topic, payload: Buffer.from(payload), qos: 0, retain: false, dup: false }, () => undefined);
    staMqttPublished.inc();
  }

  publishObservation(topic: string, encoder: ObservationEncoder, fields: [string, string, string, string]): void {
    const payload = Buffer.allocUnsafe(encoder.length(...fields));
    encoder.write(payload, 0, ...fields);
    this.broker.publish({ cmd: 'publish', topic, payload, qos: 0, retain: false, dup: false }, () => undefined);
    staMqttPublished.inc();
  }

  flush(): void {
    // aedes delivers as it is handed each message.
  }

  async close(): Promise<void> {
    for (const [event, listener] of this.listeners) this.broker.off(event, listener as (...args: unknown[]) => void);
  }
}

/** Writes a QoS 0 PUBLISH header (fixed header, remaining length, topic) at `at`; returns the offset after it. */
function writePublishHeader(target: Buffer, at: number, topic: string, topicLength: number, payloadLength: number): number {
  let i = at;
  target[i++] = 0x30;
  i = writeVariableByteInteger(target, i, 2 + topicLength + payloadLength);
  target.writeUInt16BE(topicLength, i);
  i += 2;
  return i + target.write(topic, i, 'utf8');
}

/** MQTT 3.1.1 PUBLISH, QoS 0 (MQTT 3.1.1 §3.3): fixed header, remaining length, topic, payload. */
export function publishPacket(topic: string, payload: string): Buffer {
  const topicLength = Buffer.byteLength(topic);
  const payloadLength = Buffer.byteLength(payload);
  const lengthBytes = variableByteInteger(2 + topicLength + payloadLength);
  const packet = Buffer.allocUnsafe(1 + lengthBytes.length + 2 + topicLength + payloadLength);
  let at = 0;
  packet[at++] = 0x30;
  at += lengthBytes.copy(packet, at);
  packet.writeUInt16BE(topicLength, at);
  at += 2;
  at += packet.write(topic, at);
  packet.write(payload, at);
  return packet;
}

/** The topics each STA_MQTT_TOPICS kind publishes (Observations, and the registry's changes). */
const TOPIC_PATTERNS: Record<StaMqttTopic, RegExp> = {
  datastreams: /^v1\.1\/Datastreams\(\d+\)\/Observations$/,
  observations: /^v1\.1\/Observations$/,
  things: /^v1\.1\/(Things\(\d+\)\/Datastreams(\(\d+\))?\/Observations|Things(\(\d+\)(\/(Datastreams|Locations|HistoricalLocations))?)?|Locations|HistoricalLocations)$/,
  features: /^v1\.1\/FeaturesOfInterest\(\d+\)\/Observations$/,
  // New Datastreams on the entity set. Opt-in: a new city's first minutes make three
  // Datastreams per series, and nobody may be listening (bench ingest: 416,000 messages
  // in the first 20 s, about 70 µs of the service per uplink).
  entities: /^v1\.1\/Datastreams$/,
};

/** A topic with an audience, and the `$select` of a `…?$select=…` topic (null: whole entity). */
export interface Target {
  topic: string;
  select: string[] | null;
}

/**
 * The topics an Observation of Datastream `datastream` of Thing `thing` (at
 * FeatureOfInterest `feature`) goes to that have an audience, `$select` variants included.
 */
export function observationTargets(t: StaTransport, datastream: number | string, thing: number, feature: number | null): Target[] {
  const candidates = [
    `v1.1/Datastreams(${datastream})/Observations`,
    'v1.1/Observations',
    `v1.1/Things(${thing})/Datastreams(${datastream})/Observations`,
    `v1.1/Things(${thing})/Datastreams/Observations`,
    ...(feature !== null ? [`v1.1/FeaturesOfInterest(${feature})/Observations`] : []),
  ];
  const targets: Target[] = [];
  for (const topic of candidates) {
    if (t.interested(topic)) targets.push({ topic, select: null });
    for (const variant of t.selectVariants(topic)) {
      targets.push({ topic: variant, select: decodeURIComponent(variant.slice(variant.indexOf('?$select=') + 9)).split(',').map((x) => x.trim()).filter(Boolean) });
    }
  }
  return targets;
}

/** Bytes of PUBLISH packets written before they go to the socket (a larger message gets a chunk of its own size). */
const CHUNK_BYTES = 64 * 1024;

export interface ExternalTransportOptions {
  url: string;
  clientId: string;
  username?: string | null;
  password?: string | null;
  log: Logger;
  /** Which topics to publish (the service cannot know who listens on an external broker). */
  topics: readonly StaMqttTopic[];
  /** Socket buffer beyond which messages are dropped. Default 8 MiB. */
  maxBufferedBytes?: number;
}

export class ExternalTransport implements StaTransport {
  readonly kind = 'external';
  private readonly client: MqttClient;
  private readonly patterns: RegExp[];
  /** Packets are written here; `[sent, at)` is written and not yet handed to the socket. */
  private chunk = Buffer.allocUnsafe(CHUNK_BYTES);
  private sent = 0;
  private at = 0;
  /** Messages in `[sent, at)`. */
  private messages = 0;
  private readonly maxBufferedBytes: number;

  constructor(private readonly options: ExternalTransportOptions) {
    this.patterns = options.topics.map((t) => TOPIC_PATTERNS[t]);
    this.maxBufferedBytes = options.maxBufferedBytes ?? 8 * 1024 * 1024;
    this.client = mqtt.connect(options.url, {
      clientId: options.clientId,
      protocolVersion: 4,
      clean: true,
      reconnectPeriod: 1000,
      connectTimeout: 5000,
      ...(options.username ? { username: options.username } : {}),
      ...(options.password ? { password: options.password } : {}),
    });
    this.client.on('connect', () => {
      (this.client.stream as { setNoDelay?: (noDelay: boolean) => void } | undefined)?.setNoDelay?.(true);
      options.log.info('SensorThings MQTT publisher connected');
    });
    this.client.on('offline', () => options.log.warn('SensorThings MQTT publisher offline; reconnecting'));
    this.client.on('error', (error) => options.log.warn({ reason: error.message }, 'SensorThings MQTT publisher error'));
  }

  /** Resolves once connected (for tests and start-up logs); publishing does not wait for it. */
  connected(): Promise<void> {
    if (this.client.connected) return Promise.resolve();
    return new Promise((resolve) => this.client.once('connect', () => resolve()));
  }

  version(): number {
    return 0;
  }

  interested(topic: string): boolean {
    return this.patterns.some((p) => p.test(topic));
  }

  selectVariants(): string[] {
    return [];
  }

  publish(topic: string, payload: string): void {
    const payloadLength = Buffer.byteLength(payload);
    const at = this.room(topic, payloadLength);
    this.at = this.chunk.write(payload, at) + at;
    this.messages++;
  }

  publishObservation(topic: string, encoder: ObservationEncoder, fields: [string, string, string, string]): void {
    const at = this.room(topic, encoder.length(...fields));
    this.at = encoder.write(this.chunk, at, ...fields);
    this.messages++;
  }

  /** Writes the PUBLISH header of a message into the chunk, sending the chunk first when it is full; returns where the payload goes. */
  private room(topic: string, payloadLength: number): number {
    const topicLength = Buffer.byteLength(topic);
    const bytes = 1 + variableByteIntegerLength(2 + topicLength + payloadLength) + 2 + topicLength + payloadLength;
    if (this.at + bytes > this.chunk.length) {
      this.flush();
      this.chunk = Buffer.allocUnsafe(Math.max(CHUNK_BYTES, bytes));
      this.sent = 0;
      this.at = 0;
    }
    return writePublishHeader(this.chunk, this.at, topic, topicLength, payloadLength);
  }

  flush(): void {
    if (this.messages === 0) return;
    const packets = this.chunk.subarray(this.sent, this.at);
    const messages = this.messages;
    // The rest of the chunk takes the next messages: the socket holds only this part of it.
    this.sent = this.at;
    this.messages = 0;
    const stream = this.client.stream as (NodeJS.WritableStream & { writableLength?: number; destroyed?: boolean }) | undefined;
    if (!this.client.connected || !stream || stream.destroyed) {
      staMqttDropped.labels('disconnected').inc(messages);
      return;
    }
    // Sent whole unless the socket still holds more than the limit from earlier chunks.
    if ((stream.writableLength ?? 0) > this.maxBufferedBytes) {
      staMqttDropped.labels('backlog').inc(messages);
      return;
    }
    stream.write(packets);
    staMqttPublished.inc(messages);
  }

  async close(): Promise<void> {
    await this.client.endAsync(true).catch(() => undefined);
  }
}
