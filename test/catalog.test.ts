/**
 * The DCAT-AP.de catalog against a real database and the official shapes: each of its
 * three serialisations, read back by a parser of its own, has 0 SHACL violations under
 * DCAT-AP.de 3.0 (../shared/standards/dcat-ap-de, rdf-validate-shacl) and all three are
 * the same graph; the same check catches a catalog without its licence. Then what
 * GovData's 2.0 harvester and a portal need: publisher, contact and licence from the
 * city profile, political geocoding, distributions with absolute links, time from the
 * data, content negotiation and 304.
 */
import type { Quad } from '@rdfjs/types';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../api/app.js';
import { loadCityProfile } from '../city-profile.js';
import { upsertAsset, upsertDevice, upsertDeviceModel, writeBatch } from '../storage/index.js';
import { canonical, parseRdf, validateDcatApDe } from './dcat-shacl.js';
import { createTestDatabase, testLog, type TestDatabase } from './helpers.js';
import { MISSING_STANDARDS, standardsDir } from './standards.js';

const PUBLISHER = 'Stadt Köln & "Umland" <Amt 12>';
const city = loadCityProfile({
  CITY_NAME: 'Köln', CITY_PUBLISHER: PUBLISHER, CITY_ATTRIBUTION: 'Stadt Köln – Amt für „Daten“', CITY_CONTACT_EMAIL: 'opendata@stadt-koeln.de',
  CITY_ARS: '053150000000', CITY_AREA: '6.77,50.83,7.17,51.09', CITY_PUBLISHER_URL: 'https://www.stadt-koeln.de',
});
const PUBLIC_URL = 'https://daten.stadt-koeln.example/sensoren';
const CATALOG = `${PUBLIC_URL}/api/v1/open/catalog`;
const FORMATS = { rdf: 'application/rdf+xml', ttl: 'text/turtle', jsonld: 'application/ld+json' } as const;
const NS = { dcat: 'http://www.w3.org/ns/dcat#', dct: 'http://purl.org/dc/terms/', dcatde: 'http://dcat-ap.de/def/dcatde/', foaf: 'http://xmlns.com/foaf/0.1/', vcard: 'http://www.w3.org/2006/vcard/ns#' };

let db: TestDatabase;
let app: FastifyInstance;
const newestReading = new Date(Math.floor(Date.now() / 1000) * 1000 - 90_000);

function makeApp(publicUrl: string | null): Promise<FastifyInstance> {
  return buildApp({
    pool: db.pool, log: testLog, version: 'test', timescale: db.timescale, openDataRateLimitPerMinute: 100_000, city, publicUrl,
    status: async () => ({ database: { ok: true, embedded: false, timescale: db.timescale }, broker: { ok: true, embedded: false } }),
  });
}

beforeAll(async () => {
  db = await createTestDatabase();
  app = await makeApp(PUBLIC_URL);
  await upsertDeviceModel(db.pool, { id: 'm', name: 'any', decoderKind: 'builtin', builtinName: 'cayenne-lpp' });
  const assets = [
    { id: 'lamp-1', kind: 'street_lamp', latitude: 50.94, longitude: 6.96, isPublic: true, metric: 'pm2_5' },
    { id: 'garage-1', kind: 'garage', name: 'Parkhaus "Dom" & <Mitte>', latitude: 50.941, longitude: 6.958, isPublic: true, metric: 'free_spaces' },
    { id: 'site-1', kind: 'traffic_site', latitude: 50.95, longitude: 6.97, isPublic: true, metric: 'vehicle_count' },
    { id: 'gauge-1', kind: 'water_gauge', latitude: 50.93, longitude: 6.97, isPublic: true, metric: 'water_level' },
  ] as const;
  for (const [i, a] of assets.entries()) {
    await upsertAsset(db.pool, { id: a.id, kind: a.kind, name: 'name' in a ? a.name : null, latitude: a.latitude, longitude: a.longitude, isPublic: a.isPublic });
    const devEui = `00000000000c${String(i).padStart(4, '0')}`;
    await upsertDevice(db.pool, { devEui, modelId: 'm', assetId: a.id });
    const time = new Date(newestReading.getTime() - i * 60_000);
    await writeBatch(db.pool, {
      uplinks: [{ id: `cat-${i}`, receivedAt: time, devEui, fCnt: 1, fPort: 1, payload: Buffer.alloc(1), decoded: null, decodeError: null, source: 'chirpstack', radio: { frequencyHz: null, spreadingFactor: null, bandwidthHz: null, dataRate: null, band: null, receptions: [] } }],
      // A non-public metric later than the public one: dct:modified must not show it.
      readings: [{ time, devEui, metric: a.metric, channel: '', value: 7, quality: 'ok', assetId: a.id, uplinkId: `cat-${i}` },
        { time: new Date(time.getTime() + 30_000), devEui, metric: 'battery_voltage', channel: '', value: 3.6, quality: 'ok', assetId: a.id, uplinkId: `cat-${i}` }],
      healthReadings: [], deadLetters: [],
    });
  }
});

