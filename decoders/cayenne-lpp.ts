/**
 * Cayenne Low Power Payload (myDevices). A payload is a sequence of
 *
 *   channel (1 byte) | type (1 byte) | value (size by type, big-endian)
 *
 * | type | id (hex) | size | resolution, sign           | → metric            |
 * |------|----------|------|----------------------------|---------------------|
 * | digital input   | 0x00 | 1 | 1                    | decoded only        |
 * | digital output  | 0x01 | 1 | 1                    | decoded only        |
 * | analog input    | 0x02 | 2 | 0.01 signed          | decoded only        |
 * | analog output   | 0x03 | 2 | 0.01 signed          | decoded only        |
 * | illuminance     | 0x65 | 2 | 1 lux unsigned       | decoded only        |
 * | presence        | 0x66 | 1 | 1                    | decoded only        |
 * | temperature     | 0x67 | 2 | 0.1 °C signed        | temperature         |
 * | humidity        | 0x68 | 1 | 0.5 % unsigned       | relative_humidity   |
 * | accelerometer   | 0x71 | 6 | 0.001 G signed x,y,z | decoded only        |
 * | barometer       | 0x73 | 2 | 0.1 hPa unsigned     | pressure            |
 * | gyrometer       | 0x86 | 6 | 0.01 °/s signed xyz  | decoded only        |
 * | GPS location    | 0x88 | 9 | lat, lon 0.0001° signed 3 bytes each; alt 0.01 m signed 3 bytes | decoded only |
 *
 * Readings carry the LPP channel as `lpp=<n>`; everything, mapped or not, is in `decoded`
 * under the names ChirpStack's built-in LPP codec uses (temperatureSensor, …).
 */
import { makeReading } from './catalog.js';
import type { DecodeResult, Reading } from './types.js';

interface LppType {
  name: string;
  size: number;
  read(b: Uint8Array, at: number): number | Record<string, number>;
  metric?: string;
}

const int = (b: Uint8Array, at: number, size: number, signed: boolean): number => {
  let v = 0;
  for (let i = 0; i < size; i++) v = v * 256 + b[at + i]!;
  const limit = 2 ** (8 * size);
  return signed && v >= limit / 2 ? v - limit : v;
};
const round = (v: number, digits: number): number => Number(v.toFixed(digits));

const TYPES: Record<number, LppType> = {
  0x00: { name: 'digitalInput', size: 1, read: (b, at) => b[at]! },
  0x01: { name: 'digitalOutput', size: 1, read: (b, at) => b[at]! },
  0x02: { name: 'analogInput', size: 2, read: (b, at) => round(int(b, at, 2, true) / 100, 2) },
  0x03: { name: 'analogOutput', size: 2, read: (b, at) => round(int(b, at, 2, true) / 100, 2) },
  0x65: { name: 'illuminanceSensor', size: 2, read: (b, at) => int(b, at, 2, false) },
  0x66: { name: 'presenceSensor', size: 1, read: (b, at) => b[at]! },
  0x67: { name: 'temperatureSensor', size: 2, read: (b, at) => round(int(b, at, 2, true) / 10, 1), metric: 'temperature' },
  0x68: { name: 'humiditySensor', size: 1, read: (b, at) => b[at]! / 2, metric: 'relative_humidity' },
  0x71: {
    name: 'accelerometer', size: 6,
    read: (b, at) => ({ x: round(int(b, at, 2, true) / 1000, 3), y: round(int(b, at + 2, 2, true) / 1000, 3), z: round(int(b, at + 4, 2, true) / 1000, 3) }),
  },
  0x73: { name: 'barometer', size: 2, read: (b, at) => round(int(b, at, 2, false) / 10, 1), metric: 'pressure' },
  0x86: {
    name: 'gyrometer', size: 6,
    read: (b, at) => ({ x: round(int(b, at, 2, true) / 100, 2), y: round(int(b, at + 2, 2, true) / 100, 2), z: round(int(b, at + 4, 2, true) / 100, 2) }),
  },
  0x88: {
    name: 'gpsLocation', size: 9,
    read: (b, at) => ({
      latitude: round(int(b, at, 3, true) / 10000, 4),
      longitude: round(int(b, at + 3, 3, true) / 10000, 4),
      altitude: round(int(b, at + 6, 3, true) / 100, 2),
    }),
  },
};

export function decodeCayenneLpp(bytes: Uint8Array, recvTime: Date): DecodeResult {
  const decoded: Record<string, Record<string, unknown>> = {};
  const readings: Reading[] = [];
  let at = 0;
  while (at < bytes.length) {
    if (at + 2 > bytes.length) return fail(`truncated LPP item at byte ${at}`, decoded);
    const channel = bytes[at]!;
    const typeId = bytes[at + 1]!;
    const type = TYPES[typeId];
    if (!type) return fail(`unknown LPP type 0x${typeId.toString(16).padStart(2, '0')} at byte ${at + 1}`, decoded);
    if (at + 2 + type.size > bytes.length) return fail(`truncated LPP ${type.name} on channel ${channel}`, decoded);
    const value = type.read(bytes, at + 2);
    (decoded[type.name] ??= {})[String(channel)] = value;
    if (type.metric && typeof value === 'number') {
      const reading = makeReading(type.metric, value, recvTime, `lpp=${channel}`);
      if (reading) readings.push(reading);
    }
    at += 2 + type.size;
  }
  return { readings, decoded, warnings: [], errors: [] };
}

function fail(message: string, decoded: Record<string, unknown>): DecodeResult {
  return { readings: [], decoded, warnings: [], errors: [message] };
}
