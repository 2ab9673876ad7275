/**
 * The recipe one MQTT message follows:
 *
 *   parse (source adapter) → find device → decode → write (one transaction per batch) → ack
 *
 * Design note. Messages are parsed as they arrive and gathered into a batch that is
 * closed by size (`batchMaxSize`) or age (`batchMaxAgeMs`). Up to two batches are in the
 * database at once; meanwhile the next one fills. A batch is acknowledged only after
 * its transaction commits. When a write fails (database slow or down) the same batch
 * is retried with backoff and nothing is acknowledged; the MQTT consumer then stops
 * reading once `maxInFlight` messages wait, so memory stays bounded and ingest
 * resumes by itself when the database is back.
 *
 * Bad input never stops ingest: whatever a message does wrong becomes a dead letter
 * with its reason, written in the same transaction as the batch.
 */
import { createHash } from 'node:crypto';
import type pg from 'pg';
import type { Logger } from 'pino';
import type { DeviceModel, FieldMapping, ModelCategory, Reading } from '../decoders/types.js';
import { refusedByDatabase, writeBatch, type DeadLetterRow, type DeviceContext, type ReadingRow, type UplinkRow, type WriteBatch, type WriteResult } from '../storage/index.js';
import type { DeviceDirectory } from './device-directory.js';
import { DeadLetterReason, IngestError } from './errors.js';
import * as metrics from './metrics.js';
import type { InboundMessage } from './mqtt-consumer.js';
import { OVERSIZE_PREFIX_BYTES } from './publish-guard.js';
import { RawFrameCollector, type RawFrameItem, type RawFrameResolver } from './raw-frames.js';
import * as downlinkMetrics from './downlink-metrics.js';
import type { GatewayRoutes } from './gateway-routes.js';
import { txAckOutcome } from './lorawan/gateway-downlink.js';
import type { DownlinkPublisher } from './outgoing-downlinks.js';
import type { DeviceHealth, SourceAdapter, SourceResult } from './sources/types.js';
import type { OpsHistory } from './ops-history.js';
import { DistinctDeviceClock } from './local-time.js';
import { compileTopicFilter } from './topic-filter.js';
import type { Uplink } from './types.js';

/** What the pipeline needs of the decoders stage. */
export interface UplinkDecoder {
  decode(model: DeviceModel, input: { bytes: Uint8Array; fPort: number; recvTime: Date }):
    | { readings: Reading[]; decoded: Record<string, unknown>; errors: string[] }
    | Promise<{ readings: Reading[]; decoded: Record<string, unknown>; errors: string[] }>;
}

export interface PipelineOptions {
  pool: pg.Pool;
  log: Logger;
  sources: SourceAdapter[];
  devices: DeviceDirectory;
  decoder: UplinkDecoder;
  batchMaxSize: number;
  batchMaxAgeMs: number;
  maxPayloadBytes: number;
  /** Called after each committed batch (live push, tests). */
  onCommitted?: (batch: WriteBatch, result: WriteResult) => void;
  /** A closed batch no longer waits for the database (see `busy`): the consumer may read again. */
  onRoom?: () => void;
  /** Counts committed batches for the ops cockpit's history (written once a minute). */
  history?: OpsHistory;
  /** The raw-frame layer; without it concentrator frames are dead-lettered. */
  rawFrames?: {
    resolver: RawFrameResolver;
    dedupWindowMs: number;
    /** Join-requests gather this long. Default dedupWindowMs. */
    joinDedupWindowMs?: number;
    /** Concentrators' topic prefixes and encodings, learnt from their uplinks, for downlinks. */
    gateways?: GatewayRoutes;
  };
  /** Publishes recorded downlinks after each commit; without it none are planned. */
  downlinks?: DownlinkPublisher;
  /** Application downlinks give up after this many transmissions. Default 3. */
  downlinkMaxAttempts?: number;
}

type ItemResult = SourceResult | RawFrameItem | { kind: 'error'; reason: string; detail: string; devEui: string | null };

