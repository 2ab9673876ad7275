/**
 * DATEX II parking feeds against a real database: a city with garages, zones of bays and
 * awkward names; every document the service serves validates against the official
 * DATEX II 2.3 and 3.7 schemas (../shared/standards/datex2, xmllint), and the same check
 * refuses a document that is wrong. Then the HTTP side Mobilithek relies on: gzip,
 * ETag / Last-Modified and 304, and a conditional request that does not touch the database.
 */
import { gunzipSync } from 'node:zlib';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { buildApp } from '../api/app.js';
import { documentBuilds } from '../api/cached-document.js';
import { DATEX_MAX_AGE_MS } from '../api/datex2/routes.js';
import { loadCityProfile } from '../city-profile.js';
import { upsertAsset, upsertDevice, upsertDeviceModel, writeBatch } from '../storage/index.js';
import { createTestDatabase, eventually, testLog, type TestDatabase } from './helpers.js';
import { DATEX2_V2_SCHEMA, DATEX2_V3_SCHEMA, MISSING_STANDARDS, standardsDir, xmllintSchema, xpathString } from './standards.js';

const city = loadCityProfile({ CITY_NAME: 'Düsseldorf', CITY_PUBLISHER: 'Landeshauptstadt Düsseldorf', CITY_DATEX_NATIONAL_ID: 'DE-MDM-Duesseldorf' });
const AWKWARD = 'Parkhaus "Kö-Bogen" & <Süd> – Straße';
const FEEDS = {
  'v2.3/parking-table': DATEX2_V2_SCHEMA, 'v2.3/parking-status': DATEX2_V2_SCHEMA,
  'v3.7/parking-table': DATEX2_V3_SCHEMA, 'v3.7/parking-status': DATEX2_V3_SCHEMA,
} as const;
const el = (name: string): string => `*[local-name()="${name}"]`;

let db: TestDatabase;
let app: FastifyInstance;
let counter = 0;

async function app4(pool: TestDatabase): Promise<FastifyInstance> {
  return buildApp({
    pool: pool.pool, log: testLog, version: 'test', timescale: pool.timescale, openDataRateLimitPerMinute: 100_000, city, parkingStaleAfterS: 1800,
    status: async () => ({ database: { ok: true, embedded: false, timescale: pool.timescale }, broker: { ok: true, embedded: false } }),
  });
}

/** Readings through the writer (uplinks, readings and latest state in one transaction), as ingest stores them. */
async function report(devEui: string, assetId: string, time: Date, values: Record<string, number>): Promise<void> {
  const id = `datex-${counter++}`;
  await writeBatch(db.pool, {
    uplinks: [{ id, receivedAt: time, devEui, fCnt: counter, fPort: 11, payload: Buffer.alloc(1), decoded: null, decodeError: null, source: 'chirpstack', radio: { frequencyHz: null, spreadingFactor: null, bandwidthHz: null, dataRate: null, band: null, receptions: [] } }],
    readings: Object.entries(values).map(([metric, value]) => ({ time, devEui, metric, channel: '', value, quality: 'ok', assetId, uplinkId: id })),
    healthReadings: [], deadLetters: [],
  });
}

const now = Date.now();
const ago = (s: number): Date => new Date(now - s * 1000);

