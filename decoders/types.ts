/**
 * The Reading and Device-model contracts (shared/ARCHITECTURE.md).
 */

/** ok: plausible; out_of_range: outside the catalog's plausible range, kept but flagged. */
export type Quality = 'ok' | 'out_of_range';

/** One value of one canonical metric at one time for one device. */
export interface Reading {
  /** Metric id from decoders/catalog (e.g. `pm2_5`, `occupied`). */
  metric: string;
  /**
   * Qualifier for metrics that come in several series per device, e.g. `lane=1;direction=in;class=car`
   * for traffic counts. Empty string when the device has one series of this metric.
   */
  channel: string;
  /** Numeric value in the catalog unit. Booleans are 0/1. */
  value: number;
  /** UCUM code of the catalog unit, e.g. `ug/m3`, `Cel`, `[ppm]`. */
  unit: string;
  quality: Quality;
  /** Measurement time; the uplink's receive time unless the payload carries its own. */
  time: Date;
}

/** What a decoder is given: the TS013 `decodeUplink` input. */
export interface DecodeInput {
  bytes: Uint8Array;
  fPort: number;
  recvTime: Date;
  variables?: Record<string, string>;
}

/** Maps one path of a codec's output onto a catalog metric. */
export interface FieldMapping {
  /** Dotted path into the codec's `data`, e.g. `air.pm25` or `sensors.0.value`. */
  path: string;
  metric: string;
  channel?: string;
  /** Unit the codec reports in, converted to the catalog unit (e.g. `Pa` → `hPa`). Defaults to the catalog unit. */
  unit?: string;
  /** Applied after the unit conversion: value × scale + offset (e.g. water level = mount height − distance: scale −1, offset 420). */
  scale?: number;
  offset?: number;
  /** A threshold: the reading is 1 when the value is below it, else 0 (occupancy from a distance in cm). */
  below?: number;
  /** Strings (compared case-insensitively) to numbers, e.g. { "occupied": 1, "vacant": 0 }. */
  values?: Record<string, number>;
}

/** What a device model measures; decides which built-in mappings apply to fields whose meaning depends on it. */
export type ModelCategory = 'air' | 'parking' | 'people' | 'traffic' | 'streetlight' | 'water' | 'other';
export const MODEL_CATEGORIES: readonly ModelCategory[] = ['air', 'parking', 'people', 'traffic', 'streetlight', 'water', 'other'];

export type DecoderSpec =
  | { kind: 'builtin'; name: string }
  | { kind: 'codec'; script: string };

export interface DeviceModel {
  id: string;
  decoder: DecoderSpec;
  /**
   * For codecs: how output fields become metrics. Unmapped fields stay in `decoded`.
   * Empty or absent: the built-in mappings (builtin-mapping.ts) for the model's category.
   */
  mapping?: FieldMapping[];
  /** People counters count people, traffic counters vehicles; parking models read occupancy. */
  category?: ModelCategory | null;
}

export interface DecodeResult {
  readings: Reading[];
  /** The decoder's full output (codec `data`), stored beside the raw uplink. */
  decoded: Record<string, unknown>;
  warnings: string[];
  /** Non-empty when decoding failed; readings is then empty and the raw uplink is still kept. */
  errors: string[];
}
