/**
 * LoRa Alliance TS013 `normalizeUplink` output, in The Things Network's normalized
 * payload schema (TheThingsNetwork/lorawan-devices lib/payload.json; The Things Stack
 * pkg/messageprocessors/normalizedpayload), → catalog readings. Its units are fixed by
 * the schema, so no mapping is needed: °C, %, hPa, ppm, lux, m/s, °, and V for the
 * battery. `data` is one measurement or a list of them; a measurement may carry its own
 * `time` (RFC 3339), and `air.location` (indoor/outdoor) becomes the channel, so that
 * the two air temperatures of one uplink stay two series.
 */
import { makeReading } from './catalog.js';
import type { Reading } from './types.js';

/** Schema path → catalog metric (the schema's unit is the catalog's, or converted below). */
const FIELDS: [string[], string][] = [
  [['air', 'temperature'], 'temperature'],
  [['air', 'relativeHumidity'], 'relative_humidity'],
  [['air', 'pressure'], 'pressure'],
  [['air', 'co2'], 'co2'],
  [['air', 'lightIntensity'], 'illuminance'],
  [['wind', 'speed'], 'wind_speed'],
  [['wind', 'direction'], 'wind_direction'],
  [['battery'], 'battery_voltage'],
];

function at(obj: unknown, path: string[]): unknown {
  let v = obj;
  for (const p of path) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<string, unknown>)[p];
  }
  return v;
}

export function normalizedReadings(normalized: unknown, recvTime: Date): { readings: Reading[]; warnings: string[] } {
  const readings: Reading[] = [];
  const warnings: string[] = [];
  if (!normalized || typeof normalized !== 'object') return { readings, warnings };
  const n = normalized as { data?: unknown; errors?: unknown; warnings?: unknown };
  if (Array.isArray(n.errors) && n.errors.length > 0) return { readings, warnings: n.errors.map((e) => `normalizeUplink: ${String(e)}`) };
  if (Array.isArray(n.warnings)) warnings.push(...n.warnings.map((w) => `normalizeUplink: ${String(w)}`));
  const measurements = Array.isArray(n.data) ? n.data : n.data && typeof n.data === 'object' ? [n.data] : [];
  for (const m of measurements.slice(0, 64)) {
    if (!m || typeof m !== 'object') continue;
    const t = (m as { time?: unknown }).time;
    const parsed = typeof t === 'string' ? new Date(t) : null;
    const time = parsed && !Number.isNaN(parsed.getTime()) ? parsed : recvTime;
    const location = at(m, ['air', 'location']);
    for (const [path, metric] of FIELDS) {
      const value = at(m, path);
      if (typeof value !== 'number') continue;
      const channel = path[0] === 'air' && (location === 'indoor' || location === 'outdoor') ? `location=${location}` : '';
      const reading = makeReading(metric, value, time, channel);
      if (reading) readings.push(reading);
    }
  }
  return { readings, warnings };
}