interface Item {
  /** The messages this item stands for: one, or every concentrator's copy of a frame. All are acknowledged together. */
  messages: InboundMessage[];
  receivedAt: Date;
  result: ItemResult;
}

const MAX_BACKOFF_MS = 5_000;
/** A message alone in its batch that the database refuses this many times becomes a dead letter. */
const REFUSALS_BEFORE_DEAD_LETTER = 3;
/**
 * At most this many such dead letters a minute. More means the database refuses nearly
 * everything (a schema out of step, a constraint gone wrong): then ingest holds the
 * messages unacknowledged and retries, as for an outage, rather than turn the whole
 * stream into dead letters.
 */
const REFUSED_DEAD_LETTERS_PER_MINUTE = 20;
/** Batches in the database at once. */
const MAX_CONCURRENT_BATCHES = 2;
/** Longest a batch waits once it holds something a device waits an answer for, ms. */
const URGENT_BATCH_MS = 5;

export class IngestPipeline {
  private batch: Item[] = [];
  private timer: NodeJS.Timeout | null = null;
  /** Closed batches waiting for a slot, oldest first. */
  private readonly waiting: Item[][] = [];
  /** Batches being built and written now (at most MAX_CONCURRENT_BATCHES). */
  private readonly inDatabase = new Set<Promise<void>>();
  private stopped = false;
  private readonly frames: RawFrameCollector | null;
  /** When the latest storage_refused dead letters were written (epoch ms), oldest first. */
  private readonly refusedAt: number[] = [];
  /** Times for uplinks without a source time, distinct per device. */
  private readonly localClock = new DistinctDeviceClock();
  /** Each source with its topic filters compiled. */
  private readonly routes: { source: SourceAdapter; matches: ((topic: string) => boolean)[] }[];

  constructor(private readonly options: PipelineOptions) {
    this.routes = options.sources.map((source) => ({ source, matches: source.filters.map(compileTopicFilter) }));
    this.frames = options.rawFrames
      ? new RawFrameCollector({
          windowMs: options.rawFrames.dedupWindowMs,
          ...(options.rawFrames.joinDedupWindowMs ? { joinWindowMs: options.rawFrames.joinDedupWindowMs } : {}),
          ...(options.rawFrames.gateways ? { gateways: options.rawFrames.gateways } : {}),
          emit: (item) => this.push({ messages: item.messages, receivedAt: new Date(), result: item }),
          onError: (error) => options.log.error({ err: error }, 'dedup window failed'),
        })
      : null;
  }

  /** Takes one message from the broker. Never throws. */
  accept(delivered: InboundMessage): void {
    const receivedAt = new Date();
    const message = this.cut(delivered);
    const result = this.parse(message);
    if (result.kind === 'frame') {
      // Copies wait in the dedup window; the group enters a batch when the window closes.
      if (this.frames) return this.frames.offer(message, result.frame, result.band, receivedAt, result.prefix, result.encoding);
      return this.push({ messages: [message], receivedAt, result: { kind: 'error', reason: 'frame_layer_disabled', detail: 'raw frames need MASTER_KEY', devEui: null } });
    }
    // Two uplinks of a device stamped by our clock in one millisecond would share their readings' keys.
    if (result.kind === 'uplink' && result.uplink.localTime) result.uplink.receivedAt = this.localClock.stamp(result.uplink.devEui, result.uplink.receivedAt);
    this.push({ messages: [message], receivedAt, result });
  }

