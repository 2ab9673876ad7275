/**
 * The $filter language of OGC 18-088 §9.3.3.5 (comparison, logical, arithmetic, string,
 * date/time, math and geospatial functions) against a real database. Ported from
 * FROST-Server.Tests c03filtering: FilterTests (navigation, substring, null), DateTimeTests
 * (instants and intervals), GeoTests (with points, as every position here is one: the
 * expectations are the suite's for its point Locations 0–3 at (8 51) … (8 54)) and
 * JsonPropertiesTests (paths into properties and parameters). Expected sets come from the
 * fixture's definition (sta-fixture.ts) or, for times, from the rules DateTimeTests encodes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { COUNTS, startStaFixture, STEP_MS, T0, type StaFixture } from './sta-fixture.js';

let f: StaFixture;
beforeAll(async () => {
  f = await startStaFixture();
});
afterAll(async () => {
  await f?.close();
});

async function filter(path: string, expression: string, select = 'name'): Promise<any[]> {
  const res = await f.get(`${path}?$top=2000&$filter=${encodeURIComponent(expression)}${select ? `&$select=${select}` : ''}`);
  expect(res.status, `${path} $filter=${expression}: ${res.text.slice(0, 300)}`).toBe(200);
  return res.body.value;
}
const names = async (path: string, expression: string): Promise<string[]> => (await filter(path, expression)).map((e) => e.name).sort();

describe('navigation, substring and null (FilterTests)', () => {
  it('filters through navigation (testIndirectFilter, testDeepIndirection)', async () => {
    expect(await names('Things', "Locations/name eq 'geo-1'")).toEqual(['geo-1']);
    expect(await names('Things', "startswith(HistoricalLocations/Locations/name, 'lamp-')")).toEqual(['lamp-2']);
    expect(await names('ObservedProperties', "Datastreams/Thing/Datastreams/ObservedProperty/name eq 'PM2.5'")).toEqual(['Air temperature', 'PM2.5']);
    expect(await names('ObservedProperties', "Datastreams/Thing/Datastreams/ObservedProperty/name eq 'vehicle_count'")).toEqual(['vehicle_count']);
    expect(await names('Datastreams', "Thing/name eq 'site-1' and properties/level eq 'raw'")).toHaveLength(2);
  });

  it('takes substrings of properties and of JSON values (testSubString)', async () => {
    expect(await names('Things', "substring(properties/zone, 1) eq 'orth'")).toEqual(['lamp-2', 'site-1']);
    expect(await names('Things', "substring(properties/zone, 1, 2) eq 'or'")).toEqual(['lamp-2', 'site-1']);
    expect(await names('Things', "substring(name, 4) eq '-2'")).toEqual(['lamp-2']);
    expect(await names('Things', "substring(name, 4, 2) eq '-2'")).toEqual(['lamp-2']);
  });

  it('tests null, also where a navigation finds nothing (testEqualsNull, testNotEqualsNull)', async () => {
    expect(await names('Things', 'properties/capacity eq null')).toHaveLength(COUNTS.Things!);
    // The gauge has no device; the parking zone's occupancy was never sampled.
    expect(await names('Things', 'Datastreams/id eq null')).toEqual(['Parking zone altstadt', 'gauge-1']);
    expect(await names('Things', 'Datastreams/id ne null')).toHaveLength(COUNTS.Things! - 2);
    expect(await filter('Observations', 'resultTime eq null', 'phenomenonTime')).toHaveLength(172 + 11);
  });

  it('answers 204 for a property without value (testNullEntityProperty)', async () => {
    const raw = (await filter('Observations', 'resultTime ne null', 'id'))[0]['@iot.id'];
    expect((await f.get(`Observations('${raw}')/parameters`)).status).toBe(204);
    expect((await f.get(`Observations('${raw}')/parameters/$value`)).status).toBe(204);
  });

  it('compares resultQuality (testStringResultQualityValue)', async () => {
    const flagged = await filter('Observations', "resultQuality eq 'out_of_range'", 'result,resultQuality');
    expect(flagged).toEqual([{ result: 5000, resultQuality: 'out_of_range' }]);
  });
});

describe('JSON properties (JsonPropertiesTests)', () => {
  it('reads paths into properties and parameters, by type', async () => {
    expect(await names('Things', "properties/kind eq 'street_lamp'")).toHaveLength(6);
    expect(await filter('Datastreams', "properties/level eq 'hour'")).toHaveLength(9);
    const peaks = await filter('Observations', 'parameters/max ge 49 and parameters/count eq 6', 'result,parameters');
    expect(peaks.length).toBeGreaterThan(0);
    for (const p of peaks) expect(p.parameters).toMatchObject({ count: 6, max: expect.any(Number) });
    for (const p of peaks) expect(p.parameters.max).toBeGreaterThanOrEqual(49);
    expect(await names('Things', "properties/kind eq 42")).toEqual([]);
    expect(await names('Things', "properties/nothing/deeper eq 'x'")).toEqual([]);
  });
});

describe('functions (OGC 18-088 Table 28)', () => {
  it('string functions', async () => {
    expect(await names('Things', "substringof('amp-', name)")).toEqual(['lamp-2']);
    expect(await names('Things', "endswith(name, '-3')")).toEqual(['geo-3']);
    expect(await names('Things', "startswith(name, 'geo') and length(name) eq 5")).toEqual(['geo-0', 'geo-1', 'geo-2', 'geo-3']);
    expect(await names('Things', "indexof(name, 'Rhine') eq 12")).toEqual(['Lamp at the Rhine']);
    expect(await names('Things', "tolower(name) eq 'lamp at the rhine' and toupper(name) eq 'LAMP AT THE RHINE'")).toEqual(['Lamp at the Rhine']);
    expect(await names('Things', "trim(concat(' ', name)) eq 'site-1' and concat(name, '!') eq 'site-1!'")).toEqual(['site-1']);
  });

  it('date and time functions, durations and now()', async () => {
    const at = (i: number): string => new Date(T0 + i * STEP_MS).toISOString();
    const lamp = await filter('Observations', "Datastream/name eq 'pm2_5 at Lamp at the Rhine' and hour(phenomenonTime) eq 3 and day(phenomenonTime) eq 2 and month(phenomenonTime) eq 10 and year(phenomenonTime) eq 2026", 'phenomenonTime');
    expect(lamp.map((o) => o.phenomenonTime)).toEqual([144 + 18, 144 + 19, 144 + 20, 144 + 21, 144 + 22, 144 + 23].map(at));
    expect(await filter('Observations', "Datastream/name eq 'pm2_5 at Lamp at the Rhine' and minute(phenomenonTime) eq 10 and second(phenomenonTime) eq 0 and fractionalseconds(phenomenonTime) eq 0", 'phenomenonTime')).toHaveLength(48);
    expect(await filter('Observations', `Datastream/name eq 'pm2_5 at Lamp at the Rhine' and date(phenomenonTime) eq 2026-10-02 and time(phenomenonTime) lt 01:00:00`, 'phenomenonTime')).toHaveLength(6);
    expect(await filter('Observations', `phenomenonTime ge 2026-10-02T00:00:00Z sub duration'PT10M' and phenomenonTime lt 2026-10-02T00:00:00Z and Datastream/name eq 'pm2_5 at Lamp at the Rhine'`, 'phenomenonTime')).toHaveLength(1);
    expect(await filter('Observations', 'phenomenonTime gt now()', 'phenomenonTime')).toEqual([]);
    expect(await filter('Observations', 'phenomenonTime gt mindatetime() and phenomenonTime lt maxdatetime()', 'phenomenonTime')).toHaveLength(COUNTS.Observations!);
    // A literal keeps its offset: 2026-10-01T01:30:00+02:00 is 23:30 UTC the day before.
    expect(await names('Things', "totaloffsetminutes(2026-10-01T01:30:00+02:00) eq 120 and hour(2026-10-01T01:30:00+02:00) eq 1 and name eq 'site-1'")).toEqual(['site-1']);
    // A + decoded to a space by form decoding still reads as an offset.
    expect((await f.get(`Things?$filter=${encodeURIComponent('totaloffsetminutes(2026-10-01T01:30:00 02:00) eq 120')}&$select=name`)).body.value).toHaveLength(COUNTS.Things!);
  });

  it('math functions and division by zero', async () => {
    const rounds = await filter('Observations', "Datastream/name eq 'pm2_5 at lamp-2, hourly mean' and round(result) eq 3 and floor(result) eq 2 and ceiling(result) eq 3", 'result');
    // lamp-2 holds i % 30 at step i: hours 0, 5, 10, 15 and 20 average 0…5 to 2.5, which
    // rounds half away from zero to 3.
    expect(rounds.map((o) => o.result)).toEqual([2.5, 2.5, 2.5, 2.5, 2.5]);
    expect(await filter('Observations', 'result div 0 eq 1', 'result')).toEqual([]);
    expect(await filter('Observations', "result mod 0 eq 1", 'result')).toEqual([]);
  });
});

/**
 * The comparisons of FROST-Server.Tests c03filtering/DateTimeTests, for an instant t or an
 * interval [s, e) on the left, and an instant T or an interval [a, b) on the right.
 */
