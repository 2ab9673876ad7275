/**
 * A fuzzed corpus of query options against the real service: expressions generated from
 * the $filter grammar (properties, navigation paths, every function, literals of every
 * kind, geometries), then mutated (characters dropped, doubled, swapped, foreign tokens,
 * truncation, control characters, deep nesting, huge numbers). Whatever comes in, the
 * answer is 200, 400 (JSON naming the option and a position inside it), 404 or 501 —
 * never a 500, and the service answers the next request. Seeded: a failure reproduces.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStaFixture, type StaFixture } from './sta-fixture.js';

/** mulberry32: a small deterministic PRNG. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const SETS: Record<string, string[]> = {
  Things: ['name', 'description', 'properties/kind', 'properties/zone', 'id', 'Locations/location', 'Datastreams/name', 'Datastreams/ObservedProperty/name', 'HistoricalLocations/time'],
  Datastreams: ['name', 'unitOfMeasurement/symbol', 'phenomenonTime', 'resultTime', 'observedArea', 'properties/level', 'Thing/name', 'Sensor/name', 'ObservedProperty/definition', 'Observations/result', 'id'],
  Observations: ['result', 'phenomenonTime', 'resultTime', 'resultQuality', 'parameters/max', 'validTime', 'id', 'Datastream/name', 'FeatureOfInterest/feature', 'Datastream/Thing/properties/zone'],
  Locations: ['name', 'location', 'encodingType', 'Things/name', 'HistoricalLocations/time'],
  FeaturesOfInterest: ['name', 'feature', 'Observations/result'],
  HistoricalLocations: ['time', 'Thing/name', 'Locations/location'],
  Sensors: ['name', 'metadata', 'Datastreams/name'],
  ObservedProperties: ['name', 'definition', 'Datastreams/Thing/name'],
};
/** Well-formed filters per set: the corpus mutates these as well as random expressions. */
const VALID: Record<string, string[]> = {
  Things: ["name eq 'lamp-2'", "startswith(name, 'geo') and properties/zone eq 'geo'", "st_within(Locations/location, geography'POLYGON((7.5 51.5, 7.5 53.5, 8.5 53.5, 8.5 51.5, 7.5 51.5))')", "Datastreams/ObservedProperty/name eq 'PM2.5'", 'length(name) gt 5 or not (id eq 1)'],
  Datastreams: ["properties/level eq 'hour'", "Thing/name eq 'site-1' and unitOfMeasurement/symbol eq '{vehicles}'", 'phenomenonTime lt 2026-10-02T00:00:00Z', "geo.distance(observedArea, geography'POINT(8 52)') lt 1"],
  Observations: ['result gt 10 and result le 20', 'phenomenonTime ge 2026-10-01T06:00:00Z and phenomenonTime lt 2026-10-01T07:00:00Z', 'hour(phenomenonTime) eq 3 and round(result) eq 5', "resultQuality eq 'out_of_range' or parameters/max gt 40", 'result mul 2 add 1 gt 50'],
  Locations: ["st_equals(location, geography'POINT(8 53)')", "substringof('lamp', name)"],
  FeaturesOfInterest: ["st_disjoint(feature, geography'POINT(8 53)')", "name ne 'x'"],
  HistoricalLocations: ['time lt now()', "Thing/name eq 'lamp-2'"],
  Sensors: ["name eq 'Air quality sensor'", "substringof('builtin', metadata) or true"],
  ObservedProperties: ["definition eq 'http://dd.eionet.europa.eu/vocabulary/aq/pollutant/6001'", "tolower(name) eq 'pm2.5'"],
};
const FUNCTIONS = ['substringof', 'endswith', 'startswith', 'length', 'indexof', 'substring', 'tolower', 'toupper', 'trim', 'concat', 'year', 'month', 'day', 'hour', 'minute', 'second', 'fractionalseconds', 'date', 'time', 'totaloffsetminutes', 'now', 'mindatetime', 'maxdatetime', 'round', 'floor', 'ceiling', 'geo.distance', 'geo.length', 'geo.intersects', 'st_equals', 'st_disjoint', 'st_touches', 'st_within', 'st_overlaps', 'st_crosses', 'st_intersects', 'st_contains', 'st_relate', 'before', 'after', 'meets', 'during', 'overlaps', 'starts', 'finishes'];
const OPS = ['eq', 'ne', 'gt', 'ge', 'lt', 'le', 'and', 'or', 'add', 'sub', 'mul', 'div', 'mod'];
const LITERALS = [
  "'lamp-2'", "''", "'it''s'", '0', '-1', '3.5', '1e308', '-1e-308', '99999999999999999999999', 'true', 'false', 'null',
  '2026-10-01T00:00:00Z', '2026-10-01T02:00:00+02:00', '2026-10-01T00:00:00Z/2026-10-02T00:00:00Z', '2026-10-01', '12:00:00',
  "duration'P1D'", "duration'PT15M'", "geography'POINT(8 52)'", "geography'LINESTRING(7 51, 9 53)'",
  "geography'POLYGON((7.5 51.5, 7.5 53.5, 8.5 53.5, 8.5 51.5, 7.5 51.5))'", "geography'MULTIPOINT((8 51), (8 54))'", "'T********'",
];
const JUNK = ['(', ')', ',', '/', "'", '"', ';', '=', '&', '$', '%', '%00', '\u0000', '\u202e', '😀', '\\', '*', '#', '[0]', '$it', 'any(x:', '@iot.id', 'geography\'', "duration'", 'POINT(', '--', '/*', "'; drop table readings; --", 'E', '.', '+', ' '];