  private push(item: Item): void {
    this.batch.push(item);
    if (this.batch.length >= this.options.batchMaxSize) return this.closeBatch();
    if (this.timer === null) {
      this.timerDueAt = performance.now() + this.options.batchMaxAgeMs;
      this.timer = setTimeout(() => this.batchAged(), this.options.batchMaxAgeMs);
    }
    // A join-request or a data uplink from a concentrator we serve may be answered in a
    // receive window a second or five away: its batch goes to the database as soon as a
    // slot is free, within URGENT_BATCH_MS, instead of waiting out INGEST_BATCH_MAX_AGE_MS.
    // While both slots are taken it fills on and goes the moment one frees (startWaiting),
    // so a join storm or a flood of frames makes larger batches, not more of them.
    if (isUrgent(item)) {
      this.urgent = true;
      if (this.inDatabase.size < MAX_CONCURRENT_BATCHES && this.waiting.length === 0 && this.timerDueAt - performance.now() > URGENT_BATCH_MS) {
        clearTimeout(this.timer);
        this.timerDueAt = performance.now() + URGENT_BATCH_MS;
        this.timer = setTimeout(() => this.closeBatch(), URGENT_BATCH_MS);
      }
    }
  }

  /** The open batch holds something a device waits an answer for. */
  private urgent = false;

  /**
   * INGEST_BATCH_MAX_AGE_MS passed. An urgent batch whose database slots are both taken
   * stays open: closed, it would only wait for a slot (startWaiting closes it the moment
   * one frees), and while a closed batch waits the consumer reads nothing (`busy`), so
   * the join-requests and uplinks behind it would start their dedup windows only after
   * the database moved again instead of meanwhile. It is still bounded by
   * INGEST_BATCH_MAX_SIZE and the consumer's INGEST_MAX_IN_FLIGHT.
   */
  private batchAged(): void {
    if (this.urgent && this.inDatabase.size >= MAX_CONCURRENT_BATCHES && this.waiting.length === 0 && !this.stopped) {
      this.timer = null;
      return;
    }
    this.closeBatch();
  }

  /** When the open batch's timer fires (performance.now() time). */
  private timerDueAt = 0;

  /**
   * True while a closed batch waits for a database slot. Reading more then only holds
   * more parsed messages in memory (and, measured in `bench ingest`, costs garbage
   * collection) without writing any sooner, so the consumer pauses until it starts.
   */
  busy(): boolean {
    return this.waiting.length > 0;
  }

  /** Topic filters of all sources, for the subscription. */
  filters(): string[] {
    return this.options.sources.flatMap((s) => s.filters);
  }

  /** Writes what is pending and waits for it; used at shutdown. */
  async flush(): Promise<void> {
    this.frames?.flush();
    // Late copies held for a batch enter a new one when it commits: write until none is left.
    do {
      this.closeBatch();
      while (this.inDatabase.size > 0) await Promise.all(this.inDatabase);
    } while (this.batch.length > 0 && !this.stopped);
  }

  stop(): void {
    this.stopped = true;
  }

  /**
   * A payload over the limit that the consumer's guard let through (within its header
   * slack) is cut here the same way, so every oversize dead letter keeps only the first
   * bytes with the whole payload's length and SHA-256, however it arrived.
   */
  private cut(message: InboundMessage): InboundMessage {
    if (message.oversize || message.payload.length <= this.options.maxPayloadBytes) return message;
    return {
      topic: message.topic,
      qos: message.qos,
      // The whole payload stays in memory until the ack, counted in the consumer's in-flight bytes.
      payload: message.payload.subarray(0, Math.min(OVERSIZE_PREFIX_BYTES, this.options.maxPayloadBytes)),
      oversize: { length: message.payload.length, sha256: createHash('sha256').update(message.payload).digest() },
      ack: () => message.ack(),
    };
  }

  private parse(message: InboundMessage): SourceResult | { kind: 'error'; reason: string; detail: string; devEui: string | null } {
    const source = this.routes.find((r) => r.matches.some((matches) => matches(message.topic)))?.source;
    metrics.ingestMessagesOf(source?.name ?? 'none').inc();
    try {
      if (message.oversize) {
        throw new IngestError(
          DeadLetterReason.oversizePayload,
          `payload of ${message.oversize.length} bytes exceeds INGEST_MAX_PAYLOAD_BYTES=${this.options.maxPayloadBytes}; the first ${message.payload.length} bytes are kept`,
        );
      }
      if (!source) throw new IngestError(DeadLetterReason.unexpectedTopic, 'no source adapter takes this topic');
      return source.parse(message.topic, message.payload);
    } catch (error) {
      if (error instanceof IngestError) return { kind: 'error', reason: error.reason, detail: error.message, devEui: error.devEui };
      this.options.log.error({ err: error, topic: message.topic }, 'source adapter failed');
      return { kind: 'error', reason: DeadLetterReason.internalError, detail: (error as Error).message ?? String(error), devEui: null };
    }
  }

