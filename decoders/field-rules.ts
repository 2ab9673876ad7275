/**
 * Built-in rules: which catalog metric a vendor's field is, from its name (split into
 * words: `CO2_ppm` → co2 ppm, `peopleCounter` → people counter, `TempC_SHT` → temp c sht),
 * where it sits (`line_1.total_in`), its value and the model's category.
 *
 * Field names and shapes are those of The Things Network device repository's codecs
 * and examples (TheThingsNetwork/lorawan-devices, vendor/…): Dingtek DC500/DC510
 * `peopleCounter`, DC520 `inCounter`/`outCounter`, Milesight VS133 `line_1.total_in`,
 * Paxcounter `pax`, Nwave NCC405 `counter_value`, Netvox R719A `CarOnOff`, Nwave NPS405
 * and Bosch TPS110 `occupied: true`, Tekzitel `occupied: 1`, Milesight VS340
 * `occupancy: "occupied"`, Dragino LAQ4 `CO2_ppm`, Browan CD10 `co2_ppm`, Netvox `CO2`,
 * Decentlab `barometric_pressure: {value, unit: "Pa"}`, Elsys `pressure: 100729.105`.
 *
 * A rule says what a field is, or why it is left in the decoded payload (`left`), or
 * nothing (a field that is no measurement: thresholds, alarms, versions, settings).
 */
import type { ModelCategory } from './types.js';
import { ucum } from './units.js';

export interface Leaf {
  /** Dotted path into `data`. */
  path: string;
  /** Words of the field's own name. */
  words: string[];
  /** Words of the objects above it (`line_1.total_in` → line 1). */
  parents: string[];
  value: number | boolean | string;
  /** The unit the vendor gave with the value ({value, unit}) or in the field's name. */
  unit: string | null;
}

export type Classified = { metric: string; channel: string; values?: Record<string, number> } | { left: string } | null;

/** Splits a vendor's field name into lower-case words. */
export function words(key: string): string[] {
  return key
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1 $2')
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter(Boolean);
}

/** Words that make a field something other than a measurement. */
const NOT_A_MEASUREMENT = new Set([
  'threshold', 'thr', 'alarm', 'alert', 'limit', 'min', 'max', 'minimum', 'maximum', 'calib', 'calibration', 'offset', 'interval', 'setpoint', 'set',
  'target', 'hysteresis', 'config', 'setting', 'settings', 'enabled', 'enable', 'mode', 'version', 'delta', 'change', 'changed', 'diff', 'error', 'err',
  'flag', 'raw', 'lpf', 'mean', 'avg', 'average', 'std', 'deviation', 'percentile', 'median', 'fault', 'low', 'high', 'warning', 'report', 'upload', 'id',
  'detected', 'duration', 'time', 'timestamp', 'number', 'readings', 'eco2', 'tvoc', 'voc', 'index', 'aqi', 'iaq', 'type',
]);
/** Words that place a temperature or humidity somewhere other than the air. */
const NOT_AIR = new Set(['co2', 'soil', 'water', 'surface', 'board', 'mcu', 'cpu', 'chip', 'internal', 'core', 'battery', 'bat', 'barometer', 'probe', 'ds', 'ds18b20', 'pipe', 'flow', 'return', 'supply', 'object', 'heat', 'dew', 'leaf', 'tank', 'liquid', 'ground', 'road', 'mcu', 'device', 'cpu', 'module']);
/** Unit words vendors append to names (`CO2_ppm`, `Bat_V`, `TempC_SHT`). */
const UNIT_WORDS = new Set(['c', 'f', 'v', 'mv', 'pa', 'hpa', 'kpa', 'mbar', 'ppm', 'ppb', 'ugm3', 'mgm3', 'pct', 'percent', 'lux', 'lx', 'db', 'dba', 'cm', 'mm', 'm', 'w', 'kw', 'wh', 'kwh']);

const has = (ws: string[], ...any: string[]): boolean => any.some((w) => ws.includes(w));
/** `has` for a word set: looks up each of a field's few words instead of spreading the set (which cost most of a decode's mapping). */
const hasAnyOf = (ws: string[], set: ReadonlySet<string>): boolean => ws.some((w) => set.has(w));
const OCCUPIED_WORDS: Record<string, number> = { occupied: 1, busy: 1, present: 1, car: 1, taken: 1, 'in use': 1, free: 0, vacant: 0, empty: 0, absent: 0, available: 0, 'no car': 0 };

/** The unit in the name, when a unit word ends it (`co2_ppm` → ppm). */
export function unitInName(ws: string[]): string | null {
  const last = ws.at(-1);
  return last && UNIT_WORDS.has(last) && ws.length > 1 ? ucum(last === 'ugm3' ? 'ug/m3' : last === 'mgm3' ? 'mg/m3' : last) : null;
}

