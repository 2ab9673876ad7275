/**
 * Vendor output → catalog readings. A device model's own mapping says which output
 * paths are which metrics (with the vendor's unit, converted to the catalog unit, and
 * optional scale/offset, threshold or value table); without one, the built-in mapping
 * for the model's category is proposed from the payload itself (builtin-mapping.ts).
 * Values may be numbers, numeric strings, booleans, "on"/"off", or `{ value, unit }`
 * objects. Strings that are no value ("NoSensor", "n/a") give no reading and no error.
 * Nothing is dropped: the codec's whole output stays in `decoded`.
 */
import { proposeMapping } from './builtin-mapping.js';
import { getMetric, makeReading } from './catalog.js';
import type { FieldMapping, ModelCategory, Reading } from './types.js';
import { convertUnit, ucum } from './units.js';

export { words as normalizeKeyWords } from './field-rules.js';

/** Lower case with separators as `_`, e.g. `PM2.5` → `pm2_5`. */
export function normalizeKey(key: string): string {
  return key.toLowerCase().replace(/[.\-\s]/g, '_').replace(/[^a-z0-9_]/g, '');
}

/** The value at a dotted path; a key that itself has dots (`pm2.5`) is found too, the longest key first. */
export function at(data: unknown, path: string): unknown {
  const parts = path.split('.');
  const walk = (value: unknown, from: number): unknown => {
    if (from === parts.length) return value;
    if (value === null || typeof value !== 'object') return undefined;
    for (let to = parts.length; to > from; to--) {
      const key = parts.slice(from, to).join('.');
      if (Object.prototype.hasOwnProperty.call(value, key)) return walk((value as Record<string, unknown>)[key], to);
    }
    return undefined;
  };
  return walk(data, 0);
}

const ON: Record<string, number> = { on: 1, true: 1, occupied: 1, off: 0, false: 0, free: 0 };

/** A number from a vendor value, or null for "no value". */
function numeric(value: unknown, table: Record<string, number> | undefined): { value: number; unit: string | null } | null {
  if (typeof value === 'number') return Number.isFinite(value) ? { value, unit: null } : null;
  if (typeof value === 'boolean') return { value: value ? 1 : 0, unit: null };
  if (typeof value === 'string') {
    const s = value.trim().toLowerCase();
    const named = table?.[s] ?? ON[s];
    if (named !== undefined) return { value: named, unit: null };
    return /^-?\d+(\.\d+)?(e-?\d+)?$/.test(s) ? { value: Number(s), unit: null } : null;
  }
  if (value && typeof value === 'object' && 'value' in value) {
    const inner = numeric((value as { value: unknown }).value, table);
    const unit = (value as { unit?: unknown }).unit;
    return inner ? { value: inner.value, unit: typeof unit === 'string' ? unit : inner.unit } : null;
  }
  return null;
}

/** Readings of `data` by one mapping; warnings name what could not be converted. */
export function applyMapping(data: Record<string, unknown>, mapping: FieldMapping[], time: Date): { readings: Reading[]; warnings: string[] } {
  const readings: Reading[] = [];
  const warnings: string[] = [];
  for (const m of mapping) {
    const metric = getMetric(m.metric);
    if (!metric) {
      warnings.push(`${m.path}: ${m.metric} is not a catalog metric`);
      continue;
    }
    const n = numeric(at(data, m.path), m.values);
    if (!n) continue;
    const unitGiven = m.unit ?? n.unit;
    const from = unitGiven ? ucum(unitGiven) ?? unitGiven : metric.unit;
    let value = from === metric.unit || from.toLowerCase() === metric.unit.toLowerCase() ? n.value : convertUnit(n.value, from, metric.unit, metric.id);
    if (value === null) {
      warnings.push(`${m.path}: no conversion from ${unitGiven} to ${metric.unit} for ${metric.id}`);
      continue;
    }
    value = value * (m.scale ?? 1) + (m.offset ?? 0);
    if (m.below !== undefined) value = value < m.below ? 1 : 0;
    const reading = makeReading(metric.id, value, time, m.channel ?? '');
    if (reading) readings.push(reading);
  }
  return { readings, warnings };
}

/**
 * Readings of a codec's `data`: by the model's mapping when it has one, else by the
 * built-in mapping proposed for this payload and the model's category.
 */
export function normalize(data: Record<string, unknown>, mapping: FieldMapping[] | undefined, time: Date, category: ModelCategory | null = null): { readings: Reading[]; warnings: string[] } {
  if (mapping && mapping.length > 0) return applyMapping(data, mapping, time);
  return applyMapping(data, proposeMapping(data, category).mapping, time);
}
