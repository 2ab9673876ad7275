/**
 * The embedded default MQTT broker (aedes, MQTT 3.1.1) with a durable inbox.
 *
 * Design note. aedes sends a QoS 1 publisher its PUBACK before it delivers the
 * message, and keeps sessions in memory: a crash after that PUBACK would lose the
 * message. So every QoS 1/2 message on an ingest topic is first committed to the
 * `mqtt_inbox` table (in the same PostgreSQL stadtfunk stores its data in), and only
 * then does aedes acknowledge it to the publisher. When the ingest client
 * acknowledges the message (after its own commit) the inbox row is deleted. On
 * start, rows left behind by a crash are published again; redelivery is harmless
 * because the database enforces uplink identity.
 *
 * Inserts and deletes are group-committed: all messages that arrive while one
 * write is running share the next one.
 *
 * What survives a crash: QoS 1/2 messages on ingest topics that the publisher saw
 * acknowledged. What does not: QoS 0 messages, retained messages, other clients'
 * sessions and subscriptions, wills (all in memory, as in any aedes default).
 *
 * Until `open()` is called, only the ingest client may connect: publishers are
 * refused with "server unavailable" and retry, so nothing is published before the
 * ingest subscription exists.
 *
 * The broker runs in the service's own process, and aedes gathers a packet whole before
 * it looks at it: a client that sends a packet larger than `maxPacketBytes` is
 * disconnected as soon as the packet's length is read, as Mosquitto's `max_packet_size`
 * does (issue 26). Smaller messages over the ingest's payload limit reach ingest and
 * become dead letters there.
 */
import { randomUUID } from 'node:crypto';
import net from 'node:net';
import type { EventEmitter } from 'node:events';
import { Aedes, type AedesPublishPacket, type Client, type PublishPacket } from 'aedes';
import type pg from 'pg';
import type { Logger } from 'pino';
import { assertPortFree } from '../storage/port-check.js';
import { compileTopicFilter } from './topic-filter.js';

export interface EmbeddedBrokerOptions {
  port: number;
  host?: string;
  pool: pg.Pool;
  log: Logger;
  /** Topic filters the ingest subscribes to: messages on them are kept durably. */
  durableFilters: string[];
  /** Client id of the ingest; its acknowledgements release inbox rows. */
  ingestClientId: string;
  /** Largest packet a client may send, bytes (INGEST_MAX_PACKET_BYTES). Default 16,777,216. */
  maxPacketBytes?: number;
}

export interface EmbeddedBroker {
  url: string;
  /** The aedes instance, for in-process publishers (SensorThings MQTT) that follow subscriptions. */
  aedes: Aedes;
  /** Let publishers in. */
  open(): void;
  /** Publish again what a crash left in the inbox; resolves when all were acknowledged. */
  replayInbox(): Promise<number>;
  /** Inbox rows not yet acknowledged by ingest. */
  inboxSize(): Promise<number>;
  close(): Promise<void>;
}

interface PendingInsert {
  id: string;
  topic: string;
  payload: Buffer;
  qos: number;
  done: (error?: Error | null) => void;
}

/** Runs one write at a time; calls arriving meanwhile are gathered into the next. */
class GroupCommit<T> {
  private queue: T[] = [];
  private running = false;
  constructor(private readonly write: (items: T[]) => Promise<void>, private readonly onError: (items: T[], error: Error) => void) {}

  push(item: T): void {
    this.queue.push(item);
    if (!this.running) void this.drain();
  }

  private async drain(): Promise<void> {
    this.running = true;
    while (this.queue.length > 0) {
      const items = this.queue;
      this.queue = [];
      try {
        await this.write(items);
      } catch (error) {
        this.onError(items, error as Error);
      }
    }
    this.running = false;
  }
}

