/**
 * Parking zones as SensorThings Things (issue 21: "Thing = a public asset … parking zone"):
 * every zone with parking bays is a Thing anonymous clients see, at the centroid of its
 * bays, with free_spaces and total_spaces Datastreams whose Observations are the zone's
 * occupancy samples — while the private bays themselves stay hidden.
 *
 *   altstadt  bays a1 (51.2260 6.7730), a2 (51.2264 6.7740), a3 (51.2262 6.7738), private;
 *             lamp-1 (public) stands in the zone too and is no bay
 *   hafen     bay h1 (51.2100 6.7500), private, its reading always stale
 *
 * Samples (interval 60 s, stale after 3600 s) at T0 = 08:00 tomorrow, 08:20, 08:40 and
 * 09:05, the bays' readings changing in between: free_spaces of altstadt 1, 2, 3, 2; total
 * 3. Tomorrow: after the registry made the zones (where a sample's FeatureOfInterest is).
 */
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../api/app.js';
import { createApiKey } from '../api/auth.js';
import { ZoneSampler } from '../api/sta/zone-sampler.js';
import type { StaTransport } from '../api/sta/mqtt-transport.js';
import { sampleZones, upsertAsset, upsertDevice, upsertDeviceModel, writeBatch } from '../storage/index.js';
import { datastreamId, thingId, zoneKey } from '../storage/sta/ids.js';
import { city } from './sta-fixture.js';
import { createTestDatabase, testLog, type TestDatabase } from './helpers.js';

const MIN = 60_000;
const T0 = Math.floor(Date.now() / 86_400_000 + 1) * 86_400_000 + 480 * MIN;
const SAMPLING = { intervalMs: 60_000, staleAfterS: 3600 };
const BAYS: [string, number, number][] = [['bay-a1', 51.226, 6.773], ['bay-a2', 51.2264, 6.774], ['bay-a3', 51.2262, 6.7738]];
const ALTSTADT = thingId(zoneKey('altstadt'));
const HAFEN = thingId(zoneKey('hafen'));
const FREE = datastreamId('raw', 'zone/altstadt', 'free_spaces', '');
const FREE_HOURLY = datastreamId('hour', 'zone/altstadt', 'free_spaces', '');
const TOTAL = datastreamId('raw', 'zone/altstadt', 'total_spaces', '');
const round7 = (x: number): number => Math.round(x * 1e7) / 1e7;
const centroid = (bays: [string, number, number][]): [number, number] =>
  [round7(bays.reduce((s, b) => s + b[2], 0) / bays.length), round7(bays.reduce((s, b) => s + b[1], 0) / bays.length)];

let db: TestDatabase;
let app: FastifyInstance;
let operator: string;

const radio = { frequencyHz: null, spreadingFactor: null, bandwidthHz: null, dataRate: null, band: null, receptions: [] };
/** An `occupied` reading of a bay's sensor, written as ingest writes it (latest state too). */
async function occupied(devEui: string, assetId: string, at: number, value: number): Promise<void> {
  const id = `${devEui}-${at}`;
  await writeBatch(db.pool, {
    uplinks: [{ id, receivedAt: new Date(at), devEui, fCnt: at / MIN, fPort: 10, payload: Buffer.alloc(1), decoded: null, decodeError: null, source: 'chirpstack', radio }],
    readings: [{ time: new Date(at), devEui, metric: 'occupied', channel: '', value, quality: 'ok', assetId, uplinkId: id }],
    healthReadings: [], deadLetters: [],
  });
}

async function get(path: string, role: 'operator' | null = null): Promise<{ status: number; body: any }> {
  const url = path.startsWith('https://daten.example.org') ? path.slice('https://daten.example.org'.length) : `/sta/v1.1/${path}`;
  const res = await app.inject({ method: 'GET', url, headers: role ? { authorization: `Bearer ${operator}` } : {} });
  return { status: res.statusCode, body: res.body ? JSON.parse(res.body) : null };
}
const q = encodeURIComponent;