function frostTime(op: string, x: { s: number; e: number; interval: boolean }, y: { s: number; e: number; interval: boolean }): boolean {
  switch (op) {
    case 'lt': return x.interval ? x.e <= y.s : x.s < y.s;
    case 'gt': return y.interval ? y.e <= x.s : y.s < x.s;
    case 'le': return x.interval || y.interval ? x.s <= y.s && x.e <= y.e : x.s <= y.s;
    case 'ge': return x.interval || y.interval ? x.s >= y.s && x.e >= y.e : x.s >= y.s;
    case 'eq': return x.interval === y.interval && x.s === y.s && x.e === y.e;
    default: throw new Error(op);
  }
}

describe('instants and intervals (DateTimeTests: lt, gt, le, ge, eq)', () => {
  const T7 = T0 + 7 * 3_600_000;
  const I78 = { s: T7, e: T7 + 3_600_000, interval: true };
  const literals: [string, { s: number; e: number; interval: boolean }][] = [
    [new Date(T7).toISOString(), { s: T7, e: T7, interval: false }],
    [`${new Date(I78.s).toISOString()}/${new Date(I78.e).toISOString()}`, I78],
  ];
  for (const level of ['raw', 'hour', 'day'] as const) {
    it(`${level} Observations of a Datastream against an instant and an interval, both ways round`, async () => {
      const ds = (await filter('Datastreams', `Thing/name eq 'Lamp at the Rhine' and properties/metric eq 'pm2_5' and properties/level eq '${level}'`, 'id'))[0]['@iot.id'];
      const all = (await f.get(`Datastreams(${ds})/Observations?$top=1000&$select=phenomenonTime`)).body.value.map((o: { phenomenonTime: string }) => o.phenomenonTime) as string[];
      const parse = (t: string) => {
        const [a, b] = t.split('/');
        return { s: Date.parse(a!), e: Date.parse(b ?? a!), interval: b !== undefined };
      };
      for (const op of ['lt', 'gt', 'le', 'ge', 'eq']) {
        for (const [text, value] of literals) {
          const got = (await filter(`Datastreams(${ds})/Observations`, `phenomenonTime ${op} ${text}`, 'phenomenonTime')).map((o) => o.phenomenonTime);
          expect(got, `phenomenonTime ${op} ${text}`).toEqual(all.filter((t) => frostTime(op, parse(t), value)));
          const reversed = (await filter(`Datastreams(${ds})/Observations`, `${text} ${op} phenomenonTime`, 'phenomenonTime')).map((o) => o.phenomenonTime);
          expect(reversed, `${text} ${op} phenomenonTime`).toEqual(all.filter((t) => frostTime(op, value, parse(t))));
        }
      }
    });
  }
});