function generate(r: () => number, props: string[], depth = 0): string {
  const pick = <T>(xs: T[]): T => xs[Math.floor(r() * xs.length)]!;
  const roll = r();
  if (depth > 3 || roll < 0.25) return r() < 0.5 ? pick(props) : pick(LITERALS);
  if (roll < 0.55) return `${generate(r, props, depth + 1)} ${pick(OPS)} ${generate(r, props, depth + 1)}`;
  if (roll < 0.65) return `not ${generate(r, props, depth + 1)}`;
  if (roll < 0.75) return `(${generate(r, props, depth + 1)})`;
  const f = pick(FUNCTIONS);
  const n = f.startsWith('st_relate') ? 3 : ['now', 'mindatetime', 'maxdatetime'].includes(f) ? 0 : Math.floor(r() * 3) + 1;
  return `${f}(${Array.from({ length: n }, () => generate(r, props, depth + 1)).join(', ')})`;
}

function mutate(r: () => number, text: string): string {
  const pick = <T>(xs: T[]): T => xs[Math.floor(r() * xs.length)]!;
  let s = text;
  const n = Math.floor(r() * 4);
  for (let i = 0; i < n; i++) {
    const at = Math.floor(r() * (s.length + 1));
    switch (Math.floor(r() * 6)) {
      case 0: s = s.slice(0, at) + s.slice(at + 1); break;
      case 1: s = s.slice(0, at) + s[at] + s.slice(at); break;
      case 2: s = s.slice(0, at) + pick(JUNK) + s.slice(at); break;
      case 3: s = s.slice(0, at); break;
      case 4: s = s.slice(0, at) + pick(OPS) + ' ' + s.slice(at); break;
      default: s = s.slice(0, at) + pick(LITERALS) + s.slice(at);
    }
  }
  return s;
}

/** Percent-encodes the UTF-8 bytes of `value` (a lone surrogate becomes U+FFFD, as a browser sends it). */
function pct(value: string): string {
  return [...Buffer.from(value, 'utf8')].map((b) => (/[A-Za-z0-9_.~-]/.test(String.fromCharCode(b)) ? String.fromCharCode(b) : `%${b.toString(16).toUpperCase().padStart(2, '0')}`)).join('');
}

let f: StaFixture;
beforeAll(async () => {
  f = await startStaFixture();
});
afterAll(async () => {
  await f?.close();
});

describe('fuzzed $filter, $orderby, $select and $expand', () => {
  it('answers 200, 400, 404 or 501 to every one of 1,500 generated and mutated queries, never 500', async () => {
    const r = rng(Number(process.env.STA_FUZZ_SEED ?? 20261204));
    const statuses = new Map<number, number>();
    const failures: string[] = [];
    const sets = Object.keys(SETS);
    for (let i = 0; i < 1500; i++) {
      const set = sets[Math.floor(r() * sets.length)]!;
      const props = SETS[set]!;
      const expression = r() < 0.5 ? generate(r, props) : VALID[set]![Math.floor(r() * VALID[set]!.length)]!;
      const text = r() < 0.5 ? mutate(r, expression) : expression;
      const option = r() < 0.7 ? '$filter' : r() < 0.5 ? '$orderby' : r() < 0.5 ? '$select' : '$expand';
      const value = option === '$expand' ? `Datastreams($filter=${text};$top=2)` : option === '$select' ? text.replace(/ /g, ',') : text;
      const path = option === '$expand' ? 'Things' : set;
      // Now and then a raw '%' that starts no valid escape.
      const url = `/sta/v1.1/${path}?${option}=${pct(value).replace(/%25/g, r() < 0.1 ? '%' : '%25')}&$top=5`;
      const res = await f.app.inject({ method: 'GET', url });
      statuses.set(res.statusCode, (statuses.get(res.statusCode) ?? 0) + 1);
      if (![200, 400, 404, 501].includes(res.statusCode)) {
        failures.push(`${res.statusCode} ${url}\n  ${res.body.slice(0, 300)}`);
        continue;
      }
      if (res.statusCode === 400) {
        const body = JSON.parse(res.body) as { error: string; message: string; option?: string; position?: number };
        expect(body.error).toBe('Bad Request');
        expect(body.message.length).toBeGreaterThan(0);
        if (body.option === '$filter' && option === '$filter' && body.position !== undefined) {
          expect(body.position, url).toBeGreaterThanOrEqual(0);
          expect(body.position, url).toBeLessThanOrEqual(value.length + 1);
        }
      }
    }
    expect(failures, failures.join('\n')).toEqual([]);
    // The corpus exercises both sides: plenty of valid queries and plenty of errors.
    expect(statuses.get(200) ?? 0, JSON.stringify([...statuses])).toBeGreaterThan(300);
    expect(statuses.get(400) ?? 0, JSON.stringify([...statuses])).toBeGreaterThan(300);
    expect((await f.get('Things')).status).toBe(200);
  }, 600_000);

  it('answers 400 to oversized and deeply nested options, and 414-free long URLs stay bounded', async () => {
    const huge = `name eq '${'x'.repeat(30_000)}'`;
    expect((await f.get(`Things?$filter=${encodeURIComponent(huge)}`)).status).toBe(400);
    const deep = `${'('.repeat(500)}true${')'.repeat(500)}`;
    expect((await f.get(`Things?$filter=${encodeURIComponent(deep)}`)).status).toBe(400);
    const expand = `Datastreams(${'$expand=Thing('.repeat(20)}${')'.repeat(21)}`;
    expect((await f.get(`Things?$expand=${encodeURIComponent(expand)}`)).status).toBe(400);
    const wide = Array.from({ length: 2000 }, (_, i) => `name eq '${i}'`).join(' or ');
    expect([200, 400]).toContain((await f.get(`Things?$filter=${encodeURIComponent(wide)}`)).status);
  });
});