beforeAll(async () => {
  db = await createTestDatabase();
  await upsertDeviceModel(db.pool, { id: 'park-v1', name: 'Parking sensor', decoderKind: 'builtin', builtinName: 'stadtfunk-parking' });
  for (const [id, lat, lon] of BAYS) await upsertAsset(db.pool, { id, kind: 'parking_bay', latitude: lat, longitude: lon, zone: 'altstadt' });
  await upsertAsset(db.pool, { id: 'bay-h1', kind: 'parking_bay', latitude: 51.21, longitude: 6.75, zone: 'hafen' });
  await upsertAsset(db.pool, { id: 'lamp-1', kind: 'street_lamp', latitude: 51.2, longitude: 6.7, zone: 'altstadt', isPublic: true });
  for (const [i, [id]] of BAYS.entries()) await upsertDevice(db.pool, { devEui: `00000000000000a${i + 1}`, modelId: 'park-v1', assetId: id });
  await upsertDevice(db.pool, { devEui: '00000000000000b1', modelId: 'park-v1', assetId: 'bay-h1' });
  await occupied('00000000000000b1', 'bay-h1', T0 - 180 * MIN, 0);
  await occupied('00000000000000a1', 'bay-a1', T0 - MIN, 1);
  await occupied('00000000000000a2', 'bay-a2', T0 - MIN, 0);
  await sampleZones(db.pool, { ...SAMPLING, at: new Date(T0) });
  await occupied('00000000000000a3', 'bay-a3', T0 + 10 * MIN, 0);
  await sampleZones(db.pool, { ...SAMPLING, at: new Date(T0 + 20 * MIN) });
  await occupied('00000000000000a1', 'bay-a1', T0 + 30 * MIN, 0);
  await sampleZones(db.pool, { ...SAMPLING, at: new Date(T0 + 40 * MIN) });
  // 09:05: a2's reading is 66 minutes old, unknown now.
  await sampleZones(db.pool, { ...SAMPLING, at: new Date(T0 + 65 * MIN) });
  app = await buildApp({
    pool: db.pool, log: testLog, version: 'test', timescale: db.timescale, openDataRateLimitPerMinute: 1_000_000, city,
    publicUrl: 'https://daten.example.org',
    status: async () => ({ database: { ok: true, embedded: false, timescale: db.timescale }, broker: { ok: true, embedded: false } }),
  });
  operator = (await createApiKey(db.pool, 'desk', 'operator')).key;
});
afterAll(async () => {
  await app?.close();
  await db?.drop();
});