beforeAll(async () => {
  db = await createTestDatabase();
  app = await app4(db);
  await upsertDeviceModel(db.pool, { id: 'parking-v1', name: 'parking', decoderKind: 'builtin', builtinName: 'stadtfunk-parking' });
  const assets: Parameters<typeof upsertAsset>[1][] = [
    { id: 'garage-koe', kind: 'garage', name: AWKWARD, latitude: 51.2254, longitude: 6.7763, zone: 'altstadt', isPublic: true, capacity: 400, attributes: { layout: 'underground' } },
    { id: 'garage-stale', kind: 'garage', name: 'Parkplatz Rheinufer', latitude: 51.2301, longitude: 6.7702, zone: 'rheinufer', isPublic: true },
    { id: 'garage-new', kind: 'garage', name: 'Neubau', latitude: 51.24, longitude: 6.79, isPublic: true, capacity: 80 },
    { id: 'garage-private', kind: 'garage', name: 'Werksgarage', latitude: 51.25, longitude: 6.8, isPublic: false, capacity: 50 },
    { id: 'garage-nowhere', kind: 'garage', name: 'Ohne Ort', isPublic: true, capacity: 10 },
    { id: 'bay-a1', kind: 'parking_bay', latitude: 51.2260, longitude: 6.7740, zone: 'altstadt' },
    { id: 'bay-a2', kind: 'parking_bay', latitude: 51.2262, longitude: 6.7744, zone: 'altstadt', isPublic: true },
    { id: 'bay-a3', kind: 'parking_bay', latitude: 51.2264, longitude: 6.7748, zone: 'altstadt' },
    { id: 'bay-a4', kind: 'parking_bay', latitude: 51.2266, longitude: 6.7752, zone: 'altstadt' },
    { id: 'bay-n1', kind: 'parking_bay', latitude: 51.26, longitude: 6.79, zone: 'nord' },
  ];
  for (const a of assets) await upsertAsset(db.pool, a);
  const devices = ['garage-koe', 'garage-stale', 'garage-private', 'bay-a1', 'bay-a2', 'bay-a3', 'bay-a4'];
  for (const [i, assetId] of devices.entries()) await upsertDevice(db.pool, { devEui: `00000000000d0${String(i).padStart(3, '0')}`, modelId: 'parking-v1', assetId });
  const dev = (assetId: string): string => `00000000000d0${String(devices.indexOf(assetId)).padStart(3, '0')}`;
  await report(dev('garage-koe'), 'garage-koe', ago(60), { free_spaces: 120, total_spaces: 400 });
  await report(dev('garage-stale'), 'garage-stale', ago(7200), { free_spaces: 50, total_spaces: 200 });
  await report(dev('garage-private'), 'garage-private', ago(60), { free_spaces: 5, total_spaces: 50 });
  await report(dev('bay-a1'), 'bay-a1', ago(30), { occupied: 1 });
  await report(dev('bay-a2'), 'bay-a2', ago(20), { occupied: 0 });
  await report(dev('bay-a3'), 'bay-a3', ago(7200), { occupied: 1 });
});

afterAll(async () => {
  await app?.close();
  await db?.drop();
});

async function get(url: string, headers: Record<string, string> = {}) {
  return app.inject({ method: 'GET', url, headers });
}

