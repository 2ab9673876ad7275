/** Row shapes the writer stores: what ingest hands to storage. */
import type { RadioMeta, UplinkSource } from '../ingest/types.js';
import type { ConcentratorStatsRow, CounterRow, FrameIdRow, MergeOutcome, ReceptionMergeRow } from './sql/frames.js';
import type { DeviceAckRow, DownlinkCounterRow, DownlinkRecordRow, TxAckRow } from './sql/downlinks.js';
import type { DownlinkRouteRow, NetworkServerReport } from './sql/downlink-queue.js';
import type { JoinRow, SessionPromotionRow } from './sql/joins.js';

/**
 * A downlink decided while building the batch, written (and afterwards published) only
 * if what it answers was stored by this same transaction: the join it accepts, or the
 * uplink it follows; a data downlink also only if its FCntDown could be claimed.
 */
export interface PlannedDownlink {
  record: Omit<DownlinkRecordRow, 'id'>;
  after: { joinKey: string } | { uplinkId: string };
  counter: DownlinkCounterRow | null;
  /** It carries a DevStatusReq: the device's request time moves. */
  devStatusReq: boolean;
}

export interface UplinkRow {
  id: string;
  receivedAt: Date;
  devEui: string;
  fCnt: number | null;
  fPort: number | null;
  payload: Buffer;
  decoded: Record<string, unknown> | null;
  decodeError: string | null;
  source: UplinkSource;
  radio: RadioMeta;
  /** The message the uplink came in (the first, for raw frames): what a dead letter about it stores. */
  origin?: { readonly topic: string; readonly payload: Buffer } | undefined;
}

export interface ReadingRow {
  time: Date;
  devEui: string;
  metric: string;
  channel: string;
  value: number;
  quality: string;
  assetId: string | null;
  /** The uplink the reading came from; null for status events. */
  uplinkId: string | null;
}

export interface DeadLetterRow {
  receivedAt: Date;
  topic: string;
  /** The message's payload, or only its first bytes when `payloadLength` is set. */
  payload: Buffer;
  reason: string;
  detail: string | null;
  devEui: string | null;
  /** Bytes of the whole payload, when `payload` holds only its start (oversize messages). */
  payloadLength?: number;
  /** SHA-256 of the whole payload, with `payloadLength`. */
  payloadSha256?: Buffer;
}

/** Everything one ingest batch commits together. */
export interface WriteBatch {
  uplinks: UplinkRow[];
  /** Readings of the batch's uplinks; only those of uplinks that were new are stored. */
  readings: ReadingRow[];
  /** Readings that belong to no uplink (network-server status events); idempotent by their key. */
  healthReadings: ReadingRow[];
  deadLetters: DeadLetterRow[];
  /** Raw frames: identities to claim; an uplink whose identity another worker claimed becomes a reception merge. */
  frameIds?: FrameIdRow[];
  /**
   * Identities of uplinks without a source time (their receivedAt is this service's clock),
   * claimed like frame identities: only the first claim stores the uplink, so a redelivery
   * with another clock time is not a second row.
   */
  uplinkClaims?: FrameIdRow[];
  /** Raw frames: last accepted counter per device, stored with the uplinks. */
  counters?: CounterRow[];
  /** Late copies of frames already stored. */
  receptionMerges?: ReceptionMergeRow[];
  concentratorStats?: ConcentratorStatsRow[];
  /** OTAA: accepted joins (recorded once across workers) and their pending sessions. */
  joins?: JoinRow[];
  /** OTAA: uplinks that verified with a pending session, which then becomes the current one. */
  promotions?: (SessionPromotionRow & { uplinkId: string })[];
  /** Join-accepts and data downlinks to record, then publish after commit. */
  downlinks?: PlannedDownlink[];
  /** Gateway bridges' answers to published downlinks (event/ack). */
  txAcks?: TxAckRow[];
  /** Uplinks of devices with a confirmed downlink out: the ACK bit settles it. */
  deviceAcks?: (DeviceAckRow & { uplinkId: string })[];
  /** ChirpStack / The Things Stack reports about downlinks handed to them. */
  networkServerReports?: NetworkServerReport[];
  /** Devices whose downlink route (concentrator, ChirpStack, The Things Stack) changed. */
  downlinkRoutes?: DownlinkRouteRow[];
  /** Application downlinks give up after this many transmissions. Default 3. */
  downlinkMaxAttempts?: number;
}

export interface WriteResult {
  /** Identities of the uplinks this batch stored for the first time. */
  inserted: Set<string>;
  newUplinks: number;
  duplicateUplinks: number;
  readings: number;
  /**
   * The newest reading per device, metric and channel among the readings of uplinks this
   * batch stored and its health readings: what moved the latest state, for the live bus.
   */
  latest: ReadingRow[];
  /** Downlinks recorded by this batch, with their gw DownlinkFrame.downlink_id: publish these. */
  downlinks?: { planned: PlannedDownlink; id: number }[];
  /** Joins this batch recorded first (`joinKey`). */
  joins?: Set<string>;
  /** Dead letters (reason reading_conflict) for readings of new uplinks whose key another reading holds; written with the batch. */
  readingConflicts?: DeadLetterRow[];
  /** What became of the reception merges (late copies, frames another worker stored). */
  receptions?: MergeOutcome;
}
