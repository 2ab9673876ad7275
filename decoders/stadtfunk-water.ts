/**
 * stadtfunk reference format: water gauge (FPort 13), 5 bytes.
 *
 * | byte | type | field           | unit, scale              |
 * |------|------|-----------------|--------------------------|
 * | 0    | u8   | version = 1     |                          |
 * | 1    | i16  | water_level     | 1 cm above gauge zero    |
 * | 3    | u16  | battery_voltage | 1 mV                     |
 */
import { FieldReader, FieldWriter } from './byte-fields.js';
import { readingsFrom } from './reference-readings.js';
import type { DecodeResult } from './types.js';

export interface WaterValues {
  water_level: number | null;
  battery_voltage: number | null;
}

export function encodeWater(v: WaterValues): Buffer {
  return new FieldWriter(5)
    .u8(1)
    .scaledI16(v.water_level, 1)
    .scaledU16(v.battery_voltage === null ? null : v.battery_voltage * 1000, 1)
    .done();
}

export function decodeWaterValues(bytes: Uint8Array): WaterValues {
  const r = new FieldReader(bytes, 'stadtfunk-water');
  const version = r.u8();
  if (version !== 1) throw new RangeError(`stadtfunk-water: unknown version ${version}`);
  const level = r.scaledI16(1);
  const mv = r.scaledU16(1);
  return { water_level: level, battery_voltage: mv === null ? null : mv / 1000 };
}

export function decodeWater(bytes: Uint8Array, recvTime: Date): DecodeResult {
  return readingsFrom(() => ({ ...decodeWaterValues(bytes) }), recvTime);
}
