/**
 * One bay rule (storage/sql/bay-state.ts) behind every answer that shows or counts parking
 * bays, and what a zone's totals include where:
 *
 *   markt  bays m1 occupied (1), m2 free (0), m3 at the threshold (0.5: occupied),
 *          m4 whose sensor reports a fault (a fresh battery reading, its `occupied` reading
 *          two hours old: unknown), m5 without any reading (unknown); all private.
 *          garage-markt, public: 40 of 120 spaces free.
 *   depot  garage-depot alone, private: 7 of 10 free.
 *
 * /api/v1/open/parking/zones and /api/v1/live/zones add a zone's garages to its bays (what
 * a control desk shows); the SensorThings zone samples count the bays only, since the
 * zone's public garages are Things of their own with free_spaces Datastreams
 * (docs/sensorthings.md): markt's free_spaces is 1, not 41.
 */
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../api/app.js';
import { createApiKey } from '../api/auth.js';
import { sampleZones, selectZoneSites, upsertAsset, upsertDevice, upsertDeviceModel, writeBatch } from '../storage/index.js';
import { catchUpSeries } from '../storage/sta/catalogue.js';
import { datastreamId, thingId, zoneKey } from '../storage/sta/ids.js';
import { city } from './sta-fixture.js';
import { createTestDatabase, testLog, type TestDatabase } from './helpers.js';

const MIN = 60_000;
const STALE_AFTER_S = 3600;
const NOW = Date.now();

let db: TestDatabase;
let app: FastifyInstance;
let operator: string;

const radio = { frequencyHz: null, spreadingFactor: null, bandwidthHz: null, dataRate: null, band: null, receptions: [] };
let uplinks = 0;
/** One uplink of `devEui` at `at` with these readings, written as ingest writes it (latest state too). */
async function uplink(devEui: string, assetId: string, at: number, values: Record<string, number>): Promise<void> {
  const id = `${devEui}-${at}-${uplinks++}`;
  await writeBatch(db.pool, {
    uplinks: [{ id, receivedAt: new Date(at), devEui, fCnt: uplinks, fPort: 11, payload: Buffer.alloc(1), decoded: null, decodeError: null, source: 'chirpstack', radio }],
    readings: Object.entries(values).map(([metric, value]) => ({ time: new Date(at), devEui, metric, channel: '', value, quality: 'ok', assetId, uplinkId: id })),
    healthReadings: [], deadLetters: [],
  });
}

async function get(url: string, role: 'operator' | null = null): Promise<any> {
  const res = await app.inject({ method: 'GET', url, headers: role ? { authorization: `Bearer ${operator}` } : {} });
  expect(res.statusCode, url).toBe(200);
  return JSON.parse(res.body);
}

beforeAll(async () => {
  db = await createTestDatabase();
  await upsertDeviceModel(db.pool, { id: 'park-v1', name: 'Parking sensor', decoderKind: 'builtin', builtinName: 'stadtfunk-parking' });
  const bays: [string, Record<string, number> | null][] = [['m1', { occupied: 1 }], ['m2', { occupied: 0 }], ['m3', { occupied: 0.5 }], ['m4', { battery_voltage: 3.6 }], ['m5', null]];
  for (const [i, [id, values]] of bays.entries()) {
    await upsertAsset(db.pool, { id, kind: 'parking_bay', latitude: 51.22 + i / 1000, longitude: 6.77, zone: 'markt' });
    const devEui = `00000000000000c${i}`;
    await upsertDevice(db.pool, { devEui, modelId: 'park-v1', assetId: id });
    if (id === 'm4') await uplink(devEui, id, NOW - 120 * MIN, { occupied: 0, battery_voltage: 3.7 });
    if (values) await uplink(devEui, id, NOW - MIN, values);
  }
  await upsertAsset(db.pool, { id: 'garage-markt', kind: 'garage', latitude: 51.225, longitude: 6.772, zone: 'markt', isPublic: true, capacity: 120 });
  await upsertDevice(db.pool, { devEui: '00000000000000d1', modelId: 'park-v1', assetId: 'garage-markt' });
  await uplink('00000000000000d1', 'garage-markt', NOW - MIN, { free_spaces: 40, total_spaces: 120 });
  await upsertAsset(db.pool, { id: 'garage-depot', kind: 'garage', latitude: 51.3, longitude: 6.8, zone: 'depot', capacity: 10 });
  await upsertDevice(db.pool, { devEui: '00000000000000d2', modelId: 'park-v1', assetId: 'garage-depot' });
  await uplink('00000000000000d2', 'garage-depot', NOW - MIN, { free_spaces: 7, total_spaces: 10 });
  await catchUpSeries(db.pool);
  await sampleZones(db.pool, { intervalMs: 60_000, staleAfterS: STALE_AFTER_S });
  app = await buildApp({
    pool: db.pool, log: testLog, version: 'test', timescale: db.timescale, openDataRateLimitPerMinute: 1_000_000, city,
    publicUrl: 'https://daten.example.org', parkingStaleAfterS: STALE_AFTER_S,
    status: async () => ({ database: { ok: true, embedded: false, timescale: db.timescale }, broker: { ok: true, embedded: false } }),
  });
  operator = (await createApiKey(db.pool, 'desk', 'operator')).key;
});
afterAll(async () => {
  await app?.close();
  await db?.drop();
});

