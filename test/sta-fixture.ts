/**
 * A small city for the SensorThings tests, written the way ingest writes (writeBatch:
 * uplinks, readings, latest state) and registered the way the service registers series:
 *
 *   lamp-1  public street lamp (51.2262, 6.7737), zone altstadt, device a1 (air-v1):
 *           pm2_5, temperature and rssi every 10 minutes for two days from T0
 *   lamp-2  public street lamp, device a2: pm2_5 (one value out of range) for one day;
 *           moved once (two HistoricalLocations)
 *   lamp-3  private street lamp, device a3: pm2_5 for one day
 *   bay-1   private parking bay, device p1: occupied
 *   site-1  public traffic counting site, device c1: vehicle_count on two lane channels
 *   gauge-1 public water gauge without a device
 *   geo-0…3 public lamps at (8 51) … (8 54), one pm2_5 reading each (1…4), a day apart
 *   zone/altstadt  the parking zone of bay-1 (a Thing anonymous clients see), at bay-1's
 *           position; no Datastreams until its occupancy is sampled (test/sta-zones.test.ts)
 *
 * Anonymous counts: 9 Things, 10 Locations and HistoricalLocations and FeaturesOfInterest,
 * 27 Datastreams, 2 Sensors, 3 ObservedProperties, 1195 Observations (1012 readings,
 * 172 hourly and 11 daily buckets): COUNTS.
 */
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../api/app.js';
import { createApiKey, type Role } from '../api/auth.js';
import { loadCityProfile } from '../city-profile.js';
import { upsertAsset, upsertDevice, upsertDeviceModel, writeBatch, type ReadingRow, type UplinkRow } from '../storage/index.js';
import { catchUpSeries } from '../storage/sta/catalogue.js';
import { createTestDatabase, testLog, type TestDatabase } from './helpers.js';

export const T0 = Date.UTC(2026, 9, 1);

/** What an anonymous client sees, counted from the fixture's own definition. */
export const COUNTS: Record<string, number> = {
  Things: 9, Locations: 10, HistoricalLocations: 10, FeaturesOfInterest: 10, Datastreams: 27, Sensors: 2, ObservedProperties: 3,
  // readings 288·2 + 144 + 144·2 + 4, hours 48·2 + 24 + 24·2 + 4, days 2·2 + 1 + 1·2 + 4
  Observations: 1012 + 172 + 11,
};
export const STEP_MS = 600_000;
export const city = loadCityProfile({ CITY_NAME: 'Köln', CITY_PUBLISHER: 'Stadt Köln', CITY_CONTACT_EMAIL: 'opendata@stadt-koeln.de', CITY_ARS: '053150000000' });

export interface StaFixture {
  db: TestDatabase;
  app: FastifyInstance;
  keys: Record<Role, string>;
  /** GET a path under /sta/v1.1 (or an absolute URL this app made) as `role` (null: anonymous). */
  get(path: string, role?: Role | null): Promise<{ status: number; body: any; text: string; headers: Record<string, unknown> }>;
  close(): Promise<void>;
}

const radio = { frequencyHz: null, spreadingFactor: null, bandwidthHz: null, dataRate: null, band: null, receptions: [] };

/** Readings of one device every 10 minutes: `values(i)` gives [metric, channel, value][] of step i. */
function series(devEui: string, assetId: string, steps: number, values: (i: number) => [string, string, number][], from = T0): { uplinks: UplinkRow[]; readings: ReadingRow[] } {
  const uplinks: UplinkRow[] = [];
  const readings: ReadingRow[] = [];
  for (let i = 0; i < steps; i++) {
    const time = new Date(from + i * STEP_MS);
    const id = `${devEui}-${from}-${i}`;
    uplinks.push({ id, receivedAt: time, devEui, fCnt: i, fPort: 10, payload: Buffer.alloc(1), decoded: null, decodeError: null, source: 'chirpstack', radio });
    for (const [metric, channel, value] of values(i)) {
      readings.push({ time, devEui, metric, channel, value, quality: metric === 'pm2_5' && value > 1000 ? 'out_of_range' : 'ok', assetId, uplinkId: id });
    }
  }
  return { uplinks, readings };
}