describe('aggregate Datastreams', () => {
  it('give the same buckets walked newest first, oldest first, and aggregated whole (ordered by result)', async () => {
    for (const level of ['hour', 'day']) {
      const ds = (await filter('Datastreams', `Thing/name eq 'site-1' and properties/level eq '${level}' and properties/channel eq 'lane=1;direction=in;class=car'`, 'id'))[0]['@iot.id'];
      const whole = (await f.get(`Datastreams(${ds})/Observations?$top=1000&$orderby=result,phenomenonTime&$select=phenomenonTime,result,parameters`)).body.value;
      const byTime = [...whole].sort((a, b) => a.phenomenonTime.localeCompare(b.phenomenonTime));
      const asc = (await f.get(`Datastreams(${ds})/Observations?$top=1000&$select=phenomenonTime,result,parameters`)).body.value;
      const desc = (await f.get(`Datastreams(${ds})/Observations?$top=5&$orderby=${encodeURIComponent('phenomenonTime desc')}&$select=phenomenonTime,result,parameters`)).body.value;
      expect(asc).toEqual(byTime);
      expect(desc).toEqual(byTime.slice(-5).reverse());
      // Every bucket's mean is its readings' mean: lane 1 counts i % 7 at step i.
      const first = byTime[0];
      expect(first.parameters.count).toBe(level === 'hour' ? 6 : 144);
    }
  });
});

