/** Row shapes the writer stores: what ingest hands to storage. */
import type { RadioMeta, UplinkSource } from '../ingest/types.js';
import type { ConcentratorStatsRow, CounterRow, FrameIdRow, ReceptionMergeRow } from './sql/frames.js';

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
  payload: Buffer;
  reason: string;
  detail: string | null;
  devEui: string | null;
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
  /** Raw frames: last accepted counter per device, stored with the uplinks. */
  counters?: CounterRow[];
  /** Late copies of frames already stored. */
  receptionMerges?: ReceptionMergeRow[];
  concentratorStats?: ConcentratorStatsRow[];
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
}
