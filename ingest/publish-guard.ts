/**
 * A guard on the read side of the broker connection: no PUBLISH is ever held whole once
 * it is larger than the service would store (issue 26).
 *
 * Design note. mqtt.js's parser (mqtt-packet) gathers a packet's bytes until the packet
 * is complete and then copies them into one Buffer: a 120 MB message took 120 MB, then
 * twice that, and ran the service out of heap before it could be acknowledged, so every
 * restart met it again. The guard sits between the socket and that parser. It reads
 * only the MQTT fixed headers (packet type, Remaining Length: MQTT 5 §2.1, 3.1.1 §2.2)
 * and passes every packet through byte for byte, except a PUBLISH whose Remaining Length
 * exceeds `maxPayloadBytes` + HEADER_SLACK_BYTES. That one is rewritten as it streams:
 * topic and packet identifier are kept, MQTT 5 properties are dropped (ingest reads
 * none; the broker sends no topic alias, as the client allows none), and of a payload
 * larger than `maxPayloadBytes` only the first `prefixBytes` are kept while a SHA-256
 * and a byte count run over all of it. The rest is discarded as it arrives, so the
 * guard holds at most a topic (≤ 65,535 bytes) and `maxPayloadBytes` of one packet.
 * The rewritten packet is a valid PUBLISH of the same QoS and packet identifier: mqtt.js
 * acknowledges it like any other, after its dead letter has committed, so a restart
 * does not meet it again.
 *
 * Publishes leave the guard in the order they arrived and mqtt.js handles a
 * connection's packets in that order, one guard per connection: `takePublish()`,
 * called once for each PUBLISH mqtt.js receives, answers whether that one was cut and
 * what its whole payload was.
 */