describe('a parking zone is a Thing anonymous clients see', () => {
  it('with its name, bay count and the centroid of its bays as Location', async () => {
    const { status, body } = await get(`Things?$filter=${q("properties/kind eq 'parking_zone'")}&$expand=Locations&$count=true&$orderby=name`);
    expect(status).toBe(200);
    expect(body['@iot.count']).toBe(2);
    const [altstadt, hafen] = body.value;
    expect(altstadt['@iot.id']).toBe(ALTSTADT);
    expect(altstadt.name).toBe('Parking zone altstadt');
    expect(altstadt.properties).toEqual({ kind: 'parking_zone', zone: 'altstadt', bays: 3, counts: "parking bays only; the zone's garages are Things of their own" });
    expect(altstadt.Locations).toHaveLength(1);
    expect(altstadt.Locations[0].location).toEqual({ type: 'Point', coordinates: centroid(BAYS) });
    expect(hafen['@iot.id']).toBe(HAFEN);
    expect(hafen.properties.bays).toBe(1);
  });

  it('while the private bays stay hidden from anonymous clients, not from an operator', async () => {
    expect((await get(`Things?$filter=${q("properties/kind eq 'parking_bay'")}`)).body.value).toEqual([]);
    expect((await get(`Things(${thingId('bay-a1')})`)).status).toBe(404);
    expect((await get(`Things?$filter=${q("properties/zone eq 'altstadt'")}&$select=name&$orderby=name`)).body.value.map((t: { name: string }) => t.name))
      .toEqual(['Parking zone altstadt', 'lamp-1']);
    expect((await get(`Things?$filter=${q("properties/kind eq 'parking_bay'")}&$count=true`, 'operator')).body['@iot.count']).toBe(4);
    // A zone's FeatureOfInterest is its centroid, not a bay's position.
    const features = (await get(`FeaturesOfInterest?$filter=${q("properties/assetKind eq 'parking_bay'")}`)).body.value;
    expect(features).toEqual([]);
  });

  it('is found by st_within over its Location', async () => {
    // Around the centroid (6.7736 51.2262), with bay-a3 (6.7738 51.2262) inside too: hidden.
    const box = "geography'POLYGON((6.7733 51.2261, 6.7739 51.2261, 6.7739 51.2263, 6.7733 51.2263, 6.7733 51.2261))'";
    const found = (await get(`Things?$filter=${q(`st_within(Locations/location, ${box})`)}&$select=id`)).body.value;
    expect(found.map((t: { '@iot.id': number }) => t['@iot.id'])).toEqual([ALTSTADT]);
    expect((await get(`Things?$filter=${q(`st_within(Locations/location, ${box})`)}&$count=true`, 'operator')).body['@iot.count']).toBe(2);
    const locations = (await get(`Locations?$filter=${q(`st_within(location, ${box})`)}&$expand=Things($select=name)`)).body.value;
    // The zone's current Location, and an earlier one (the centroid of a1 and a2) that is no Thing's now.
    expect(locations.flatMap((l: { Things: { name: string }[] }) => l.Things.map((t) => t.name))).toEqual(['Parking zone altstadt']);
    expect(locations).toHaveLength(2);
  });
});

