/**
 * stadtfunk reference format: traffic counting site (FPort 14).
 *
 * | byte   | type | field                                          |
 * |--------|------|------------------------------------------------|
 * | 0      | u8   | version = 1                                    |
 * | 1      | u16  | count_interval, seconds                        |
 * | 3      | u8   | traffic_occupancy, 1 % (0xFF none)             |
 * | 4      | u8   | n = number of count entries (≤ 32)             |
 * | 5+6i   | u8   | lane (1…)                                      |
 * | 6+6i   | u8   | direction: 0 in, 1 out                         |
 * | 7+6i   | u8   | class: 0 car, 1 truck, 2 bus, 3 bicycle, 4 motorcycle, 5 other |
 * | 8+6i   | u16  | vehicle_count in the interval                  |
 * | 10+6i  | u8   | avg_speed, 1 km/h (0xFF none)                  |
 *
 * Each entry becomes readings on the channel `lane=<n>;direction=<in|out>;class=<name>`.
 */
import { FieldReader, FieldWriter } from './byte-fields.js';
import { makeReading } from './catalog.js';
import type { DecodeResult, Reading } from './types.js';

export const VEHICLE_CLASSES = ['car', 'truck', 'bus', 'bicycle', 'motorcycle', 'other'] as const;
export type VehicleClass = (typeof VEHICLE_CLASSES)[number];
const DIRECTIONS = ['in', 'out'] as const;

export interface TrafficCount {
  lane: number;
  direction: 'in' | 'out';
  vehicleClass: VehicleClass;
  count: number;
  avgSpeedKmh: number | null;
}

export interface TrafficValues {
  intervalS: number;
  occupancyPercent: number | null;
  counts: TrafficCount[];
}

export function encodeTraffic(v: TrafficValues): Buffer {
  if (v.counts.length > 32) throw new RangeError('stadtfunk-traffic: at most 32 count entries');
  const w = new FieldWriter(5 + 6 * v.counts.length).u8(1).u16(v.intervalS).scaledU8(v.occupancyPercent, 1).u8(v.counts.length);
  for (const c of v.counts) {
    w.u8(c.lane).u8(DIRECTIONS.indexOf(c.direction)).u8(VEHICLE_CLASSES.indexOf(c.vehicleClass)).u16(Math.min(c.count, 0xfffe)).scaledU8(c.avgSpeedKmh, 1);
  }
  return w.done();
}

export function decodeTrafficValues(bytes: Uint8Array): TrafficValues {
  const r = new FieldReader(bytes, 'stadtfunk-traffic');
  const version = r.u8();
  if (version !== 1) throw new RangeError(`stadtfunk-traffic: unknown version ${version}`);
  const intervalS = r.u16();
  const occupancyPercent = r.scaledU8(1);
  const n = r.u8();
  if (n > 32) throw new RangeError(`stadtfunk-traffic: ${n} entries, at most 32`);
  const counts: TrafficCount[] = [];
  for (let i = 0; i < n; i++) {
    const lane = r.u8();
    const direction = DIRECTIONS[r.u8()];
    const vehicleClass = VEHICLE_CLASSES[r.u8()];
    if (!direction || !vehicleClass) throw new RangeError(`stadtfunk-traffic: entry ${i} has an unknown direction or class`);
    counts.push({ lane, direction, vehicleClass, count: r.u16(), avgSpeedKmh: r.scaledU8(1) });
  }
  return { intervalS, occupancyPercent, counts };
}

export function decodeTraffic(bytes: Uint8Array, recvTime: Date): DecodeResult {
  let v: TrafficValues;
  try {
    v = decodeTrafficValues(bytes);
  } catch (error) {
    return { readings: [], decoded: {}, warnings: [], errors: [(error as Error).message] };
  }
  const readings: Reading[] = [];
  const push = (r: Reading | undefined): void => {
    if (r) readings.push(r);
  };
  push(makeReading('count_interval', v.intervalS, recvTime));
  if (v.occupancyPercent !== null) push(makeReading('traffic_occupancy', v.occupancyPercent, recvTime));
  for (const c of v.counts) {
    const channel = `lane=${c.lane};direction=${c.direction};class=${c.vehicleClass}`;
    push(makeReading('vehicle_count', c.count, recvTime, channel));
    if (c.avgSpeedKmh !== null) push(makeReading('avg_speed', c.avgSpeedKmh, recvTime, channel));
  }
  return { readings, decoded: { ...v }, warnings: [], errors: [] };
}
