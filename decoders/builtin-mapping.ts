/**
 * The mapping stadtfunk proposes for a codec's output: every field of `data` that a
 * built-in rule (field-rules.ts) recognises becomes a FieldMapping entry with the unit
 * the vendor reports in; every field a rule recognises but cannot map safely is listed
 * with the reason (an ambiguous unit is never guessed). Used at decode time for models
 * without a mapping of their own, and at registration and import to propose and explain
 * one (a model's own mapping overrides it entirely).
 */
import { getMetric } from './catalog.js';
import { classify, unitInName, words, type Leaf } from './field-rules.js';
import type { FieldMapping, ModelCategory } from './types.js';
import { batteryKind, convertUnit, ucum, unitFromRange, UNIT_IS_CONVENTIONAL } from './units.js';

export interface LeftField {
  path: string;
  reason: string;
}

export interface MappingProposal {
  mapping: FieldMapping[];
  left: LeftField[];
}

const MAX_DEPTH = 5;
const MAX_ARRAY = 16;

/** The leaves of a codec's `data`: numbers, booleans, strings and {value, unit} objects. */
export function leavesOf(data: Record<string, unknown>): Leaf[] {
  const out: Leaf[] = [];
  const walk = (obj: unknown, path: string, parents: string[], depth: number): void => {
    if (obj === null || typeof obj !== 'object' || depth > MAX_DEPTH) return;
    const entries = Array.isArray(obj) ? obj.slice(0, MAX_ARRAY).map((v, i) => [String(i), v] as const) : Object.entries(obj);
    for (const [key, value] of entries) {
      const p = path ? `${path}.${key}` : key;
      const ws = words(key);
      if (value && typeof value === 'object' && !Array.isArray(value) && 'value' in value && isScalar((value as { value: unknown }).value)) {
        const unit = (value as { unit?: unknown }).unit;
        out.push({ path: `${p}`, words: ws, parents, value: (value as { value: number | boolean | string }).value, unit: typeof unit === 'string' ? ucum(unit) ?? unit : unitInName(ws) });
      } else if (isScalar(value)) {
        out.push({ path: p, words: ws, parents, value, unit: unitInName(ws) });
      } else if (value && typeof value === 'object') {
        walk(value, p, [...parents, ...ws], depth + 1);
      }
    }
  };
  walk(data, '', [], 0);
  return out;
}

function isScalar(v: unknown): v is number | boolean | string {
  return (typeof v === 'number' && Number.isFinite(v)) || typeof v === 'boolean' || typeof v === 'string';
}

const numberOf = (v: number | boolean | string): number | null => (typeof v === 'number' ? v : typeof v === 'string' && /^-?\d+(\.\d+)?$/.test(v.trim()) ? Number(v) : null);

/** Proposes a mapping for one decoded payload (see above). */
export function proposeMapping(data: Record<string, unknown>, category: ModelCategory | null): MappingProposal {
  const mapping: FieldMapping[] = [];
  const left: LeftField[] = [];
  const taken = new Map<string, string>();
  for (const leaf of leavesOf(data)) {
    const c = classify(leaf, category);
    if (c === null) continue;
    if ('left' in c) {
      left.push({ path: leaf.path, reason: c.left });
      continue;
    }
    const unit = resolveUnit(c.metric, leaf);
    if ('reason' in unit) {
      left.push({ path: leaf.path, reason: unit.reason });
      continue;
    }
    const key = `${unit.metric}@${c.channel}`;
    const first = taken.get(key);
    if (first !== undefined) {
      left.push({ path: leaf.path, reason: `${first} gives ${unit.metric}${c.channel ? ` (${c.channel})` : ''} already` });
      continue;
    }
    taken.set(key, leaf.path);
    mapping.push({ path: leaf.path, metric: unit.metric, ...(c.channel ? { channel: c.channel } : {}), ...(unit.unit ? { unit: unit.unit } : {}), ...(c.values ? { values: c.values } : {}) });
  }
  return { mapping, left };
}