import { createHash, type Hash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import { variableByteInteger } from './mqtt-varint.js';

/** The whole payload of a PUBLISH of which the guard passed on only the first bytes. */
export interface OversizePayload {
  /** Bytes of the payload as the broker sent it. */
  length: number;
  /** SHA-256 of those bytes. */
  sha256: Buffer;
}

/**
 * Bytes kept of an oversize payload: the dead-letter API's largest preview (4 KiB), so
 * an operator sees as much of it as of any other dead letter.
 */
export const OVERSIZE_PREFIX_BYTES = 4096;

/**
 * Room for a PUBLISH's variable header above the payload limit: a topic of up to 65,535
 * bytes with its length, a packet identifier, and about 64 KiB of MQTT 5 properties.
 * A publish within limit + slack passes untouched; the pipeline still cuts a payload
 * over the limit (it is in memory anyway, and bounded).
 */
export const HEADER_SLACK_BYTES = 131_072;

const PUBLISH = 3;

export interface PublishGuardOptions {
  protocolVersion: 4 | 5;
  /** Largest payload kept whole (INGEST_MAX_PAYLOAD_BYTES), bytes. */
  maxPayloadBytes: number;
  /** Bytes kept of a larger payload. Default OVERSIZE_PREFIX_BYTES. */
  prefixBytes?: number;
}

/** Where the guard is inside a PUBLISH it rewrites. */
type CutStep = 'topicLength' | 'topic' | 'packetId' | 'propertiesLength' | 'properties' | 'payload';

interface Cut {
  firstByte: number;
  qos: number;
  step: CutStep;
  /** Bytes of the current field still to come (fixed-size fields and skipped properties). */
  need: number;
  /** The current fixed-size field as it fills. */
  field: Buffer;
  filled: number;
  topic: Buffer;
  packetId: Buffer;
  /** Properties length varint: value so far and its bytes read. */
  varint: number;
  varintBytes: number;
  payloadLength: number;
  kept: Buffer;
  keptBytes: number;
  hash: Hash | null;
  /** Sequence number of this publish among the connection's publishes. */
  seq: number;
}

export class PublishGuard extends Transform {
  private readonly threshold: number;
  private readonly prefixBytes: number;
  /** Fixed header being read: first byte, then the Remaining Length varint. */
  private readonly head = Buffer.alloc(5);
  private headBytes = 0;
  /** Of those, bytes that came in earlier chunks and are not pushed yet. */
  private heldHeadBytes = 0;
  /** Bytes of a passed-through packet still to come. */
  private passing = 0;
  private cut: Cut | null = null;
  /** Bytes of the packet being rewritten still to come. */
  private cutLeft = 0;
  /** Publishes passed on so far, and publishes taken by takePublish(). */
  private publishes = 0;
  private taken = 0;
  /** Cut publishes not yet taken, oldest first. */
  private readonly oversize: (OversizePayload & { seq: number })[] = [];

  constructor(private readonly options: PublishGuardOptions) {
    super();
    this.threshold = options.maxPayloadBytes + HEADER_SLACK_BYTES;
    this.prefixBytes = Math.min(options.prefixBytes ?? OVERSIZE_PREFIX_BYTES, options.maxPayloadBytes);
  }

  /**
   * Call once for each PUBLISH received from this connection, in order: the whole
   * payload's length and hash if the guard cut it, else null.
   */
  takePublish(): OversizePayload | null {
    const seq = this.taken++;
    while (this.oversize.length > 0 && this.oversize[0]!.seq < seq) this.oversize.shift();
    if (this.oversize[0]?.seq !== seq) return null;
    const { length, sha256 } = this.oversize.shift()!;
    return { length, sha256 };
  }

  /**
   * Passed-through bytes leave in runs, one slice of the chunk for all the packets in a
   * row that pass (usually the whole chunk), not one per packet: mqtt.js's parser then
   * works as it did without the guard. A fixed header not yet complete at the end of a
   * chunk is held back until its packet's fate is known.
   */
  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    try {
      let at = 0;
      /** Start of this chunk's bytes that pass and are not pushed yet. */
      let run = 0;
      /** Where the fixed header being read starts in this chunk (0 when it began in an earlier one). */
      let headerAt = 0;
      while (at < chunk.length) {
        if (this.passing > 0) {
          const n = Math.min(this.passing, chunk.length - at);
          this.passing -= n;
          at += n;
        } else if (this.cut) {
          at = this.cutting(chunk, at);
          run = at;
        } else {
          if (this.headBytes === 0) headerAt = at;
          this.head[this.headBytes++] = chunk[at++]!;
          const fate = this.headerByte();
          if (fate === 'pass' && this.heldHeadBytes > 0) {
            // The header began in an earlier chunk: its first bytes were held back.
            this.push(Buffer.from(this.head.subarray(0, this.heldHeadBytes)));
            this.heldHeadBytes = 0;
          } else if (fate === 'cut') {
            if (headerAt > run) this.push(chunk.subarray(run, headerAt));
            this.heldHeadBytes = 0;
            run = at;
          }
        }
      }
      const end = this.headBytes > 0 ? headerAt : at;
      if (end > run) this.push(chunk.subarray(run, end));
      this.heldHeadBytes = this.headBytes;
      callback();
    } catch (error) {
      callback(error as Error);
    }
  }

  /** One more fixed-header byte was read: decides the packet's fate once its Remaining Length is complete. */
  private headerByte(): 'pass' | 'cut' | null {
    if (this.headBytes < 2) return null;
    const last = this.head[this.headBytes - 1]!;
    if (last & 0x80) {
      if (this.headBytes === 5) throw new Error('malformed Remaining Length from the broker (more than 4 bytes)');
      return null;
    }
    let remaining = 0;
    for (let i = this.headBytes - 1; i >= 1; i--) remaining = remaining * 128 + (this.head[i]! & 0x7f);
    const firstByte = this.head[0]!;
    this.headBytes = 0;
    const type = firstByte >> 4;
    if (type !== PUBLISH || remaining <= this.threshold) {
      if (type === PUBLISH) this.publishes++;
      this.passing = remaining;
      return 'pass';
    }
    this.cutLeft = remaining;
    this.cut = {
      firstByte, qos: (firstByte >> 1) & 3, step: 'topicLength', need: 2, field: Buffer.alloc(2), filled: 0,
      topic: Buffer.alloc(0), packetId: Buffer.alloc(0), varint: 0, varintBytes: 0,
      payloadLength: 0, kept: Buffer.alloc(0), keptBytes: 0, hash: null, seq: this.publishes++,
    };
    return 'cut';
  }

  /** Reads from `at` what belongs to the publish being rewritten; returns where it stopped. */
  private cutting(chunk: Buffer, at: number): number {
    const cut = this.cut!;
    const available = Math.min(chunk.length - at, this.cutLeft);
    if (cut.step === 'payload') {
      const slice = chunk.subarray(at, at + available);
      cut.hash?.update(slice);
      const keep = Math.min(slice.length, cut.kept.length - cut.keptBytes);
      if (keep > 0) slice.copy(cut.kept, cut.keptBytes, 0, keep);
      cut.keptBytes += keep;
      this.cutLeft -= available;
      if (this.cutLeft === 0) this.finishCut();
      return at + available;
    }
    if (cut.step === 'propertiesLength') {
      const byte = chunk[at]!;
      cut.varint += (byte & 0x7f) * 128 ** cut.varintBytes++;
      this.cutLeft--;
      if (byte & 0x80) {
        if (cut.varintBytes === 4) throw new Error('malformed PUBLISH from the broker (properties length)');
      } else {
        this.nextField('properties', cut.varint);
      }
      return at + 1;
    }
    const n = Math.min(available, cut.need);
    if (cut.step !== 'properties') chunk.copy(cut.field, cut.filled, at, at + n);
    cut.filled += n;
    cut.need -= n;
    this.cutLeft -= n;
    if (cut.need === 0) this.fieldDone();
    else if (this.cutLeft === 0) throw new Error('malformed PUBLISH from the broker (shorter than its header)');
    return at + n;
  }

  private fieldDone(): void {
    const cut = this.cut!;
    switch (cut.step) {
      case 'topicLength':
        this.nextField('topic', cut.field.readUInt16BE(0));
        break;
      case 'topic':
        cut.topic = cut.field;
        if (cut.qos > 0) this.nextField('packetId', 2);
        else this.afterPacketId();
        break;
      case 'packetId':
        cut.packetId = cut.field;
        this.afterPacketId();
        break;
      case 'properties':
        this.startPayload();
        break;
      default:
        break;
    }
  }

  private afterPacketId(): void {
    const cut = this.cut!;
    if (this.options.protocolVersion === 5) {
      cut.step = 'propertiesLength';
      if (this.cutLeft === 0) throw new Error('malformed PUBLISH from the broker (no properties length)');
    } else {
      this.startPayload();
    }
  }

  private nextField(step: CutStep, bytes: number): void {
    const cut = this.cut!;
    if (bytes > this.cutLeft) throw new Error(`malformed PUBLISH from the broker (${step} runs past the packet)`);
    cut.step = step;
    cut.need = bytes;
    cut.filled = 0;
    cut.field = step === 'properties' ? cut.field : Buffer.alloc(bytes);
    if (bytes === 0) this.fieldDone();
  }

  /** The payload is what is left of the packet: kept whole up to the limit, else its prefix with length and hash. */
  private startPayload(): void {
    const cut = this.cut!;
    cut.step = 'payload';
    cut.payloadLength = this.cutLeft;
    const oversize = cut.payloadLength > this.options.maxPayloadBytes;
    cut.kept = Buffer.alloc(oversize ? this.prefixBytes : cut.payloadLength);
    cut.hash = oversize ? createHash('sha256') : null;
    if (this.cutLeft === 0) this.finishCut();
  }

  /** Passes on the rewritten publish and records what was cut. */
  private finishCut(): void {
    const cut = this.cut!;
    this.cut = null;
    const properties = this.options.protocolVersion === 5 ? Buffer.from([0]) : Buffer.alloc(0);
    const remaining = 2 + cut.topic.length + cut.packetId.length + properties.length + cut.keptBytes;
    const topicLength = Buffer.alloc(2);
    topicLength.writeUInt16BE(cut.topic.length);
    // Recorded first: push() can run mqtt.js's parser and handler, and so takePublish(), at once.
    if (cut.hash) this.oversize.push({ seq: cut.seq, length: cut.payloadLength, sha256: cut.hash.digest() });
    this.push(Buffer.concat([Buffer.from([cut.firstByte]), variableByteInteger(remaining), topicLength, cut.topic, cut.packetId, properties, cut.kept.subarray(0, cut.keptBytes)]));
  }
}