afterAll(async () => {
  await app?.close();
  await db?.drop();
});

async function fetchCatalog(format: keyof typeof FORMATS): Promise<{ body: string; quads: Quad[] }> {
  const res = await app.inject({ method: 'GET', url: `/api/v1/open/catalog.${format}` });
  expect(res.statusCode, res.body).toBe(200);
  expect(res.headers['content-type']).toBe(`${FORMATS[format]}; charset=utf-8`);
  return { body: res.body, quads: await parseRdf(format, res.body, CATALOG) };
}

const objects = (quads: Quad[], subject: string | null, predicate: string): string[] =>
  quads.filter((q) => (subject === null || q.subject.value === subject) && q.predicate.value === predicate).map((q) => q.object.value);

describe.skipIf(!standardsDir)('DCAT-AP.de catalog against the official shapes', () => {
  if (!standardsDir) console.warn(MISSING_STANDARDS);

  it('has 0 SHACL violations in RDF/XML, Turtle and JSON-LD, and all three are one graph', async () => {
    const graphs: string[] = [];
    for (const format of Object.keys(FORMATS) as (keyof typeof FORMATS)[]) {
      const { quads } = await fetchCatalog(format);
      expect(quads.length, format).toBeGreaterThan(200);
      const { violations, warnings } = await validateDcatApDe(quads);
      expect(violations, `${format}: ${JSON.stringify(violations, null, 1)}`).toEqual([]);
      // Two warnings stay, on purpose: 3.0 deprecates dcatde:politicalGeocodingURI, which
      // 2.0 harvesters require; dct:spatial names the municipality by its geocoding IRI,
      // which the message itself says may be ignored for a controlled vocabulary (Konvention 11).
      for (const w of warnings) {
        if (w.path === `${NS.dct}spatial`) expect(w.message).toMatch(/kann ignoriert werden, wenn ein kontrolliertes Vokabular verwendet wird/);
        else expect(w.path, JSON.stringify(w)).toBe(`${NS.dcatde}politicalGeocodingURI`);
      }
      graphs.push(canonical(quads));
    }
    expect(graphs[1]).toBe(graphs[0]);
    expect(graphs[2]).toBe(graphs[0]);
  });

  it('catches a catalog missing its licence with the same check', async () => {
    const { quads } = await fetchCatalog('ttl');
    const unlicensed = quads.filter((q) => q.predicate.value !== `${NS.dct}license`);
    expect(unlicensed.length).toBeLessThan(quads.length);
    const { violations } = await validateDcatApDe(unlicensed);
    const licence = violations.filter((v) => v.path === `${NS.dct}license`);
    // One per distribution: DE_Distribution_dcterms_license_v_Min.
    expect(licence.length).toBe(objects(quads, null, `${NS.dcat}distribution`).length);
    expect(licence[0]!.message).toMatch(/MUSS eine dcterms:license haben/);
  });
});