describe.skipIf(!standardsDir)('DATEX II feeds against the official schemas', () => {
  if (!standardsDir) console.warn(MISSING_STANDARDS);

  it('serves all four feeds without a key, each valid against its schema', async () => {
    for (const [feed, schema] of Object.entries(FEEDS)) {
      const res = await get(`/api/v1/open/datex2/${feed}`);
      expect(res.statusCode, feed).toBe(200);
      expect(res.headers['content-type']).toBe('application/xml; charset=utf-8');
      expect(res.headers.link).toBe('<https://www.govdata.de/dl-de/by-2-0>; rel="license"');
      const result = await xmllintSchema(schema, res.body);
      expect(result.messages, feed).toMatch(/validates/);
      expect(result.valid, `${feed}: ${result.messages}`).toBe(true);
    }
  });

  it('refuses a wrong document with the same check', async () => {
    const table = (await get('/api/v1/open/datex2/v2.3/parking-table')).body;
    const status = (await get('/api/v1/open/datex2/v3.7/parking-status')).body;
    const wrong = [
      // Capacity before the version time: out of the schema's order.
      [DATEX2_V2_SCHEMA, table.replace(/(<parkingRecordVersionTime>[^<]*<\/parkingRecordVersionTime>)(<parkingNumberOfSpaces>\d+<\/parkingNumberOfSpaces>)/, '$2$1')],
      // A site without its required location.
      [DATEX2_V2_SCHEMA, table.replace(/<parkingLocation[\s\S]*?<\/parkingLocation>/, '')],
      // A status outside the enumeration.
      [DATEX2_V3_SCHEMA, status.replace('<prk:status>spacesAvailable</prk:status>', '<prk:status>plentyOfRoom</prk:status>')],
      // Not well-formed: a raw ampersand.
      [DATEX2_V2_SCHEMA, table.replace('&amp;', '&')],
    ] as const;
    for (const [schema, xml] of wrong) {
      expect(xml).not.toBe(schema === DATEX2_V2_SCHEMA ? table : status);
      expect((await xmllintSchema(schema, xml)).valid).toBe(false);
    }
  });

  it('shapes the 2.3 table as the German feeds: supplier, sites with name, position, capacity and type', async () => {
    const xml = (await get('/api/v1/open/datex2/v2.3/parking-table')).body;
    expect(await xpathString(xml, `/${el('d2LogicalModel')}/${el('exchange')}/${el('supplierIdentification')}/${el('nationalIdentifier')}`)).toBe('DE-MDM-Duesseldorf');
    expect(await xpathString(xml, `//${el('payloadPublication')}/@*[local-name()="type"]`)).toBe('GenericPublication');
    expect(await xpathString(xml, `//${el('genericPublicationName')}`)).toBe('ParkingTablePublication');
    const ids = (await xpathString(xml, `concat(${[0, 1, 2, 3, 4, 5].map((i) => `//${el('parkingRecord')}[${i + 1}]/@id, " "`).join(', ')})`)).trim().split(/\s+/);
    // Public garages with a position and each zone; no private garage, no single bay.
    expect(ids).toEqual(['garage-koe', 'garage-new', 'garage-stale', 'zone/altstadt', 'zone/nord']);
    expect(xml).not.toMatch(/bay-a|Werksgarage|garage-private|Ohne Ort/);
    const koe = `//${el('parkingRecord')}[@id="garage-koe"]`;
    // The name survives escaping: a real XML parser reads it back unchanged.
    expect(await xpathString(xml, `${koe}/${el('parkingName')}//${el('value')}`)).toBe(AWKWARD);
    expect(await xpathString(xml, `${koe}/${el('parkingNumberOfSpaces')}`)).toBe('400');
    expect(await xpathString(xml, `${koe}//${el('latitude')}`)).toBe('51.2254');
    expect(await xpathString(xml, `${koe}/${el('urbanParkingSiteType')}`)).toBe('offStreetParking');
    expect(await xpathString(xml, `${koe}/${el('parkingLayout')}`)).toBe('underground');
    const zone = `//${el('parkingRecord')}[@id="zone/altstadt"]`;
    expect(await xpathString(xml, `${zone}/${el('urbanParkingSiteType')}`)).toBe('onStreetParking');
    // Capacity: the zone's four bays; position: their centroid.
    expect(await xpathString(xml, `${zone}/${el('parkingNumberOfSpaces')}`)).toBe('4');
    expect(Number(await xpathString(xml, `${zone}//${el('latitude')}`))).toBeCloseTo(51.2263, 6);
    expect(Number(await xpathString(xml, `${zone}//${el('longitude')}`))).toBeCloseTo(6.7746, 6);
    for (const time of xml.match(/<(?:publicationTime|parkingTableVersionTime|parkingRecordVersionTime)>[^<]*/g) ?? []) {
      expect(time).toMatch(/\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/);
    }
  });

  it('reports garages from their counters and zones from their bays, in both versions', async () => {
    const v2 = (await get('/api/v1/open/datex2/v2.3/parking-status')).body;
    const koe = `//${el('parkingRecordStatus')}[${el('parkingRecordReference')}/@id="garage-koe"]`;
    expect(await xpathString(v2, `${koe}//${el('parkingNumberOfVacantSpaces')}`)).toBe('120');
    expect(await xpathString(v2, `${koe}//${el('parkingNumberOfOccupiedSpaces')}`)).toBe('280');
    expect(await xpathString(v2, `${koe}//${el('parkingOccupancy')}/${el('parkingOccupancy')}`)).toBe('70');
    expect(await xpathString(v2, `${koe}/${el('parkingSiteStatus')}`)).toBe('spacesAvailable');
    expect(await xpathString(v2, `${koe}/${el('parkingStatusOriginTime')}`)).toBe(ago(60).toISOString());
    // The table's record version is referenced, so a subscriber can tell the status belongs to it.
    const table = (await get('/api/v1/open/datex2/v2.3/parking-table')).body;
    expect(await xpathString(v2, `${koe}/${el('parkingRecordReference')}/@version`)).toBe(await xpathString(table, `//${el('parkingRecord')}[@id="garage-koe"]/@version`));
    // Silent longer than the stale limit: status unknown and no numbers that look current.
    const stale = `//${el('parkingRecordStatus')}[${el('parkingRecordReference')}/@id="garage-stale"]`;
    expect(await xpathString(v2, `${stale}/${el('parkingSiteStatus')}`)).toBe('unknown');
    expect(await xpathString(v2, `${stale}//${el('parkingNumberOfVacantSpaces')}`)).toBe('');
    // Zone: one bay occupied, one free; the stale and the silent bay count as neither.
    const zone = `//${el('parkingRecordStatus')}[${el('parkingRecordReference')}/@id="zone/altstadt"]`;
    expect(await xpathString(v2, `${zone}//${el('parkingNumberOfOccupiedSpaces')}`)).toBe('1');
    expect(await xpathString(v2, `${zone}//${el('parkingNumberOfVacantSpaces')}`)).toBe('1');
    expect(await xpathString(v2, `${zone}/${el('parkingStatusOriginTime')}`)).toBe(ago(20).toISOString());
    // Sites that never reported are in the table only.
    expect(v2).not.toMatch(/garage-new|zone\/nord/);
    const v3 = (await get('/api/v1/open/datex2/v3.7/parking-status')).body;
    const koe3 = `//${el('parkingStatusInformation')}[${el('reference')}/@id="garage-koe"]`;
    expect(await xpathString(v3, `${koe3}//${el('numberOfVacantSpaces')}`)).toBe('120');
    expect(await xpathString(v3, `${koe3}/${el('status')}`)).toBe('spacesAvailable');
    const t3 = (await get('/api/v1/open/datex2/v3.7/parking-table')).body;
    expect(await xpathString(t3, `//${el('hierarchyElementGeneral')}[@id="garage-koe"]/${el('name')}//${el('value')}`)).toBe(AWKWARD);
    expect(await xpathString(t3, `//${el('hierarchyElementGeneral')}[@id="zone/altstadt"]//${el('spacesTotal')}`)).toBe('4');
  });
});

describe('DATEX II over HTTP', () => {
  const url = '/api/v1/open/datex2/v2.3/parking-status';

  it('gzips on request, and names the representation in ETag and Vary', async () => {
    const plain = await get(url);
    const zipped = await app.inject({ method: 'GET', url, headers: { 'accept-encoding': 'br;q=1, gzip;q=0.5' } });
    expect(zipped.headers['content-encoding']).toBe('gzip');
    expect(gunzipSync(zipped.rawPayload).toString('utf8')).toBe(plain.body);
    expect(zipped.headers.vary).toBe('Accept-Encoding');
    expect(zipped.headers.etag).not.toBe(plain.headers.etag);
    expect((await get(url, { 'accept-encoding': 'gzip;q=0, identity' })).headers['content-encoding']).toBeUndefined();
    const head = await app.inject({ method: 'HEAD', url });
    expect(head.statusCode).toBe(200);
    expect(head.headers.etag).toBe(plain.headers.etag);
  });

  it('answers 304 to If-None-Match and If-Modified-Since, and 200 when the client is behind', async () => {
    const first = await get(url);
    const etag = String(first.headers.etag);
    const lastModified = String(first.headers['last-modified']);
    // The newest change: the bay reading 20 s ago, or the registry rows written after it.
    const { rows } = await db.pool.query<{ t: Date }>(`select max(updated_at) as t from assets`);
    expect(new Date(lastModified).getTime()).toBe(Math.floor(Math.max(ago(20).getTime(), rows[0]!.t.getTime()) / 1000) * 1000);
    const byTag = await get(url, { 'if-none-match': `"other", ${etag}` });
    expect(byTag.statusCode).toBe(304);
    expect(byTag.body).toBe('');
    expect(byTag.headers.etag).toBe(etag);
    expect((await get(url, { 'if-modified-since': lastModified })).statusCode).toBe(304);
    expect((await get(url, { 'if-modified-since': new Date(Date.parse(lastModified) - 1000).toUTCString() })).statusCode).toBe(200);
    // If-None-Match decides when both are sent (RFC 9110 §13.2.2).
    expect((await get(url, { 'if-none-match': '"stale"', 'if-modified-since': lastModified })).statusCode).toBe(200);
    expect((await get(url, { 'if-modified-since': 'not a date' })).statusCode).toBe(200);
  });

  it('answers conditional requests from memory, without building the document or reading the database', async () => {
    const { headers } = await get(url);
    const spy = vi.spyOn(db.pool, 'query');
    try {
      const started = Date.now();
      const buildsBefore = await documentBuilds('datex2/v2.3/parking-status');
      for (let i = 0; i < 200; i++) expect((await get(url, { 'if-none-match': String(headers.etag) })).statusCode).toBe(304);
      // At most one background refresh per DATEX_MAX_AGE_MS (two statements each).
      const periods = Math.ceil((Date.now() - started) / DATEX_MAX_AGE_MS);
      expect(await documentBuilds('datex2/v2.3/parking-status') - buildsBefore).toBeLessThanOrEqual(periods);
      expect(spy.mock.calls.length).toBeLessThanOrEqual(2 * periods);
    } finally {
      spy.mockRestore();
    }
  });

  it('follows the data: a new reading changes the status document, its ETag and Last-Modified', async () => {
    const before = await get(url);
    const devEui = (await db.pool.query<{ dev_eui: string }>(`select dev_eui from devices where asset_id = 'garage-koe'`)).rows[0]!.dev_eui;
    const time = new Date(Math.floor(Date.now() / 1000) * 1000);
    await report(devEui, 'garage-koe', time, { free_spaces: 0, total_spaces: 400 });
    const after = await eventually(async () => {
      const res = await get(url, { 'if-none-match': String(before.headers.etag) });
      return res.statusCode === 200 ? res : undefined;
    }, { timeoutMs: 10 * DATEX_MAX_AGE_MS });
    expect(after.headers.etag).not.toBe(before.headers.etag);
    expect(new Date(String(after.headers['last-modified'])).getTime()).toBe(time.getTime());
    expect(after.body).toContain('<parkingSiteStatus>full</parkingSiteStatus>');
  });
});

describe.skipIf(!standardsDir)('DATEX II for a city without parking sites', () => {
  let empty: TestDatabase;
  let emptyApp: FastifyInstance;
  beforeAll(async () => {
    empty = await createTestDatabase();
    emptyApp = await app4(empty);
  });
  afterAll(async () => {
    await emptyApp?.close();
    await empty?.drop();
  });

  it('serves 2.3 publications without records, still valid, and says why 3.7 has none', async () => {
    for (const feed of ['v2.3/parking-table', 'v2.3/parking-status']) {
      const res = await emptyApp.inject({ method: 'GET', url: `/api/v1/open/datex2/${feed}` });
      expect(res.statusCode).toBe(200);
      expect((await xmllintSchema(DATEX2_V2_SCHEMA, res.body)).valid).toBe(true);
      expect(res.body).not.toContain('genericPublicationExtension');
    }
    const v3 = await emptyApp.inject({ method: 'GET', url: '/api/v1/open/datex2/v3.7/parking-status' });
    expect(v3.statusCode).toBe(404);
    expect(v3.json().message).toMatch(/cannot be empty/);
  });
});