  private closeBatch(): void {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    if (this.batch.length === 0) return;
    const items = this.batch;
    this.batch = [];
    this.urgent = false;
    this.waiting.push(items);
    this.startWaiting();
  }

  /**
   * Two batches may be in the database at once (one building or waiting on the server while
   * the other commits); later ones wait their turn in order, holding their messages
   * unacknowledged, so the consumer's in-flight limit stops reading from the broker.
   * Latest state, device rows and frame identities are written in key order, so concurrent
   * batches cannot deadlock, and none of them depends on the order of commits.
   */
  private startWaiting(): void {
    const wasBusy = this.busy();
    while (this.inDatabase.size < MAX_CONCURRENT_BATCHES && this.waiting.length > 0) {
      const items = this.waiting.shift()!;
      const current: Promise<void> = this.commit(items).finally(() => {
        this.inDatabase.delete(current);
        // A slot is free: an open batch waiting with a device's answer in it goes now.
        if (this.urgent && this.waiting.length === 0 && !this.stopped) this.closeBatch();
        else this.startWaiting();
      });
      this.inDatabase.add(current);
    }
    if (wasBusy && !this.busy()) this.options.onRoom?.();
  }

  /**
   * Builds the batch's rows, writes them in one transaction, then acknowledges. A write
   * that fails is retried with backoff, for as long as it takes when the database is
   * away. When the database refuses the rows themselves (see `refusedByDatabase`), a retry
   * would fail the same way and hold every message of the batch: the batch is halved until
   * the refused message stands alone, and that one becomes a dead letter.
   */
  private async commit(items: Item[]): Promise<void> {
    let batch: WriteBatch | null = null;
    let refusals = 0;
    // From here on the batch's frame groups take no more copies: late ones wait for the commit.
    this.frames?.writing(items);
    for (let attempt = 0; !this.stopped || attempt === 0; attempt++) {
      const started = process.hrtime.bigint();
      try {
        batch ??= await this.buildBatch(items);
        const built = process.hrtime.bigint();
        const result = await writeBatch(this.options.pool, batch);
        const done = process.hrtime.bigint();
        metrics.storageBatchDuration.observe(Number(done - built) / 1e9);
        this.options.log.debug({ items: items.length, uplinks: batch.uplinks.length, readings: batch.readings.length, buildMs: Number(built - started) / 1e6, writeMs: Number(done - built) / 1e6 }, 'batch committed');
        metrics.ingestDuplicates.inc(result.duplicateUplinks);
        metrics.ingestReadings.inc(result.readings);
        // Counted per source once per batch: prom-client hashes the labels on every call.
        const perSource = new Map<string, number>();
        for (const u of batch.uplinks) if (result.inserted.has(u.id)) perSource.set(u.source, (perSource.get(u.source) ?? 0) + 1);
        for (const [source, n] of perSource) metrics.ingestUplinks.inc({ source }, n);
        for (const d of batch.deadLetters) metrics.ingestDropped.inc({ reason: d.reason });
        for (const d of result.readingConflicts ?? []) metrics.ingestDropped.inc({ reason: d.reason });
        countUnmerged(result.receptions);
        let messages = 0;
        for (const item of items) for (const message of item.messages) { message.ack(); messages++; }
        this.frames?.settled(items);
        this.options.history?.record({
          at: Date.now(), messages, uplinks: batch.uplinks.filter((u) => result.inserted.has(u.id)), readings: result.readings,
          deadLetters: batch.deadLetters.length, writeSeconds: Number(done - built) / 1e9,
        });
        if (result.downlinks && result.downlinks.length > 0) this.options.downlinks?.publishRecorded(result.downlinks);
        for (const r of batch.downlinkRoutes ?? []) this.options.devices.invalidate(r.devEui);
        if (result.joins) downlinkMetrics.joinsAccepted.inc(result.joins.size);
        this.options.onCommitted?.(batch, result);
        return;
      } catch (error) {
        metrics.storageBatchFailures.inc();
        if (refusedByDatabase(error)) {
          refusals++;
          if (items.length > 1) {
            this.options.log.warn({ err: error, messages: items.length }, 'database refused the batch; writing it in halves');
            const half = Math.ceil(items.length / 2);
            await this.commit(items.slice(0, half));
            return this.commit(items.slice(half));
          }
          // Alone and refused again after backoff: not a passing fluke.
          const item = items[0]!;
          if (refusals >= REFUSALS_BEFORE_DEAD_LETTER && !isRefusalDeadLetter(item)) {
            if (this.mayDeadLetterRefused()) {
              this.options.log.warn({ err: error, topic: item.messages[0]?.topic }, 'database refused a message; dead-lettered');
              await this.commit([refusalDeadLetter(item, error)]);
              this.frames?.settled([item]);
              return;
            }
            this.options.log.error({ err: error, topic: item.messages[0]?.topic }, `database refused more than ${REFUSED_DEAD_LETTERS_PER_MINUTE} messages in a minute; holding them unacknowledged and retrying`);
          }
        }
        const backoffMs = Math.min(MAX_BACKOFF_MS, 100 * 2 ** Math.min(attempt, 6));
        this.options.log.warn({ err: error, messages: items.length, attempt, backoffMs }, 'batch not committed; retrying, nothing acknowledged');
        await new Promise((resolve) => setTimeout(resolve, backoffMs));
      }
    }
  }

