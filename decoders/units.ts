/**
 * Vendor units → the catalog's UCUM units, and the few cases where the unit of an
 * unlabelled value can be told from the value itself.
 *
 * Telling a unit from a value is done only where the plausible ranges of the candidate
 * units do not overlap, so that no value could belong to two of them: atmospheric
 * pressure (Pa 30,000–110,000, hPa 300–1,100, kPa 30–110, bar 0.3–1.1: an Elsys ELT-2 example says
 * `pressure: 100729.105`, Milesight AM307 `pressure: 1004.7`, Decentlab `95.96 kPa`), a
 * battery voltage in V (0.5–15) or mV (500–15,000), and a field named only `battery`
 * (batteryKind). Anything else
 * without a unit is ambiguous and is not guessed: a gas given as a bare number could be
 * ppb or µg/m³, a power W or kW.
 */

/** Spellings of units vendors use (lower case, without spaces) → the UCUM code. */
const SPELLINGS: Record<string, string> = {
  c: 'Cel', '°c': 'Cel', degc: 'Cel', cel: 'Cel', celsius: 'Cel', f: '[degF]', '°f': '[degF]', degf: '[degF]', fahrenheit: '[degF]', kelvin: 'K',
  '%': '%', pct: '%', percent: '%', perc: '%', '%rh': '%', rh: '%',
  pa: 'Pa', hpa: 'hPa', kpa: 'kPa', mbar: 'mbar', bar: 'bar',
  ppm: '[ppm]', '[ppm]': '[ppm]', ppb: '[ppb]', '[ppb]': '[ppb]',
  'ug/m3': 'ug/m3', 'µg/m3': 'ug/m3', 'µg/m³': 'ug/m3', 'ug/m³': 'ug/m3', ugm3: 'ug/m3', ug: 'ug/m3', 'mg/m3': 'mg/m3', 'mg/m³': 'mg/m3', mgm3: 'mg/m3',
  v: 'V', mv: 'mV', w: 'W', kw: 'kW', wh: 'W.h', 'w.h': 'W.h', kwh: 'kW.h', 'kw.h': 'kW.h',
  mm: 'mm', cm: 'cm', m: 'm', lx: 'lx', lux: 'lx', db: 'dB', dba: 'dB', 'db(a)': 'dB', 'm/s': 'm/s', 'km/h': 'km/h', kmh: 'km/h',
  deg: 'deg', '°': 'deg', s: 's', '1': '1',
};

/** The UCUM code for a vendor's spelling of a unit, or null when it is not one we know. */
export function ucum(unit: string): string | null {
  // Decentlab writes µg⋅m⁻³, others µg m-3 or µg/m³.
  const u = unit.trim().toLowerCase().replace(/\s+|⋅|·/g, '').replace(/m⁻³|m-3|m\^-3/g, '/m3').replace('//', '/');
  return SPELLINGS[u] ?? SPELLINGS[u.replace(/^(µg|ug|mg)m/, '$1/m')] ?? null;
}

/**
 * µg/m³ per ppb at 20 °C and 1013.25 hPa (EU Directive 2008/50/EC reference conditions):
 * molar mass / 24.04 l/mol.
 */
const UG_PER_PPB: Record<string, number> = { no2: 1.913, o3: 1.996, so2: 2.665, co: 1.165 };

/** Value in `from` (a UCUM code) → value in `to`, or null when there is no conversion. */
export function convertUnit(value: number, from: string, to: string, metricId: string): number | null {
  if (from === to) return value;
  const linear: Record<string, number> = {
    'Pa>hPa': 0.01, 'kPa>hPa': 10, 'mbar>hPa': 1, 'bar>hPa': 1000,
    'mV>V': 0.001, 'mm>cm': 0.1, 'm>cm': 100, 'mg/m3>ug/m3': 1000, 'ug/m3>mg/m3': 0.001,
    'kW>W': 1000, 'kW.h>W.h': 1000, 'm/s>km/h': 3.6, 'km/h>m/s': 1 / 3.6,
  };
  const factor = linear[`${from}>${to}`];
  if (factor !== undefined) return value * factor;
  if (from === '[degF]' && to === 'Cel') return ((value - 32) * 5) / 9;
  if (from === 'K' && to === 'Cel') return value - 273.15;
  const ug = UG_PER_PPB[metricId];
  if (ug !== undefined) {
    const ppb = from === '[ppb]' ? value : from === '[ppm]' ? value * 1000 : null;
    if (ppb !== null && to === 'ug/m3') return ppb * ug;
    if (ppb !== null && to === 'mg/m3') return (ppb * ug) / 1000;
  }
  return null;
}

/** Candidate units of a metric whose plausible ranges do not overlap. */
const RANGES: Record<string, { unit: string; min: number; max: number }[]> = {
  pressure: [
    { unit: 'Pa', min: 30_000, max: 110_000 },
    { unit: 'hPa', min: 300, max: 1_100 },
    { unit: 'kPa', min: 30, max: 110 },
    { unit: 'bar', min: 0.3, max: 1.1 },
  ],
  battery_voltage: [
    { unit: 'V', min: 0.5, max: 15 },
    { unit: 'mV', min: 500, max: 15_000 },
  ],
};

/**
 * A field named only `battery`: volts (a fraction between 2 and 4.5, as lithium cells
 * read) or a whole percentage; null when the value could be either (a whole 2, 3 or 4)
 * or neither.
 */
export function batteryKind(value: number): 'V' | '%' | null {
  const volts = value >= 2 && value <= 4.5 && !Number.isInteger(value);
  const percent = Number.isInteger(value) && value >= 0 && value <= 100 && !(value >= 2 && value <= 4);
  return volts ? 'V' : percent ? '%' : null;
}

/**
 * The unit of an unlabelled value, where its range tells it (see above); null when the
 * value could be in more than one unit or in none.
 */
export function unitFromRange(metricId: string, value: number): string | null {
  const candidates = (RANGES[metricId] ?? []).filter((r) => value >= r.min && value <= r.max);
  return candidates.length === 1 ? candidates[0]!.unit : null;
}

/** Metrics whose unlabelled values are taken in the catalog unit (the vendors agree on it). */
export const UNIT_IS_CONVENTIONAL = new Set([
  'temperature', 'relative_humidity', 'co2', 'pm1', 'pm2_5', 'pm10', 'noise', 'illuminance', 'occupied', 'lamp_on', 'dim_level',
  'vehicle_count', 'vehicle_count_total', 'people_count', 'people_count_total', 'wind_direction', 'battery_level',
]);