describe("a zone's Datastreams and Observations", () => {
  it('has free_spaces and total_spaces, raw, hourly and daily, from the zone totals Sensor', async () => {
    const { body } = await get(`Things(${ALTSTADT})/Datastreams?$expand=Sensor($select=name),ObservedProperty($select=name)&$orderby=name&$count=true`);
    expect(body['@iot.count']).toBe(6);
    expect(body.value.map((d: { name: string }) => d.name)).toEqual([
      'free_spaces at Parking zone altstadt', 'free_spaces at Parking zone altstadt, daily mean', 'free_spaces at Parking zone altstadt, hourly mean',
      'total_spaces at Parking zone altstadt', 'total_spaces at Parking zone altstadt, daily mean', 'total_spaces at Parking zone altstadt, hourly mean',
    ]);
    const free = body.value[0];
    expect(free['@iot.id']).toBe(FREE);
    expect(free.Sensor.name).toBe('stadtfunk zone totals');
    expect(free.ObservedProperty.name).toBe('free_spaces');
    expect(free.unitOfMeasurement.symbol).toBe('{spaces}');
    expect(free.observedArea).toEqual({ type: 'Point', coordinates: centroid(BAYS) });
    expect(free.phenomenonTime).toBe(`${new Date(T0).toISOString()}/${new Date(T0 + 65 * MIN).toISOString()}`);
    const sensors = (await get(`Sensors?$filter=${q("name eq 'stadtfunk zone totals'")}&$expand=Datastreams($count=true;$top=0)`)).body.value;
    expect(sensors).toHaveLength(1);
    expect(sensors[0]['Datastreams@iot.count']).toBe(12);
  });

  it('has the occupancy over time as Observations, in pages, counted and as a data array', async () => {
    const at = (m: number): string => new Date(T0 + m * MIN).toISOString();
    const first = (await get(`Datastreams(${FREE})/Observations?$top=2&$count=true`)).body;
    expect(first['@iot.count']).toBe(4);
    expect(first.value.map((o: { phenomenonTime: string; result: number }) => [o.phenomenonTime, o.result])).toEqual([[at(0), 1], [at(20), 2]]);
    expect(first.value[0].parameters).toEqual({ occupied: 1, unknown: 1 });
    const rest = (await get(first['@iot.nextLink'])).body;
    expect(rest.value.map((o: { phenomenonTime: string; result: number }) => [o.phenomenonTime, o.result])).toEqual([[at(40), 3], [at(65), 2]]);
    expect(rest['@iot.nextLink']).toBeUndefined();
    expect(rest.value[1].parameters).toEqual({ occupied: 0, unknown: 1 });
    const totals = (await get(`Datastreams(${TOTAL})/Observations?$filter=${q(`phenomenonTime ge ${at(20)}`)}&$select=result`)).body.value;
    expect(totals).toEqual([{ result: 3 }, { result: 3 }, { result: 3 }]);
    const array = (await get(`Datastreams(${FREE})/Observations?$resultFormat=dataArray&$select=phenomenonTime,result`)).body.value[0];
    expect(array.components).toEqual(['phenomenonTime', 'result']);
    expect(array.dataArray).toEqual([[at(0), 1], [at(20), 2], [at(40), 3], [at(65), 2]]);
    // By id, and to its FeatureOfInterest: the zone's centroid.
    const id = first.value[0]['@iot.id'];
    expect((await get(`Observations('${id}')`)).body.result).toBe(1);
    expect((await get(`Observations('${id}')/FeatureOfInterest`)).body.feature).toEqual({ type: 'Point', coordinates: centroid(BAYS) });
  });

  it('has hourly means, the same walked newest first and aggregated whole', async () => {
    const hours = (await get(`Datastreams(${FREE_HOURLY})/Observations`)).body.value;
    expect(hours.map((o: { phenomenonTime: string; result: number; parameters: unknown }) => [o.phenomenonTime, o.result, o.parameters])).toEqual([
      [`${new Date(T0).toISOString()}/${new Date(T0 + 60 * MIN).toISOString()}`, 2, { min: 1, max: 3, count: 3 }],
      [`${new Date(T0 + 60 * MIN).toISOString()}/${new Date(T0 + 120 * MIN).toISOString()}`, 2, { min: 2, max: 2, count: 1 }],
    ]);
    const newest = (await get(`Datastreams(${FREE_HOURLY})/Observations?$orderby=phenomenonTime desc&$top=1`)).body.value;
    expect(newest).toEqual([hours[1]]);
    const byResult = (await get(`Datastreams(${FREE_HOURLY})/Observations?$orderby=result,phenomenonTime`)).body.value;
    expect(byResult).toEqual(hours);
    const day = datastreamId('day', 'zone/altstadt', 'free_spaces', '');
    expect((await get(`Datastreams(${day})/Observations`)).body.value.map((o: { result: number }) => o.result)).toEqual([2]);
  });

  it('answers the latest values of every Thing, and Observations filtered across all Datastreams', async () => {
    const expand = q('Datastreams($filter=properties/level eq \'raw\';$orderby=name;$expand=Observations($top=1;$orderby=phenomenonTime desc))');
    const zones = (await get(`Things?$filter=${q("properties/kind eq 'parking_zone'")}&$orderby=name&$expand=${expand}`)).body.value;
    expect(zones[0].Datastreams.map((d: { name: string; Observations: { result: number }[] }) => [d.name, d.Observations[0]!.result]))
      .toEqual([['free_spaces at Parking zone altstadt', 2], ['total_spaces at Parking zone altstadt', 3]]);
    expect(zones[1].Datastreams.map((d: { Observations: { result: number }[] }) => d.Observations[0]!.result)).toEqual([0, 1]);
    const all = (await get(`Observations?$filter=${q("Datastream/Thing/properties/kind eq 'parking_zone' and Datastream/properties/level eq 'raw'")}&$count=true&$top=0`)).body;
    expect(all['@iot.count']).toBe(16);
  });

  it('follows every navigation link of the zone, its Datastreams and their Observations', async () => {
    const seen = new Set<string>();
    const visit = async (link: string, depth: number): Promise<void> => {
      if (seen.has(link) || depth > 3) return;
      seen.add(link);
      const res = await get(link);
      expect(res.status, link).toBe(200);
      const entities = res.body.value ?? [res.body];
      for (const e of entities.slice(0, 3)) {
        expect((await get(e['@iot.selfLink'])).body).toEqual(e);
        for (const [k, v] of Object.entries(e)) if (k.endsWith('@iot.navigationLink')) await visit(v as string, depth + 1);
      }
    };
    await visit(`https://daten.example.org/sta/v1.1/Things(${ALTSTADT})`, 0);
    expect(seen.size).toBeGreaterThan(10);
  });
});