/** The unit a leaf is in (undefined: the catalog's), or why it cannot be told. */
function resolveUnit(metricId: string, leaf: Leaf): { metric: string; unit?: string } | { reason: string } {
  const n = numberOf(leaf.value);
  if (metricId === 'battery') {
    if (leaf.unit === '%') return { metric: 'battery_level' };
    if (leaf.unit === 'V' || leaf.unit === 'mV') return { metric: 'battery_voltage', unit: leaf.unit };
    const kind = n === null ? null : batteryKind(n);
    if (kind) return kind === 'V' ? { metric: 'battery_voltage' } : { metric: 'battery_level' };
    return { reason: `battery ${JSON.stringify(leaf.value)} without a unit: volts or percent cannot be told apart` };
  }
  const metric = getMetric(metricId)!;
  if (leaf.unit) {
    const from = ucum(leaf.unit) ?? leaf.unit;
    if (from === metric.unit || convertUnit(1, from, metric.unit, metricId) !== null) return { metric: metricId, ...(from === metric.unit ? {} : { unit: from }) };
    return { reason: `${metricId} in ${leaf.unit}: no conversion to ${metric.unit}` };
  }
  if (typeof leaf.value !== 'number' || UNIT_IS_CONVENTIONAL.has(metricId)) return { metric: metricId };
  if (n !== null) {
    const ranged = unitFromRange(metricId, n);
    if (ranged) return { metric: metricId, ...(ranged === metric.unit ? {} : { unit: ranged }) };
  }
  const hint: Record<string, string> = {
    pressure: 'Pa, hPa or kPa', no2: 'ppb or µg/m³', o3: 'ppb or µg/m³', so2: 'ppb or µg/m³', co: 'ppm or mg/m³', water_level: 'mm, cm or m',
    water_distance: 'mm, cm or m', power: 'W or kW', energy: 'Wh or kWh', voltage: 'V or mV', battery_voltage: 'V or mV',
  };
  return { reason: `${metricId} ${JSON.stringify(leaf.value)} without a unit: ${hint[metricId] ?? 'its unit'} cannot be told apart; give the mapping a unit` };
}

/** The category a proposal's metrics point to, when they point to one only (counts before air). */
export function inferCategory(mapping: FieldMapping[]): ModelCategory | null {
  const metrics = new Set(mapping.map((m) => m.metric));
  const any = (...ids: string[]) => ids.some((id) => metrics.has(id));
  const found: ModelCategory[] = [];
  if (any('people_count', 'people_count_total')) found.push('people');
  if (any('vehicle_count', 'vehicle_count_total', 'avg_speed')) found.push('traffic');
  if (any('occupied')) found.push('parking');
  if (any('water_level', 'water_distance')) found.push('water');
  if (any('lamp_on', 'dim_level')) found.push('streetlight');
  if (found.length === 0 && any('pm1', 'pm2_5', 'pm10', 'no2', 'o3', 'so2', 'co', 'co2', 'temperature', 'relative_humidity', 'pressure', 'noise')) found.push('air');
  return found.length === 1 ? found[0]! : null;
}

/**
 * The proposal for a model from its examples' decoded data: one mapping entry per path
 * over all examples, and what was left with its reason. Without a category, the one the
 * examples point to is taken (and the proposal made again with it).
 */
export function proposeForExamples(datas: Record<string, unknown>[], category: ModelCategory | null): MappingProposal & { category: ModelCategory | null; inferred: boolean } {
  const merge = (c: ModelCategory | null): MappingProposal => {
    const mapping = new Map<string, FieldMapping>();
    const left = new Map<string, LeftField>();
    for (const data of datas) {
      const p = proposeMapping(data, c);
      for (const m of p.mapping) if (!mapping.has(m.path)) mapping.set(m.path, m);
      for (const l of p.left) if (!left.has(l.path)) left.set(l.path, l);
    }
    for (const path of mapping.keys()) left.delete(path);
    return { mapping: [...mapping.values()], left: [...left.values()] };
  };
  if (category !== null) return { ...merge(category), category, inferred: false };
  const first = merge(null);
  const inferred = inferCategory(first.mapping);
  return inferred ? { ...merge(inferred), category: inferred, inferred: true } : { ...first, category: null, inferred: false };
}
