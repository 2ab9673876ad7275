/**
 * Vendor output → catalog readings. A device model may map output paths to metrics
 * (with the vendor's unit, converted to the catalog unit); without a mapping, field
 * names are matched against the catalog through an alias table (`pm25`, `PM2_5`,
 * `pm2.5` → pm2_5 …). Values may be numbers, numeric strings, booleans, "on"/"off", or
 * `{ value, unit }` objects. Strings that are no value ("NoSensor", "n/a") give no
 * reading and no error. Nothing is dropped: the codec's whole output stays in `decoded`.
 */
import { getMetric, makeReading } from './catalog.js';
import type { FieldMapping, Reading } from './types.js';

const ALIASES: Record<string, string> = {
  pm1: 'pm1', pm1_0: 'pm1', pm10: 'pm10', pm10_0: 'pm10', pm25: 'pm2_5', pm2_5: 'pm2_5',
  no2: 'no2', o3: 'o3', so2: 'so2', co: 'co', co2: 'co2',
  temperature: 'temperature', temp: 'temperature', air_temperature: 'temperature',
  humidity: 'relative_humidity', relative_humidity: 'relative_humidity', rh: 'relative_humidity', hum: 'relative_humidity',
  pressure: 'pressure', air_pressure: 'pressure', barometric_pressure: 'pressure',
  noise: 'noise', sound_level: 'noise', laeq: 'noise',
  occupied: 'occupied', occupancy: 'occupied', car_present: 'occupied',
  free_spaces: 'free_spaces', total_spaces: 'total_spaces',
  vehicle_count: 'vehicle_count', avg_speed: 'avg_speed', speed: 'avg_speed',
  lamp_on: 'lamp_on', dim_level: 'dim_level', dimming: 'dim_level', power: 'power', energy: 'energy', voltage: 'voltage',
  water_level: 'water_level', level: 'water_level',
  battery_voltage: 'battery_voltage', battery_v: 'battery_voltage', bat_v: 'battery_voltage', battery_level: 'battery_level', battery_percent: 'battery_level',
};

/** factor/offset to the catalog unit, keyed by `fromUnit>catalogUnit` (units compared case-insensitively). */
const CONVERSIONS: Record<string, (v: number) => number> = {
  'pa>hpa': (v) => v / 100, 'kpa>hpa': (v) => v * 10, 'mbar>hpa': (v) => v, 'bar>hpa': (v) => v * 1000,
  'f>cel': (v) => ((v - 32) * 5) / 9, '°f>cel': (v) => ((v - 32) * 5) / 9, 'k>cel': (v) => v - 273.15, '°c>cel': (v) => v, 'c>cel': (v) => v,
  'mv>v': (v) => v / 1000, 'mm>cm': (v) => v / 10, 'm>cm': (v) => v * 100,
  'mg/m3>ug/m3': (v) => v * 1000, 'µg/m3>ug/m3': (v) => v, 'µg/m³>ug/m3': (v) => v, 'ppm>[ppm]': (v) => v,
  'kw>w': (v) => v * 1000, 'kwh>w.h': (v) => v * 1000, 'wh>w.h': (v) => v, 'm/s>km/h': (v) => v * 3.6, 'db>db': (v) => v, 'dba>db': (v) => v, 'db(a)>db': (v) => v,
};

export function normalizeKey(key: string): string {
  return key.toLowerCase().replace(/[.\-\s]/g, '_').replace(/[^a-z0-9_]/g, '');
}

function at(data: unknown, path: string): unknown {
  let value: unknown = data;
  for (const part of path.split('.')) {
    if (value === null || typeof value !== 'object') return undefined;
    value = (value as Record<string, unknown>)[part];
  }
  return value;
}

/** A number from a vendor value, or null for "no value". */
function numeric(value: unknown): { value: number; unit: string | null } | null {
  if (typeof value === 'number') return Number.isFinite(value) ? { value, unit: null } : null;
  if (typeof value === 'boolean') return { value: value ? 1 : 0, unit: null };
  if (typeof value === 'string') {
    const s = value.trim().toLowerCase();
    if (s === 'on' || s === 'true' || s === 'occupied') return { value: 1, unit: null };
    if (s === 'off' || s === 'false' || s === 'free') return { value: 0, unit: null };
    return /^-?\d+(\.\d+)?(e-?\d+)?$/.test(s) ? { value: Number(s), unit: null } : null;
  }
  if (value && typeof value === 'object' && 'value' in value) {
    const inner = numeric((value as { value: unknown }).value);
    const unit = (value as { unit?: unknown }).unit;
    return inner ? { value: inner.value, unit: typeof unit === 'string' ? unit : inner.unit } : null;
  }
  return null;
}

function convert(value: number, from: string | null, metricId: string): number | { error: string } {
  const metric = getMetric(metricId)!;
  if (!from || from.toLowerCase() === metric.unit.toLowerCase()) return value;
  const f = CONVERSIONS[`${from.toLowerCase()}>${metric.unit.toLowerCase()}`];
  return f ? f(value) : { error: `no conversion from ${from} to ${metric.unit} for ${metricId}` };
}

export function normalize(data: Record<string, unknown>, mapping: FieldMapping[] | undefined, time: Date): { readings: Reading[]; warnings: string[] } {
  const readings: Reading[] = [];
  const warnings: string[] = [];
  const add = (metricId: string, raw: unknown, unit: string | null, channel: string, where: string): void => {
    if (!getMetric(metricId)) {
      warnings.push(`${where}: ${metricId} is not a catalog metric`);
      return;
    }
    const n = numeric(raw);
    if (!n) return;
    const converted = convert(n.value, unit ?? n.unit, metricId);
    if (typeof converted !== 'number') {
      warnings.push(`${where}: ${converted.error}`);
      return;
    }
    const reading = makeReading(metricId, converted, time, channel);
    if (reading) readings.push(reading);
  };
  if (mapping && mapping.length > 0) {
    for (const m of mapping) add(m.metric, at(data, m.path), m.unit ?? null, m.channel ?? '', m.path);
    return { readings, warnings };
  }
  const walk = (obj: Record<string, unknown>, prefix: string, depth: number): void => {
    for (const [key, value] of Object.entries(obj)) {
      const metric = ALIASES[normalizeKey(key)];
      if (metric) add(metric, value, null, '', prefix + key);
      else if (value && typeof value === 'object' && !Array.isArray(value) && !('value' in value) && depth < 2) walk(value as Record<string, unknown>, `${prefix}${key}.`, depth + 1);
    }
  };
  walk(data, '', 0);
  return { readings, warnings };
}