  /** Whether the refusal budget (REFUSED_DEAD_LETTERS_PER_MINUTE) has room; takes one if so. */
  private mayDeadLetterRefused(): boolean {
    const now = Date.now();
    while (this.refusedAt.length > 0 && this.refusedAt[0]! <= now - 60_000) this.refusedAt.shift();
    if (this.refusedAt.length >= REFUSED_DEAD_LETTERS_PER_MINUTE) return false;
    this.refusedAt.push(now);
    return true;
  }

  private async buildBatch(items: Item[]): Promise<WriteBatch> {
    const batch: WriteBatch = {
      uplinks: [], readings: [], healthReadings: [], deadLetters: [], frameIds: [], uplinkClaims: [], counters: [], receptionMerges: [], concentratorStats: [],
      txAcks: [], networkServerReports: [], downlinkRoutes: [], downlinkMaxAttempts: this.options.downlinkMaxAttempts ?? 3,
    };
    const frameItems = items.filter((i): i is Item & { result: RawFrameItem } => i.result.kind === 'frame_group' || i.result.kind === 'late_reception');
    const frames = frameItems.length > 0 && this.options.rawFrames ? await this.options.rawFrames.resolver.resolve(frameItems.map((i) => i.result)) : null;
    const frameUplinks = new Map<RawFrameItem, Uplink>();
    if (frames) {
      batch.frameIds = frames.frameIds;
      batch.counters = frames.counters;
      batch.receptionMerges = frames.merges;
      batch.joins = frames.joins;
      batch.promotions = frames.promotions;
      batch.deviceAcks = frames.deviceAcks;
      // Without a publisher nothing would send them: then they are not recorded either.
      batch.downlinks = this.options.downlinks ? frames.downlinks : [];
      downlinkMetrics.joinCopies.inc(frames.duplicates.size);
      let u = 0;
      for (const item of frameItems) {
        const r = item.result;
        // Joins become no uplink: only accepted data frames are in frames.uplinks, in order.
        if (r.kind === 'frame_group' && !frames.rejections.has(r) && !frames.duplicates.has(r) && !isJoinItem(r)) frameUplinks.set(r, frames.uplinks[u++]!);
      }
    }
    const devEuis: string[] = [];
    for (const item of items) {
      if (item.result.kind === 'uplink') devEuis.push(item.result.uplink.devEui);
      else if (item.result.kind === 'health') devEuis.push(item.result.health.devEui);
    }
    for (const uplink of frameUplinks.values()) devEuis.push(uplink.devEui);
    for (const h of frames?.health ?? []) devEuis.push(h.devEui);
    const devices = await this.options.devices.resolve(devEuis);
    for (const health of frames?.health ?? []) {
      const device = devices.get(health.devEui);
      if (device) batch.healthReadings.push(...healthReadings(health, device));
    }
    // Decoding starts for every uplink at once: vendor codecs run in a worker, batched.
    const jobs: { uplink: Uplink; device: DeviceContext; item: Item }[] = [];
    const ids = new Set<string>();
    for (const item of items) {
      const r = item.result;
      switch (r.kind) {
        case 'frame':
          break; // never batched: frames go through the dedup window
        case 'tx_ack': {
          const outcome = txAckOutcome(r.ack);
          downlinkMetrics.downlinkTxAcks.inc({ status: outcome.status });
          batch.txAcks!.push({ gatewayId: r.ack.gatewayId, downlinkId: r.ack.downlinkId, status: outcome.status, window: outcome.window });
          break;
        }
        case 'downlink_report':
          batch.networkServerReports!.push(r.report);
          break;
        case 'concentrator_stats':
          batch.concentratorStats!.push({
            gatewayId: r.stats.gatewayId,
            band: r.band,
            seenAt: r.stats.time ?? item.receivedAt,
            stats: { ...r.stats },
            latitude: r.stats.location?.latitude ?? null,
            longitude: r.stats.location?.longitude ?? null,
            rxReceived: r.stats.rxPacketsReceived,
            rxForwarded: r.stats.rxPacketsReceivedOk,
          });
          break;
        case 'late_reception':
        case 'frame_group': {
          const rejection = frames?.rejections.get(r);
          // A late copy of a join-request: the join was answered (or refused) from its group.
          if (r.kind === 'late_reception' && frames?.duplicates.has(r)) metrics.ingestDropped.inc({ reason: 'late_copy_join' });
          if (frames?.duplicates.has(r) || (r.kind === 'frame_group' && isJoinItem(r) && !rejection)) break;
          if (rejection) {
            if (r.kind === 'late_reception') metrics.ingestDropped.inc({ reason: rejection.reason });
            else addDeadLetter(batch, item, rejection.reason, rejection.detail, rejection.devEui);
            break;
          }
          const uplink = r.kind === 'frame_group' ? frameUplinks.get(r) : undefined;
          if (!uplink) break;
          const device = devices.get(uplink.devEui);
          if (!device || device.decommissioned) {
            addDeadLetter(batch, item, DeadLetterReason.unknownDevice, `device ${uplink.devEui} is not registered or decommissioned`, uplink.devEui);
            break;
          }
          learnRoute(batch, device, { devEui: uplink.devEui, route: 'concentrator', topic: null });
          jobs.push({ uplink, device, item });
          break;
        }
        case 'error':
        case 'dead_letter':
          addDeadLetter(batch, item, r.reason, r.detail, r.devEui);
          break;
        case 'ignored':
          break;
        case 'health': {
          const device = devices.get(r.health.devEui);
          if (!device) addDeadLetter(batch, item, DeadLetterReason.unknownDevice, `device ${r.health.devEui} is not registered`, r.health.devEui);
          else batch.healthReadings.push(...healthReadings(r.health, device));
          break;
        }
        case 'uplink': {
          const device = devices.get(r.uplink.devEui);
          if (ids.has(r.uplink.id)) {
            // The same uplink twice in one batch (a redelivery): one row, one set of readings.
            metrics.ingestDuplicates.inc();
          } else if (!device) {
            addDeadLetter(batch, item, DeadLetterReason.unknownDevice, `device ${r.uplink.devEui} is not registered`, r.uplink.devEui);
          } else if (device.decommissioned) {
            addDeadLetter(batch, item, DeadLetterReason.decommissionedDevice, `device ${r.uplink.devEui} is decommissioned`, r.uplink.devEui);
          } else {
            if (r.route) learnRoute(batch, device, r.route);
            ids.add(r.uplink.id);
            jobs.push({ uplink: r.uplink, device, item });
          }
          break;
        }
      }
    }
    const decoded = await Promise.all(jobs.map((job) => this.decodeUplink(job.uplink, job.device)));
    decoded.forEach((d, n) => {
      const { uplink, item } = jobs[n]!;
      // The message itself, not a copy: this runs for every uplink.
      d.row.origin = item.messages[0];
      if (uplink.localTime) batch.uplinkClaims!.push({ id: uplink.id, devEui: uplink.devEui, receivedAt: uplink.receivedAt });
      batch.uplinks.push(d.row);
      batch.readings.push(...d.readings);
      if (d.error) addDeadLetter(batch, jobs[n]!.item, DeadLetterReason.decodeFailed, d.error, d.row.devEui);
    });
    return batch;
  }

