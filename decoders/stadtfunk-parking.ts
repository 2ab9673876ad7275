/**
 * stadtfunk reference format: parking (FPort 11). Two kinds share it:
 *
 * Bay sensor (kind 1), 5 bytes:
 * | byte | type | field                                   |
 * |------|------|-----------------------------------------|
 * | 0    | u8   | version = 1                             |
 * | 1    | u8   | kind = 1 (bay)                          |
 * | 2    | u8   | flags: bit 0 occupied, bit 1 sensor fault |
 * | 3    | u16  | battery_voltage, 1 mV (0xFFFF none)     |
 *
 * Garage / zone counter (kind 2), 6 bytes:
 * | 0 | u8  | version = 1 |
 * | 1 | u8  | kind = 2 (counter) |
 * | 2 | u16 | free_spaces |
 * | 4 | u16 | total_spaces |
 *
 * A bay with the fault flag set gives no `occupied` reading: unknown is not free.
 */
import { FieldReader, FieldWriter } from './byte-fields.js';
import { readingsFrom } from './reference-readings.js';
import type { DecodeResult } from './types.js';

export type ParkingValues =
  | { kind: 'bay'; occupied: boolean; fault: boolean; battery_voltage: number | null }
  | { kind: 'counter'; free_spaces: number; total_spaces: number };

export function encodeParking(v: ParkingValues): Buffer {
  if (v.kind === 'bay') {
    return new FieldWriter(5)
      .u8(1)
      .u8(1)
      .u8((v.occupied ? 1 : 0) | (v.fault ? 2 : 0))
      .scaledU16(v.battery_voltage === null ? null : v.battery_voltage * 1000, 1)
      .done();
  }
  return new FieldWriter(6).u8(1).u8(2).u16(v.free_spaces).u16(v.total_spaces).done();
}

export function decodeParkingValues(bytes: Uint8Array): ParkingValues {
  const r = new FieldReader(bytes, 'stadtfunk-parking');
  const version = r.u8();
  if (version !== 1) throw new RangeError(`stadtfunk-parking: unknown version ${version}`);
  const kind = r.u8();
  if (kind === 1) {
    const flags = r.u8();
    const mv = r.scaledU16(1);
    return { kind: 'bay', occupied: (flags & 1) === 1, fault: (flags & 2) === 2, battery_voltage: mv === null ? null : mv / 1000 };
  }
  if (kind === 2) return { kind: 'counter', free_spaces: r.u16(), total_spaces: r.u16() };
  throw new RangeError(`stadtfunk-parking: unknown kind ${kind}`);
}

export function decodeParking(bytes: Uint8Array, recvTime: Date): DecodeResult {
  return readingsFrom((): Record<string, number | null> => {
    const v = decodeParkingValues(bytes);
    if (v.kind === 'counter') return { free_spaces: v.free_spaces, total_spaces: v.total_spaces };
    return { occupied: v.fault ? null : v.occupied ? 1 : 0, battery_voltage: v.battery_voltage };
  }, recvTime);
}