describe('the registry keeps zone Things', () => {
  it('moves the centroid when a bay is added (a HistoricalLocation), and counts it', async () => {
    // Registered one by one, the three bays moved the zone twice.
    expect((await get(`Things(${ALTSTADT})/HistoricalLocations`)).body.value).toHaveLength(3);
    await upsertAsset(db.pool, { id: 'bay-a4', kind: 'parking_bay', latitude: 51.2270, longitude: 6.7750, zone: 'altstadt' });
    const zone = (await get(`Things(${ALTSTADT})?$expand=Locations,HistoricalLocations($orderby=time)`)).body;
    expect(zone.properties.bays).toBe(4);
    expect(zone.Locations[0].location.coordinates).toEqual(centroid([...BAYS, ['bay-a4', 51.227, 6.775]]));
    expect(zone.HistoricalLocations).toHaveLength(4);
    // Renaming a bay moves nothing.
    await db.pool.query(`update assets set name = 'Bay four', notes = 'x' where id = 'bay-a4'`);
    expect((await get(`Things(${ALTSTADT})/HistoricalLocations`)).body.value).toHaveLength(4);
  });

  it('keeps a zone whose last bay is decommissioned, marked so', async () => {
    await db.pool.query(`update assets set decommissioned_at = now() where id = 'bay-h1'`);
    const hafen = (await get(`Things(${HAFEN})`)).body;
    expect(hafen.properties.bays).toBe(0);
    expect(hafen.properties.decommissionedAt).toBeDefined();
    expect((await get(`Things(${HAFEN})/Locations`)).body.value).toHaveLength(1);
  });

  it('computes the zones of an import of thousands of bays in one statement', async () => {
    await db.pool.query(`insert into assets (id, kind, latitude, longitude, zone)
      select 'bulk-' || g, 'parking_bay', 51.3 + (g % 10) * 0.001, 6.8, 'bulk-' || (g % 4) from generate_series(1, 4000) g`);
    const { rows } = await db.pool.query<{ key: string; bays: number }>(`select key, bays from sta_things where kind = 'parking_zone' and key like 'zone/bulk-%' order by key`);
    expect(rows).toEqual([0, 1, 2, 3].map((z) => ({ key: `zone/bulk-${z}`, bays: 1000 })));
    const moved = await db.pool.query(`update assets set longitude = 6.9 where id like 'bulk-%'`);
    expect(moved.rowCount).toBe(4000);
    const { rows: history } = await db.pool.query<{ n: number }>(`select count(*)::int as n from asset_locations where asset_id = 'zone/bulk-0'`);
    expect(history[0]!.n).toBe(2);
    // The zone's running sums: the bays left their old position, the count is the same.
    const { rows: after } = await db.pool.query<{ bays: number; longitude: number }>(`select bays, longitude from sta_things where key = 'zone/bulk-0'`);
    expect(after).toEqual([{ bays: 1000, longitude: 6.9 }]);
    // Moved to another zone in one statement: out of one, into the other.
    await db.pool.query(`update assets set zone = 'bulk-9' where zone = 'bulk-3'`);
    const { rows: moved9 } = await db.pool.query<{ key: string; bays: number; decommissioned: boolean }>(
      `select key, bays, decommissioned_at is not null as decommissioned from sta_things where key in ('zone/bulk-3', 'zone/bulk-9') order by key`);
    expect(moved9).toEqual([{ key: 'zone/bulk-3', bays: 0, decommissioned: true }, { key: 'zone/bulk-9', bays: 1000, decommissioned: false }]);
  });
});

