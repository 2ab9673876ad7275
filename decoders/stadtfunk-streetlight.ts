/**
 * stadtfunk reference format: streetlight controller (FPort 12), 11 bytes.
 *
 * | byte | type | field       | unit, scale |
 * |------|------|-------------|-------------|
 * | 0    | u8   | version = 1 |             |
 * | 1    | u8   | flags: bit 0 lamp on |    |
 * | 2    | u8   | dim_level   | 1 %         |
 * | 3    | u16  | power       | 0.1 W       |
 * | 5    | u32  | energy      | 1 Wh (meter reading) |
 * | 9    | u16  | voltage     | 0.1 V       |
 */
import { FieldReader, FieldWriter } from './byte-fields.js';
import { readingsFrom } from './reference-readings.js';
import type { DecodeResult } from './types.js';

export interface StreetlightValues {
  lamp_on: boolean;
  dim_level: number;
  power: number | null;
  energy: number;
  voltage: number | null;
}

export function encodeStreetlight(v: StreetlightValues): Buffer {
  return new FieldWriter(11)
    .u8(1)
    .u8(v.lamp_on ? 1 : 0)
    .scaledU8(v.dim_level, 1)
    .scaledU16(v.power, 0.1)
    .u32(Math.round(v.energy))
    .scaledU16(v.voltage, 0.1)
    .done();
}

export function decodeStreetlightValues(bytes: Uint8Array): StreetlightValues {
  const r = new FieldReader(bytes, 'stadtfunk-streetlight');
  const version = r.u8();
  if (version !== 1) throw new RangeError(`stadtfunk-streetlight: unknown version ${version}`);
  const flags = r.u8();
  return { lamp_on: (flags & 1) === 1, dim_level: r.scaledU8(1) ?? 0, power: r.scaledU16(0.1), energy: r.u32(), voltage: r.scaledU16(0.1) };
}

export function decodeStreetlight(bytes: Uint8Array, recvTime: Date): DecodeResult {
  return readingsFrom(() => {
    const v = decodeStreetlightValues(bytes);
    return { lamp_on: v.lamp_on ? 1 : 0, dim_level: v.dim_level, power: v.power, energy: v.energy, voltage: v.voltage };
  }, recvTime);
}