  /** Decodes one uplink; the decoder's error, if any, comes back with the rows (the raw uplink is kept). */
  private async decodeUplink(uplink: Uplink, device: DeviceContext): Promise<{ row: UplinkRow; readings: ReadingRow[]; error: string | null }> {
    let decoded: Record<string, unknown> | null = null;
    let decodeError: string | null = null;
    let readings: Reading[] = [];
    // FPort 0 carries MAC commands (the frame layer read them) and a frame without a port
    // carries nothing: neither is the application's, so no decoder sees them.
    if (uplink.fPort !== 0 && uplink.fPort !== null) {
      try {
        const result = await this.options.decoder.decode(modelOf(device), { bytes: uplink.payload, fPort: uplink.fPort, recvTime: uplink.receivedAt });
        decoded = result.decoded;
        readings = result.readings;
        if (result.errors.length > 0) decodeError = result.errors.join('; ');
      } catch (error) {
        decodeError = (error as Error).message ?? String(error);
      }
    }
    // Built field by field, not by spreads: this runs for every uplink and its garbage counts.
    const row: UplinkRow = {
      id: uplink.id, receivedAt: uplink.receivedAt, devEui: uplink.devEui, fCnt: uplink.fCnt, fPort: uplink.fPort,
      payload: uplink.payload, decoded, decodeError, source: uplink.source, radio: uplink.radio,
    };
    const rows: ReadingRow[] = [];
    for (const r of readings) rows.push(readingRow(r.time, r.metric, r.channel, r.value, r.quality, uplink, device));
    // Signal of the best reception as device-health readings (not part of open data).
    const best = uplink.radio.receptions.find((r) => r.best);
    if (best?.rssiDbm != null) rows.push(readingRow(uplink.receivedAt, 'rssi', '', best.rssiDbm, 'ok', uplink, device));
    if (best?.snrDb != null) rows.push(readingRow(uplink.receivedAt, 'snr', '', best.snrDb, 'ok', uplink, device));
    return { row, readings: rows, error: decodeError };
  }
}

