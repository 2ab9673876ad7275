/**
 * stadtfunk reference format: air quality sensor on a street lamp (FPort 10).
 * Big-endian; an all-ones field (0xFF / 0xFFFF / 0x8000 signed) means "no value".
 *
 * | byte | type | field             | unit, scale     |
 * |------|------|-------------------|-----------------|
 * | 0    | u8   | version = 1       |                 |
 * | 1    | u16  | pm1               | 0.1 µg/m³       |
 * | 3    | u16  | pm2_5             | 0.1 µg/m³       |
 * | 5    | u16  | pm10              | 0.1 µg/m³       |
 * | 7    | u16  | no2               | 0.1 µg/m³       |
 * | 9    | u16  | co2               | 1 ppm           |
 * | 11   | i16  | temperature       | 0.01 °C         |
 * | 13   | u8   | relative_humidity | 0.5 %           |
 * | 14   | u16  | pressure          | 0.1 hPa         |
 * | 16   | u8   | noise             | 0.5 dB(A)       |
 * | 17   | u16  | battery_voltage   | 1 mV            |
 * 19 bytes.
 */
import { FieldReader, FieldWriter } from './byte-fields.js';
import { readingsFrom } from './reference-readings.js';
import type { DecodeResult } from './types.js';

export interface AirValues {
  pm1: number | null;
  pm2_5: number | null;
  pm10: number | null;
  no2: number | null;
  co2: number | null;
  temperature: number | null;
  relative_humidity: number | null;
  pressure: number | null;
  noise: number | null;
  /** Volts. */
  battery_voltage: number | null;
}

export const AIR_VERSION = 1;

export function encodeAir(v: AirValues): Buffer {
  return new FieldWriter(19)
    .u8(AIR_VERSION)
    .scaledU16(v.pm1, 0.1)
    .scaledU16(v.pm2_5, 0.1)
    .scaledU16(v.pm10, 0.1)
    .scaledU16(v.no2, 0.1)
    .scaledU16(v.co2, 1)
    .scaledI16(v.temperature, 0.01)
    .scaledU8(v.relative_humidity, 0.5)
    .scaledU16(v.pressure, 0.1)
    .scaledU8(v.noise, 0.5)
    .scaledU16(v.battery_voltage === null ? null : v.battery_voltage * 1000, 1)
    .done();
}

export function decodeAirValues(bytes: Uint8Array): AirValues {
  const r = new FieldReader(bytes, 'stadtfunk-air');
  const version = r.u8();
  if (version !== AIR_VERSION) throw new RangeError(`stadtfunk-air: unknown version ${version}`);
  const values: AirValues = {
    pm1: r.scaledU16(0.1),
    pm2_5: r.scaledU16(0.1),
    pm10: r.scaledU16(0.1),
    no2: r.scaledU16(0.1),
    co2: r.scaledU16(1),
    temperature: r.scaledI16(0.01),
    relative_humidity: r.scaledU8(0.5),
    pressure: r.scaledU16(0.1),
    noise: r.scaledU8(0.5),
    battery_voltage: null,
  };
  const mv = r.scaledU16(1);
  values.battery_voltage = mv === null ? null : mv / 1000;
  return values;
}

export function decodeAir(bytes: Uint8Array, recvTime: Date): DecodeResult {
  return readingsFrom(() => ({ ...decodeAirValues(bytes) }), recvTime);
}