describe('the sampler', () => {
  it('never doubles a sample: two instances, or one restarted, in one interval write it once', async () => {
    const at = new Date(T0 + 24 * 60 * MIN);
    const [a, b] = await Promise.all([sampleZones(db.pool, { ...SAMPLING, at }), sampleZones(db.pool, { ...SAMPLING, at })]);
    const zones = a.length;
    expect(zones).toBeGreaterThan(2);
    expect(a.filter((s) => s.written).length + b.filter((s) => s.written).length).toBe(zones);
    // A restart later in the same interval.
    const again = await sampleZones(db.pool, { ...SAMPLING, at: new Date(at.getTime() + 30_000) });
    expect(again.filter((s) => s.written)).toEqual([]);
    const { rows } = await db.pool.query<{ n: number }>('select count(*)::int as n from zone_occupancy_samples where time = $1', [at]);
    expect(rows[0]!.n).toBe(zones);
    const { rows: series } = await db.pool.query<{ n: number }>(`select count(*)::int as n from sta_datastreams where asset_id = 'zone/altstadt'`);
    expect(series[0]!.n).toBe(6);
  });

  it('publishes what it wrote over MQTT as GET answers it, and counts a failed run', async () => {
    const sent: [string, string][] = [];
    const transport: StaTransport = {
      kind: 'external', version: () => 0, interested: (topic) => topic.startsWith('v1.1/Datastreams('), selectVariants: () => [],
      publish: (topic, payload) => void sent.push([topic, payload]), publishObservation: () => undefined, flush: () => undefined, close: async () => undefined,
    };
    const links = { base: 'https://daten.example.org/sta/v1.1', licence: { id: 'dl-de/by-2-0', name: 'x', url: 'y' }, attribution: 'z' };
    const one = new ZoneSampler({ pool: db.pool, log: testLog, intervalMs: 3_600_000, staleAfterS: 3600, transport, links });
    const two = new ZoneSampler({ pool: db.pool, log: testLog, intervalMs: 3_600_000, staleAfterS: 3600, transport, links });
    const written = (await one.sample()).filter((s) => s.written);
    expect(written.length).toBeGreaterThan(0);
    expect((await two.sample()).filter((s) => s.written)).toEqual([]);
    const free = sent.find(([topic]) => topic === `v1.1/Datastreams(${FREE})/Observations`);
    expect(free).toBeDefined();
    const message = JSON.parse(free![1]);
    const rest = await get(`Observations('${message['@iot.id']}')`);
    expect(rest.status).toBe(200);
    // GET is built with the app's own licence; the Observation itself is the same.
    expect(message).toEqual(rest.body);
    expect(sent).toHaveLength(written.length * 2);

    const { register } = await import('prom-client');
    const failures = async (): Promise<number> => (await register.getSingleMetric('stadtfunk_sta_zone_sample_failures_total')!.get()).values[0]?.value ?? 0;
    const before = await failures();
    const broken = { query: async () => { throw new Error('database away'); } } as unknown as typeof db.pool;
    const failing = new ZoneSampler({ pool: broken, log: testLog, intervalMs: 3_600_000, staleAfterS: 3600, transport, links });
    failing.start();
    await failing.stop();
    expect(await failures()).toBe(before + 1);
  });
});