/** Receptions not merged into their uplink, by reason (each stands for a concentrator's copy acknowledged without effect). */
function countUnmerged(receptions: WriteResult['receptions']): void {
  if (!receptions) return;
  if (receptions.gatewayPresent > 0) metrics.ingestDropped.inc({ reason: 'reception_gateway_present' }, receptions.gatewayPresent);
  if (receptions.uplinkMissing > 0) metrics.ingestDropped.inc({ reason: 'reception_uplink_missing' }, receptions.uplinkMissing);
}

/**
 * Join-requests and data uplinks (MType 000, 010, 100): the device listens for an answer,
 * and whether there is one (an ACK, a MAC command, a queued downlink) is only known once
 * the frame is resolved against the database, so an unconfirmed uplink is as urgent as a
 * confirmed one: the downlink goes out for RX1, not RX2 or the next uplink.
 */
function isUrgent(item: Item): boolean {
  if (item.result.kind !== 'frame_group') return false;
  const mType = (item.result.group.phyPayload[0] ?? 0) >> 5;
  return mType === 0 || mType === 2 || mType === 4;
}

/** A join-request group: answered by a join-accept, stored as no uplink. */
function isJoinItem(item: Extract<RawFrameItem, { kind: 'frame_group' }>): boolean {
  return item.join ?? (item.group.phyPayload.length > 0 && item.group.phyPayload[0]! >> 5 === 0);
}