describe('DCAT-AP.de catalog content', () => {
  it('names publisher, contact and licence from the city profile, in every format unchanged', async () => {
    for (const format of Object.keys(FORMATS) as (keyof typeof FORMATS)[]) {
      const { quads } = await fetchCatalog(format);
      expect(objects(quads, `${CATALOG}#publisher`, `${NS.foaf}name`), format).toEqual([PUBLISHER]);
      expect(objects(quads, `${CATALOG}#publisher`, `${NS.foaf}homepage`)).toEqual(['https://www.stadt-koeln.de']);
      expect(new Set(objects(quads, null, `${NS.dcatde}licenseAttributionByText`))).toEqual(new Set(['Stadt Köln – Amt für „Daten“']));
      expect(new Set(objects(quads, null, `${NS.dct}license`))).toEqual(new Set(['http://dcat-ap.de/def/licenses/dl-by-de/2.0']));
      expect(new Set(objects(quads, null, `${NS.vcard}hasEmail`))).toEqual(new Set(['mailto:opendata@stadt-koeln.de']));
      expect(objects(quads, null, `${NS.dcat}distribution`).length).toBe(4 * 4 + 4);
    }
  });

  it('lists each open dataset with geocoding, themes, distributions and times from the data', async () => {
    const { quads } = await fetchCatalog('ttl');
    const datasets = objects(quads, CATALOG, `${NS.dcat}dataset`);
    expect(datasets.sort()).toEqual(['air-quality', 'parking', 'traffic', 'water-level'].map((d) => `${CATALOG}#dataset-${d}`));
    for (const d of datasets) {
      expect(objects(quads, d, `${NS.dcatde}politicalGeocodingURI`)).toEqual(['http://dcat-ap.de/def/politicalGeocoding/regionalKey/053150000000']);
      expect(objects(quads, d, `${NS.dcat}theme`).length).toBeGreaterThan(0);
      const urls = objects(quads, d, `${NS.dcat}distribution`).flatMap((x) => objects(quads, x, `${NS.dcat}accessURL`));
      expect(urls).toContain(`${PUBLIC_URL}/sta/v1.1`);
      for (const url of urls) expect(url.startsWith(`${PUBLIC_URL}/`), url).toBe(true);
    }
    const parkingUrls = objects(quads, `${CATALOG}#dataset-parking`, `${NS.dcat}distribution`).flatMap((x) => objects(quads, x, `${NS.dcat}downloadURL`));
    for (const feed of ['v2.3/parking-table', 'v2.3/parking-status', 'v3.7/parking-table', 'v3.7/parking-status']) expect(parkingUrls).toContain(`${PUBLIC_URL}/api/v1/open/datex2/${feed}`);
    // The newest public reading (air quality: the first asset), with its offset; the battery reading after it is not public.
    const modified = quads.find((q) => q.subject.value === `${CATALOG}#dataset-air-quality` && q.predicate.value === `${NS.dct}modified`)!.object;
    expect(modified.value).toBe(newestReading.toISOString());
    expect((modified as { datatype?: { value: string } }).datatype?.value).toBe('http://www.w3.org/2001/XMLSchema#dateTime');
    expect(objects(quads, CATALOG, `${NS.dct}modified`)).toEqual([newestReading.toISOString()]);
    const period = objects(quads, `${CATALOG}#dataset-water-level`, `${NS.dct}temporal`)[0]!;
    const start = objects(quads, period, `${NS.dcat}startDate`)[0]!;
    const mounted = (await db.pool.query<{ t: Date }>(`select mounted_at as t from device_mounts where asset_id = 'gauge-1'`)).rows[0]!.t;
    expect(start).toBe(mounted.toISOString());
  });

  it('negotiates the format, refuses what it cannot serve and answers 304', async () => {
    const type = async (accept?: string) => (await app.inject({ method: 'GET', url: '/api/v1/open/catalog', headers: accept ? { accept } : {} })).headers['content-type'];
    expect(await type()).toBe('application/rdf+xml; charset=utf-8');
    expect(await type('text/turtle')).toBe('text/turtle; charset=utf-8');
    expect(await type('application/ld+json')).toBe('application/ld+json; charset=utf-8');
    expect(await type('application/rdf+xml;q=0.5, text/turtle')).toBe('text/turtle; charset=utf-8');
    expect(await type('text/*')).toBe('text/turtle; charset=utf-8');
    expect(await type('text/html,application/xhtml+xml,*/*;q=0.8')).toBe('application/rdf+xml; charset=utf-8');
    const refused = await app.inject({ method: 'GET', url: '/api/v1/open/catalog', headers: { accept: 'image/png' } });
    expect(refused.statusCode).toBe(406);
    const first = await app.inject({ method: 'GET', url: '/api/v1/open/catalog', headers: { accept: 'text/turtle' } });
    expect(first.headers.vary).toBe('Accept, Accept-Encoding');
    const again = await app.inject({ method: 'GET', url: '/api/v1/open/catalog', headers: { accept: 'text/turtle', 'if-none-match': String(first.headers.etag) } });
    expect(again.statusCode).toBe(304);
    expect((await app.inject({ method: 'GET', url: '/api/v1/open/catalog.rdf', headers: { 'if-modified-since': String(first.headers['last-modified']) } })).statusCode).toBe(304);
  });

  it('takes absolute links from the request when PUBLIC_URL is unset, and refuses a Host that is no host name', async () => {
    const own = await makeApp(null);
    try {
      const res = await own.inject({ method: 'GET', url: '/api/v1/open/catalog.ttl', headers: { host: 'sensoren.koeln.example:8443' } });
      const quads = await parseRdf('ttl', res.body, 'http://sensoren.koeln.example:8443/');
      expect(objects(quads, null, `${NS.dcat}dataset`)[0]).toMatch(/^http:\/\/sensoren\.koeln\.example:8443\/api\/v1\/open\/catalog#dataset-/);
      const bad = await own.inject({ method: 'GET', url: '/api/v1/open/catalog.ttl', headers: { host: 'evil.example/"><x' } });
      expect(bad.statusCode).toBe(400);
    } finally {
      await own.close();
    }
  });
});