describe('geospatial functions on points (GeoTests)', () => {
  const P = "geography'POLYGON((7.5 51.5, 7.5 53.5, 8.5 53.5, 8.5 51.5, 7.5 51.5))'";
  const geo = (i: number[]): string[] => i.map((n) => `geo-${n}`);
  const locations = (e: string) => names('Locations', `(${e}) and startswith(name, 'geo-')`);
  const features = (e: string) => names('FeaturesOfInterest', `(${e}) and startswith(name, 'geo-')`);
  const datastreams = async (e: string) => [...new Set((await names('Datastreams', `(${e}) and substringof('geo-', name)`)).map((n) => n.replace(/^pm2_5 at (geo-\d).*$/, '$1')))].sort();
  const observations = async (e: string) => (await filter('Observations', `(${e}) and Datastream/properties/level eq 'raw' and substringof('geo-', Datastream/name)`, 'result')).map((o) => `geo-${o.result - 1}`).sort();

  it('geo.distance (testGeoDistance)', async () => {
    expect(await locations("geo.distance(location, geography'POINT(8 54.1)') lt 1")).toEqual(geo([3]));
    expect(await locations("geo.distance(location, geography'POINT(8 54.1)') gt 1")).toEqual(geo([0, 1, 2]));
    expect(await observations("geo.distance(FeatureOfInterest/feature, geography'POINT(8 54.1)') lt 1")).toEqual(geo([3]));
    expect(await observations("geo.distance(FeatureOfInterest/feature, geography'POINT(8 54.1)') gt 1")).toEqual(geo([0, 1, 2]));
    // Against a line: the distance to its nearest point.
    expect(await locations("geo.distance(location, geography'LINESTRING(7 52.5, 9 52.5)') eq 0.5")).toEqual(geo([1, 2]));
    expect(await locations("geo.distance(location, geography'POLYGON((7 51.5, 9 51.5, 9 52.5, 7 52.5, 7 51.5))') eq 0")).toEqual(geo([1]));
  });

  it('geo.intersects and st_intersects (testGeoIntersects, testStIntersects)', async () => {
    expect(await locations("geo.intersects(location, geography'LINESTRING(7.5 51, 7.5 54)')")).toEqual([]);
    expect(await features("geo.intersects(feature, geography'LINESTRING(7.5 51, 7.5 54)')")).toEqual([]);
    expect(await datastreams(`geo.intersects(observedArea, ${P})`)).toEqual(geo([1, 2]));
    expect(await locations("st_intersects(location, geography'LINESTRING(7.5 51, 7.5 54)')")).toEqual([]);
    expect(await locations("st_intersects(location, geography'LINESTRING(8 50, 8 52)')")).toEqual(geo([0, 1]));
    expect(await datastreams(`st_intersects(observedArea, ${P})`)).toEqual(geo([1, 2]));
  });

  it('geo.length (testGeoLength): a point has length 0', async () => {
    expect(await locations('geo.length(location) gt 1')).toEqual([]);
    expect(await locations('geo.length(location) eq 0')).toEqual(geo([0, 1, 2, 3]));
    expect(await locations('geo.length(location) lt 4')).toEqual(geo([0, 1, 2, 3]));
    expect(await features('geo.length(feature) le 4')).toEqual(geo([0, 1, 2, 3]));
    expect(await locations("geo.length(geography'LINESTRING(5 52, 6 53)') gt 1")).toEqual(geo([0, 1, 2, 3]));
  });

  it('st_contains, st_within, st_crosses, st_disjoint, st_equals, st_overlaps, st_relate, st_touches', async () => {
    expect(await locations(`st_contains(${P}, location)`)).toEqual(geo([1, 2]));
    expect(await observations(`st_contains(${P}, FeatureOfInterest/feature)`)).toEqual(geo([1, 2]));
    expect(await datastreams(`st_contains(${P}, observedArea)`)).toEqual(geo([1, 2]));
    expect(await locations(`st_within(location, ${P})`)).toEqual(geo([1, 2]));
    expect(await locations("st_within(geography'POINT(7.5 52.75)', location)")).toEqual([]);
    expect(await locations("st_within(geography'POINT(8 52)', location)")).toEqual(geo([1]));
    expect(await locations("st_crosses(geography'LINESTRING(7.5 51.5, 7.5 53.5)', location)")).toEqual([]);
    expect(await locations(`st_disjoint(${P}, location)`)).toEqual(geo([0, 3]));
    expect(await features(`st_disjoint(${P}, feature)`)).toEqual(geo([0, 3]));
    expect(await locations("st_equals(location, geography'POINT(8 53)')")).toEqual(geo([2]));
    expect(await features("st_equals(feature, geography'POINT(8 53)')")).toEqual(geo([2]));
    expect(await locations(`st_overlaps(${P}, location)`)).toEqual([]);
    expect(await locations(`st_relate(${P}, location, 'T********')`)).toEqual(geo([1, 2]));
    expect(await locations(`st_relate(location, ${P}, 'FF*******')`)).toEqual(geo([0, 3]));
    expect(await locations("st_touches(geography'POLYGON((8 53, 7.5 54.5, 8.5 54.5, 8 53))', location)")).toEqual(geo([2]));
    expect(await features("st_touches(geography'POLYGON((8 53, 7.5 54.5, 8.5 54.5, 8 53))', feature)")).toEqual(geo([2]));
    expect(await locations(`not st_within(location, ${P})`)).toEqual(geo([0, 3]));
  });

  it('finds Things within a district by their Locations (the city query)', async () => {
    expect(await names('Things', `st_within(Locations/location, ${P})`)).toEqual(geo([1, 2]));
    expect(await names('Things', "st_within(Locations/location, geography'MULTIPOLYGON(((7.9 50.9, 8.1 50.9, 8.1 51.1, 7.9 51.1, 7.9 50.9)), ((7.9 53.9, 8.1 53.9, 8.1 54.1, 7.9 54.1, 7.9 53.9)))')")).toEqual(geo([0, 3]));
    // A polygon with a hole around geo-2.
    expect(await names('Things', "st_within(Locations/location, geography'POLYGON((7 50, 9 50, 9 55, 7 55, 7 50), (7.9 52.9, 8.1 52.9, 8.1 53.1, 7.9 53.1, 7.9 52.9))')")).toEqual(geo([0, 1, 3]));
  });

  it('refuses what it cannot compute with a clear status', async () => {
    const two = await f.get(`Locations?$filter=${encodeURIComponent(`st_overlaps(${P}, geography'LINESTRING(7 52, 9 52)')`)}`);
    expect(two.status).toBe(501);
    expect(two.body.message).toMatch(/not implemented/);
  });
});