export async function seedCity(db: TestDatabase): Promise<void> {
  const pool = db.pool;
  await upsertDeviceModel(pool, { id: 'air-v1', name: 'Air quality sensor', decoderKind: 'builtin', builtinName: 'stadtfunk-air' });
  await upsertDeviceModel(pool, { id: 'park-v1', name: 'Parking sensor', decoderKind: 'builtin', builtinName: 'stadtfunk-parking' });
  await upsertDeviceModel(pool, { id: 'traffic-v1', name: 'Traffic counter', decoderKind: 'builtin', builtinName: 'stadtfunk-traffic' });
  await upsertAsset(pool, { id: 'lamp-1', kind: 'street_lamp', name: 'Lamp at the Rhine', latitude: 51.2262, longitude: 6.7737, zone: 'altstadt', isPublic: true, notes: 'ladder needed' });
  await upsertAsset(pool, { id: 'lamp-2', kind: 'street_lamp', latitude: 51.23, longitude: 6.78, zone: 'north', isPublic: true });
  await upsertAsset(pool, { id: 'lamp-3', kind: 'street_lamp', latitude: 51.25, longitude: 6.8, zone: 'north', isPublic: false });
  await upsertAsset(pool, { id: 'bay-1', kind: 'parking_bay', latitude: 51.2263, longitude: 6.7738, zone: 'altstadt', isPublic: false });
  await upsertAsset(pool, { id: 'site-1', kind: 'traffic_site', latitude: 51.24, longitude: 6.79, zone: 'north', isPublic: true });
  // A gauge with no device yet (a Thing without Datastreams), and four lamps where
  // FROST-Server.Tests' GeoTests put its points: (8 51), (8 52), (8 53), (8 54).
  await upsertAsset(pool, { id: 'gauge-1', kind: 'water_gauge', latitude: 51.21, longitude: 6.76, zone: 'rhine', isPublic: true });
  for (let i = 0; i < 4; i++) await upsertAsset(pool, { id: `geo-${i}`, kind: 'street_lamp', latitude: 51 + i, longitude: 8, zone: 'geo', isPublic: true });
  // lamp-2 is moved: its first position becomes a HistoricalLocation.
  await pool.query(`update assets set created_at = $1 where true`, [new Date(T0 - 86_400_000)]);
  await pool.query(`update asset_locations set since = $1, historical_location_id = sta_id('HistoricalLocation/' || asset_id || '/' || (extract(epoch from $1::timestamptz) * 1000000)::bigint)`, [new Date(T0 - 86_400_000)]);
  await upsertAsset(pool, { id: 'lamp-2', kind: 'street_lamp', latitude: 51.231, longitude: 6.781, zone: 'north', isPublic: true });
  // …half-way through its readings.
  await pool.query(`update asset_locations set since = $1, historical_location_id = sta_id('HistoricalLocation/lamp-2/' || (extract(epoch from $1::timestamptz) * 1000000)::bigint)
    where asset_id = 'lamp-2' and since > $2`, [new Date(T0 + 12 * 3_600_000), new Date(T0)]);
  await upsertDevice(pool, { devEui: '00000000000000a1', modelId: 'air-v1', assetId: 'lamp-1' });
  await upsertDevice(pool, { devEui: '00000000000000a2', modelId: 'air-v1', assetId: 'lamp-2' });
  await upsertDevice(pool, { devEui: '00000000000000a3', modelId: 'air-v1', assetId: 'lamp-3' });
  await upsertDevice(pool, { devEui: '00000000000000b1', modelId: 'park-v1', assetId: 'bay-1' });
  await upsertDevice(pool, { devEui: '00000000000000c1', modelId: 'traffic-v1', assetId: 'site-1' });
  for (let i = 0; i < 4; i++) await upsertDevice(pool, { devEui: `00000000000000d${i}`, modelId: 'air-v1', assetId: `geo-${i}` });
  const parts = [
    series('00000000000000a1', 'lamp-1', 288, (i) => [['pm2_5', '', i % 50], ['temperature', '', 10 + (i % 10)], ['rssi', '', -90]]),
    series('00000000000000a2', 'lamp-2', 144, (i) => [['pm2_5', '', i === 7 ? 5000 : i % 30]]),
    series('00000000000000a3', 'lamp-3', 144, (i) => [['pm2_5', '', 3]]),
    series('00000000000000b1', 'bay-1', 144, (i) => [['occupied', '', i % 2]]),
    series('00000000000000c1', 'site-1', 144, (i) => [['vehicle_count', 'lane=1;direction=in;class=car', i % 7], ['vehicle_count', 'lane=2;direction=out;class=car', i % 5]]),
    ...[0, 1, 2, 3].map((g) => series(`00000000000000d${g}`, `geo-${g}`, 1, () => [['pm2_5', '', g + 1]], T0 + g * 86_400_000)),
  ];
  await writeBatch(pool, { uplinks: parts.flatMap((p) => p.uplinks), readings: parts.flatMap((p) => p.readings), healthReadings: [], deadLetters: [] });
  await catchUpSeries(pool);
  if (db.timescale) {
    await pool.query(`call refresh_continuous_aggregate('readings_hourly', null, null)`);
    await pool.query(`call refresh_continuous_aggregate('readings_daily', null, null)`);
  }
}

export async function startStaFixture(): Promise<StaFixture> {
  const db = await createTestDatabase();
  await seedCity(db);
  const app = await buildApp({
    pool: db.pool, log: testLog, version: 'test', timescale: db.timescale, openDataRateLimitPerMinute: 1_000_000, city,
    publicUrl: 'https://daten.example.org',
    status: async () => ({ database: { ok: true, embedded: false, timescale: db.timescale }, broker: { ok: true, embedded: false } }),
  });
  const keys = {} as Record<Role, string>;
  for (const role of ['admin', 'technician', 'operator'] as const) keys[role] = (await createApiKey(db.pool, `${role} key`, role)).key;
  return {
    db, app, keys,
    async get(path, role = null) {
      const url = path.startsWith('https://daten.example.org') ? path.slice('https://daten.example.org'.length) : path.startsWith('/sta/') ? path : `/sta/v1.1${path.startsWith('/') ? '' : '/'}${path}`;
      const res = await app.inject({ method: 'GET', url, headers: role ? { authorization: `Bearer ${keys[role]}` } : {} });
      let body: unknown = null;
      try {
        body = res.body ? JSON.parse(res.body) : null;
      } catch {
        body = null;
      }
      return { status: res.statusCode, body, text: res.body, headers: res.headers };
    },
    async close() {
      await app.close();
      await db.drop();
    },
  };
}