describe('every answer counts bays by one rule', () => {
  it('each bay: occupied from 0.5, unknown when its occupied reading is stale though another is fresh', async () => {
    const { assets } = await get('/api/v1/live/parking', 'operator');
    const state = Object.fromEntries(assets.map((a: { assetId: string; state: string }) => [a.assetId, a.state]));
    // m5 has no reading at all and so no row in the live view.
    expect(state).toEqual({ m1: 'occupied', m2: 'free', m3: 'occupied', m4: 'unknown', 'garage-depot': 'ok', 'garage-markt': 'ok' });
  });

  it('the zone totals of the control desk, for all zones and for one (two ways to read the bays)', async () => {
    const markt = { zone: 'markt', bays: 5, occupied: 2, free: 1, unknown: 2, garageFree: 40, garageTotal: 120, freeSpaces: 41, totalSpaces: 125 };
    const depot = { zone: 'depot', bays: 0, occupied: 0, free: 0, unknown: 0, garageFree: 7, garageTotal: 10, freeSpaces: 7, totalSpaces: 10 };
    expect((await get('/api/v1/live/zones', 'operator')).zones).toEqual([depot, markt]);
    expect((await get('/api/v1/live/zones?zone=markt', 'operator')).zones).toEqual([markt]);
  });

  it('DATEX II zone sites', async () => {
    const [markt, ...rest] = await selectZoneSites(db.pool, { staleAfterS: STALE_AFTER_S });
    expect(rest).toEqual([]);
    expect(markt).toMatchObject({ zone: 'markt', bays: 5, occupied: 2, free: 1, unknown: 2, readingTime: new Date(NOW - MIN) });
  });

  it('the SensorThings zone sample', async () => {
    const samples = await sampleZones(db.pool, { intervalMs: 60_000, staleAfterS: STALE_AFTER_S });
    expect(samples.map(({ zone, bays, occupied, free, unknown }) => ({ zone, bays, occupied, free, unknown })))
      .toEqual([{ zone: 'markt', bays: 5, occupied: 2, free: 1, unknown: 2 }]);
  });
});

describe("a zone's totals: open data adds its garages, SensorThings counts its bays", () => {
  it('/api/v1/open/parking/zones: bays and garages, public or not', async () => {
    expect((await get('/api/v1/open/parking/zones')).zones).toEqual([
      { zone: 'depot', freeSpaces: 7, totalSpaces: 10, unknown: 0 },
      { zone: 'markt', freeSpaces: 1 + 40, totalSpaces: 5 + 120, unknown: 2 },
    ]);
  });

  it('the zone Thing: the bays alone, and says so; the public garage is a Thing of its own', async () => {
    const raw = "Datastreams($filter=properties/level eq 'raw';$orderby=name;$expand=Observations($top=1;$orderby=phenomenonTime desc))";
    const zone = await get(`/sta/v1.1/Things(${thingId(zoneKey('markt'))})?$expand=${encodeURIComponent(raw)}`);
    expect(zone.properties).toEqual({ kind: 'parking_zone', zone: 'markt', bays: 5, counts: "parking bays only; the zone's garages are Things of their own" });
    expect(zone.Datastreams.map((d: { name: string; Observations: { result: number; parameters: unknown }[] }) => [d.name, d.Observations[0]!.result, d.Observations[0]!.parameters]))
      .toEqual([['free_spaces at Parking zone markt', 1, { occupied: 2, unknown: 2 }], ['total_spaces at Parking zone markt', 5, { occupied: 2, unknown: 2 }]]);
    // The garage's own free_spaces: open data's freeSpaces is the zone's and the garage's.
    const garage = await get(`/sta/v1.1/Datastreams(${datastreamId('raw', 'garage-markt', 'free_spaces', '')})/Observations?$top=1`);
    expect(garage.value.map((o: { result: number }) => o.result)).toEqual([40]);
    // A zone of garages alone has no zone Thing, and a private garage is no Thing anonymous clients see.
    const zones = await get(`/sta/v1.1/Things?$filter=${encodeURIComponent("properties/kind eq 'parking_zone'")}&$select=name`);
    expect(zones.value).toEqual([{ name: 'Parking zone markt' }]);
    const garages = await get(`/sta/v1.1/Things?$filter=${encodeURIComponent("properties/kind eq 'garage'")}&$select=name`);
    expect(garages.value).toEqual([{ name: 'garage-markt' }]);
  });
});