/** Particulate matter from a name: pm1, pm1_0, pm2_5, pm25, PM2.5, pm10, pm10_0, pm_10 … */
function particulate(ws: string[]): string | null {
  const joined = ws.join('_');
  const m = /(?:^|_)pm_?(1|2_5|25|10)(?:_0)?(?=_|$)/.exec(joined);
  if (!m) return null;
  return m[1] === '1' ? 'pm1' : m[1] === '10' ? 'pm10' : 'pm2_5';
}

/** Direction and counting line of a counter, as a channel (`line=1;direction=in`). */
function counterChannel(leaf: Leaf): string {
  const parts: string[] = [];
  const all = [...leaf.parents, ...leaf.words];
  const line = /(?:^|\.)(?:line|region|zone|area)_?(\d+)(?:\.|$)/i.exec(leaf.path);
  if (line) parts.push(`line=${line[1]}`);
  if (has(all, 'in', 'entry', 'entries', 'enter', 'incoming')) parts.push('direction=in');
  else if (has(all, 'out', 'exit', 'exits', 'leave', 'outgoing')) parts.push('direction=out');
  return parts.join(';');
}

function classifyCount(leaf: Leaf, category: ModelCategory | null): Classified {
  const ws = leaf.words;
  const all = [...leaf.parents, ...ws];
  if (typeof leaf.value !== 'number') return null;
  if (has(ws, 'pax')) return { metric: 'people_count', channel: '' }; // Paxcounter: devices seen in the last cycle
  const counting = has(ws, 'counter', 'count', 'total', 'cnt', 'counts') || (has(ws, 'in', 'out') && has(leaf.parents, 'line', 'region'));
  if (!counting) return null;
  if (has(ws, 'threshold', 'thr', 'limit', 'setpoint', 'set', 'config', 'setting', 'target', 'calib', 'calibration', 'alarm', 'original', 'max', 'min')) return null;
  if (has(ws, 'balance', 'frame', 'seq', 'packet', 'uplink', 'fcnt', 'message', 'msg', 'error', 'reset', 'alarm', 'event', 'events', 'motion', 'pulse', 'backlog', 'retry')) return null;
  const people = has(all, 'people', 'person', 'persons', 'visitor', 'visitors', 'pedestrian', 'pedestrians', 'passenger', 'passengers', 'footfall');
  const vehicles = has(all, 'vehicle', 'vehicles', 'car', 'cars', 'truck', 'trucks', 'bike', 'bikes', 'bicycle', 'bicycles', 'traffic');
  const directional = counterChannel(leaf) !== '';
  // What a counter counts when its name does not say: the model's category; failing that an
  // in/out (line-crossing) counter is taken to count people, as nearly all LoRaWAN ones do.
  const what = people ? 'people' : vehicles ? 'vehicle' : category === 'people' ? 'people' : category === 'traffic' ? 'vehicle' : directional && category === null ? 'people' : null;
  if (!what) return { left: 'a count without saying of what: give the model the category people or traffic' };
  const interval = has(ws, 'period', 'periodic', 'interval');
  const metric = `${what}_count${interval ? '' : '_total'}`;
  return { metric, channel: counterChannel(leaf) };
}

function classifyOccupancy(leaf: Leaf, category: ModelCategory | null): Classified {
  const ws = leaf.words;
  const named = has(ws, 'occupied', 'occupancy') || (has(ws, 'car') && has(ws, 'on', 'present', 'status', 'state')) || has(ws, 'caronoff') || (has(ws, 'parking') && has(ws, 'status', 'state')) || (has(ws, 'vehicle') && has(ws, 'present', 'presence', 'detected'));
  if (!named) return null;
  if (category !== null && category !== 'parking') return { left: `occupancy of a ${category} model is not parking occupancy` };
  const v = leaf.value;
  if (typeof v === 'boolean' || v === 0 || v === 1) return { metric: 'occupied', channel: '' };
  if (typeof v === 'string') {
    const s = v.trim().toLowerCase();
    if (s in OCCUPIED_WORDS) return { metric: 'occupied', channel: '', values: OCCUPIED_WORDS };
    if (s === 'true' || s === 'false' || s === '1' || s === '0') return { metric: 'occupied', channel: '' };
  }
  return { left: `occupancy value ${JSON.stringify(v)} is not occupied/free, a boolean or 0/1` };
}