/**
 * Records how the device is reached when it changed from what its cached context says
 * (after commit the context is dropped from the cache, so the change is written once).
 */
function learnRoute(batch: WriteBatch, device: DeviceContext, route: { devEui: string; route: 'concentrator' | 'chirpstack' | 'tts'; topic: string | null }): void {
  if (device.downlinkRoute === route.route && device.downlinkTopic === route.topic) return;
  batch.downlinkRoutes!.push(route);
}

/** The dead letter of an item: its first message, with the reason (and, when only its start is kept, the whole payload's length and hash). */
function addDeadLetter(batch: WriteBatch, item: Item, reason: string, detail: string, devEui: string | null): void {
  const first = item.messages[0];
  if (!first) return;
  batch.deadLetters.push({
    receivedAt: item.receivedAt, topic: first.topic, payload: first.payload, reason, detail, devEui,
    ...(first.oversize ? { payloadLength: first.oversize.length, payloadSha256: first.oversize.sha256 } : {}),
  });
}

/** A device's model as the decoders take it, made once per cached device context. */
const models = new WeakMap<DeviceContext, DeviceModel>();

function modelOf(device: DeviceContext): DeviceModel {
  let model = models.get(device);
  if (!model) {
    model = {
      id: device.modelId,
      decoder:
        device.decoderKind === 'builtin'
          ? { kind: 'builtin', name: device.builtinName ?? '' }
          : { kind: 'codec', script: device.codecScript ?? '' },
      mapping: Array.isArray(device.mapping) ? (device.mapping as FieldMapping[]) : [],
      category: (device.category as ModelCategory | null) ?? null,
    };
    models.set(device, model);
  }
  return model;
}

function readingRow(time: Date, metric: string, channel: string, value: number, quality: string, uplink: Uplink, device: DeviceContext): ReadingRow {
  return { time, devEui: uplink.devEui, metric, channel, value, quality, assetId: device.assetId, uplinkId: uplink.id };
}

function healthReadings(health: DeviceHealth, device: DeviceContext): ReadingRow[] {
  const base = { time: health.time, devEui: health.devEui, channel: '', quality: 'ok', assetId: device.assetId, uplinkId: null };
  const rows: ReadingRow[] = [];
  if (health.batteryLevelPercent !== null) rows.push({ ...base, metric: 'battery_level', value: health.batteryLevelPercent });
  if (health.marginDb !== null) rows.push({ ...base, metric: 'link_margin', value: health.marginDb });
  return rows;
}

/** The dead letter standing for a message the database refuses, with the database's reason. */
function refusalDeadLetter(item: Item, error: unknown): Item {
  const code = (error as { code?: unknown }).code;
  const reason = (error as Error).message ?? String(error);
  const devEui = item.result.kind === 'uplink' ? item.result.uplink.devEui : null;
  return {
    messages: item.messages,
    receivedAt: item.receivedAt,
    result: { kind: 'error', reason: DeadLetterReason.storageRefused, detail: `the database refused it${typeof code === 'string' ? ` (SQLSTATE ${code})` : ''}: ${reason}`, devEui },
  };
}

function isRefusalDeadLetter(item: Item): boolean {
  return item.result.kind === 'error' && item.result.reason === DeadLetterReason.storageRefused;
}