export async function startEmbeddedBroker(options: EmbeddedBrokerOptions): Promise<EmbeddedBroker> {
  const { pool, log, port } = options;
  const host = options.host ?? '127.0.0.1';
  await assertPortFree(port, 'embedded MQTT broker', 'EMBEDDED_MQTT_PORT', host);
  const inboxIds = new WeakMap<Buffer, string>();
  const waiting = new Map<string, () => void>();
  let open = false;

  const durable = options.durableFilters.map(compileTopicFilter);
  const isDurable = (packet: PublishPacket): boolean => packet.qos > 0 && durable.some((matches) => matches(packet.topic));

  const inserts = new GroupCommit<PendingInsert>(
    async (items) => {
      await pool.query(
        'insert into mqtt_inbox (id, topic, payload, qos) select * from unnest($1::uuid[], $2::text[], $3::bytea[], $4::int2[])',
        [items.map((i) => i.id), items.map((i) => i.topic), items.map((i) => i.payload), items.map((i) => i.qos)],
      );
      for (const item of items) item.done(null);
    },
    (items, error) => {
      log.error({ err: error, count: items.length }, 'embedded broker: inbox write failed; refusing the publishes');
      // The publisher gets no PUBACK and disconnects; it retries, nothing was acknowledged.
      for (const item of items) item.done(error);
    },
  );
  const deletes = new GroupCommit<string>(
    async (ids) => {
      await pool.query('delete from mqtt_inbox where id = any($1::uuid[])', [ids]);
      for (const id of ids) {
        waiting.get(id)?.();
        waiting.delete(id);
      }
    },
    (ids, error) => log.warn({ err: error, count: ids.length }, 'embedded broker: inbox cleanup failed; rows will be replayed at next start'),
  );

  const broker = await Aedes.createBroker({
    concurrency: 1000,
    authenticate: (client: Client, _username, _password, done) => {
      if (open || client.id === options.ingestClientId) return done(null, true);
      const error = Object.assign(new Error('stadtfunk is starting'), { returnCode: 3 as const });
      done(error, false);
    },
    authorizePublish: (client: Client | null, packet: PublishPacket, done: (error?: Error | null) => void) => {
      if (!client || !isDurable(packet)) return done(null);
      const id = randomUUID();
      inboxIds.set(packet.payload as Buffer, id);
      inserts.push({ id, topic: packet.topic, payload: packet.payload as Buffer, qos: packet.qos, done });
    },
  });
  // 'ack' (emitted when a subscriber PUBACKs, with the packet it acknowledged) is missing from aedes' typings.
  (broker as EventEmitter).on('ack', (packet: AedesPublishPacket | undefined, client: Client) => {
    if (!packet || client.id !== options.ingestClientId) return;
    const id = inboxIds.get(packet.payload as Buffer);
    if (id !== undefined) deletes.push(id);
  });

  const maxPacketBytes = options.maxPacketBytes ?? 16_777_216;
  const server = net.createServer((socket) => limitPacketSize(broker.handle(socket), socket, maxPacketBytes, log));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });

  return {
    url: `mqtt://${host}:${port}`,
    aedes: broker,
    open: () => {
      open = true;
    },
    async replayInbox() {
      let total = 0;
      let after = '00000000-0000-0000-0000-000000000000';
      // Pages keep memory bounded; each page is acknowledged before the next is sent.
      for (;;) {
        const { rows } = await pool.query<{ id: string; topic: string; payload: Buffer; qos: number }>(
          'select id, topic, payload, qos from mqtt_inbox where id > $1 order by id limit 1000',
          [after],
        );
        if (rows.length === 0) break;
        await Promise.all(
          rows.map(
            (row) =>
              new Promise<void>((resolve) => {
                waiting.set(row.id, resolve);
                inboxIds.set(row.payload, row.id);
                broker.publish({ cmd: 'publish', topic: row.topic, payload: row.payload, qos: 1, retain: false, dup: false }, () => undefined);
              }),
          ),
        );
        total += rows.length;
        after = rows[rows.length - 1]!.id;
      }
      if (total > 0) log.info({ messages: total }, 'embedded broker: replayed messages left in the inbox by an earlier run');
      return total;
    },
    async inboxSize() {
      const { rows } = await pool.query<{ n: string }>('select count(*) as n from mqtt_inbox');
      return Number(rows[0]?.n ?? 0);
    },
    async close() {
      open = false;
      await new Promise<void>((resolve) => broker.close(() => resolve()));
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/**
 * Disconnects a client whose next packet is larger than `maxBytes` (fixed header
 * included), once its length is known and before aedes has gathered it. Reads the state
 * of the client's mqtt-packet parser: `packet.length` is the Remaining Length of the
 * packet being read (-1 until its header is complete).
 */
function limitPacketSize(client: Client, socket: net.Socket, maxBytes: number, log: Logger): void {
  const parser = (client as unknown as { _parser: { parse(buf: Buffer): number; packet: { length: number } } })._parser;
  const parse = parser.parse.bind(parser);
  parser.parse = (buf) => {
    const left = parse(buf);
    const remaining = parser.packet.length;
    if (remaining >= 0 && 1 + varintBytes(remaining) + remaining > maxBytes && !socket.destroyed) {
      log.warn({ clientId: client.id, packetBytes: 1 + varintBytes(remaining) + remaining, maxPacketBytes: maxBytes }, 'embedded broker: packet over INGEST_MAX_PACKET_BYTES; client disconnected');
      socket.destroy();
    }
    return left;
  };
}

/** Bytes of MQTT's Remaining Length varint for `value`. */
function varintBytes(value: number): number {
  return value < 128 ? 1 : value < 16_384 ? 2 : value < 2_097_152 ? 3 : 4;
}