/** The metric a field is, why it is left, or null. Categories refine what names alone leave open. */
export function classify(leaf: Leaf, category: ModelCategory | null): Classified {
  const ws = leaf.words;
  if (ws.length === 0) return null;
  const counted = classifyCount(leaf, category);
  if (counted) return counted;
  const occupancy = classifyOccupancy(leaf, category);
  if (occupancy) return occupancy;
  if (category === 'streetlight' || has(ws, 'lamp', 'dim', 'dimming')) {
    const lamp = classifyLamp(leaf);
    if (lamp) return lamp;
  }
  if (hasAnyOf(ws, NOT_A_MEASUREMENT) && !has(ws, 'barometric', 'atmospheric')) return null;
  if (typeof leaf.value === 'string' && !/^-?\d+(\.\d+)?$/.test(leaf.value.trim())) return null;

  const pm = particulate(ws);
  if (pm) return has(ws, 'count', 'nc', 'number') ? null : { metric: pm, channel: '' };
  if (has(ws, 'co2') || ws.some((w) => /^co2(ppm)?$/.test(w))) return { metric: 'co2', channel: '' };
  if (has(ws, 'no2')) return { metric: 'no2', channel: '' };
  if (has(ws, 'o3', 'ozone')) return { metric: 'o3', channel: '' };
  if (has(ws, 'so2')) return { metric: 'so2', channel: '' };
  if (ws[0] === 'co' && ws.length <= 2) return { metric: 'co', channel: '' };
  const airPlace = !hasAnyOf(leaf.parents, NOT_AIR) && !hasAnyOf(ws, NOT_AIR);
  if (has(ws, 'temperature', 'temp', 'tempc', 'tempf') && airPlace) return { metric: 'temperature', channel: '' };
  if (has(ws, 'humidity', 'hum', 'humi', 'rh', 'relativehumidity') && airPlace) return { metric: 'relative_humidity', channel: '' };
  if (has(ws, 'pressure', 'barometric', 'baro', 'pbaro', 'press') && !(ws[0] === 't' && has(ws, 'baro')) && !has(ws, 'vapor', 'vapour', 'water', 'pipe', 'deficit', 'tank', 'tire', 'tyre', 'differential', 'pd', 'p1', 'p2')) {
    return category === 'water' ? { left: 'pressure of a water model is not air pressure' } : { metric: 'pressure', channel: '' };
  }
  if (has(ws, 'noise', 'sound', 'laeq', 'leq', 'spl')) return { metric: 'noise', channel: '' };
  if (has(ws, 'illuminance', 'lux', 'luminosity', 'illumination') || (has(ws, 'light') && !has(ws, 'on', 'state', 'status', 'level', 'lamp'))) return { metric: 'illuminance', channel: '' };
  const lone = ws.length === 1 && has(ws, 'volt', 'voltage', 'vdd');
  if (has(ws, 'battery', 'bat', 'batt', 'vbat', 'batv') || lone || (category === 'streetlight' && has(ws, 'voltage'))) return classifyBattery(leaf, category);
  if (has(ws, 'water') && has(ws, 'level', 'height')) return { metric: 'water_level', channel: '' };
  if (has(ws, 'distance', 'range') || (has(ws, 'depth') && category === 'water')) {
    if (category === 'water') return has(ws, 'depth') ? { metric: 'water_level', channel: '' } : { metric: 'water_distance', channel: '' };
    if (category === 'parking') return { left: 'a distance: give the mapping a threshold (below, cm) to read occupancy from it' };
    return { left: 'a distance: to water (category water) or to a car (category parking)?' };
  }
  return null;
}

function classifyBattery(leaf: Leaf, category: ModelCategory | null): Classified {
  const ws = leaf.words;
  if (typeof leaf.value === 'boolean' || (typeof leaf.value === 'string' && !/^-?\d+(\.\d+)?$/.test(leaf.value.trim()))) return null; // a battery alarm or state
  const percent = has(ws, 'level', 'percent', 'pct', 'percentage', 'capacity', 'soc', 'remaining') || leaf.unit === '%';
  if (percent) return { metric: 'battery_level', channel: '' };
  const mains = has(ws, 'mains', 'grid', 'line', 'supply', 'input', 'ac');
  if (mains || (category === 'streetlight' && !has(ws, 'battery', 'bat', 'batt', 'vbat', 'batv'))) return category === 'streetlight' ? { metric: 'voltage', channel: '' } : null;
  if (has(ws, 'status', 'state', 'type', 'health')) return null;
  // `battery` alone may be volts or percent: the unit decides, or the value's range (units.ts).
  return { metric: has(ws, 'v', 'mv', 'volt', 'voltage', 'batv', 'vbat') ? 'battery_voltage' : 'battery', channel: '' };
}

function classifyLamp(leaf: Leaf): Classified {
  const ws = leaf.words;
  if (has(ws, 'dim', 'dimming', 'dimmer', 'brightness')) return { metric: 'dim_level', channel: '' };
  if (has(ws, 'lamp', 'light', 'relay', 'output') && (typeof leaf.value === 'boolean' || leaf.value === 0 || leaf.value === 1 || has(ws, 'on', 'state', 'status'))) {
    return { metric: 'lamp_on', channel: '', values: { on: 1, off: 0 } };
  }
  if (has(ws, 'power') && !has(ws, 'factor', 'reactive', 'apparent')) return { metric: 'power', channel: '' };
  if (has(ws, 'energy', 'consumption')) return { metric: 'energy', channel: '' };
  return null;
}