describe('errors name the option, position and token', () => {
  const cases: [string, string, number, string | undefined][] = [
    ['Things?$filter=name eq', '$filter', 7, undefined],
    ['Things?$filter=name eqq 1', '$filter', 5, 'eqq'],
    ["Things?$filter=name eq 'x", '$filter', 8, "'x"],
    ['Things?$filter=nope eq 1', '$filter', 0, 'nope'],
    ['Things?$filter=frobnicate(name)', '$filter', 0, 'frobnicate'],
    ['Things?$filter=length(name, name) eq 1', '$filter', 0, 'length'],
    ["Things?$filter=st_within(Locations/location, geography'POLYGON((1 1, 2 2))')", '$filter', 48, '(1 1, 2 2))'],
    ['Things?$orderby=name sideways', '$orderby', 5, 'sideways'],
    ['Things?$expand=Datastreams($top=x)', '$expand', 17, 'x'],
    ['Things?$top=1e3', '$top', 0, '1e3'],
    ['Things?$frobnicate=1', '$frobnicate', 0, '$frobnicate'],
    ['Things?$filter=2026-13-01T00:00:00Z eq name', '$filter', 0, '2026-13-01T00:00:00Z'],
  ];
  for (const [url, option, position, token] of cases) {
    it(`${url} → 400 at ${option}:${position}`, async () => {
      const res = await f.get(url.replace(/\?(.*)$/, (_m, q: string) => `?${q.split('&').map((p) => p.replace(/=(.*)$/, (_x, v: string) => `=${encodeURIComponent(v)}`)).join('&')}`));
      expect(res.status, res.text).toBe(400);
      expect(res.body).toMatchObject({ error: 'Bad Request', option, position });
      if (token !== undefined) expect(res.body.token).toBe(token);
      expect(res.body.message).toContain(option);
    });
  }
});
