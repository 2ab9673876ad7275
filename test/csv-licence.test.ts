/**
 * Licence and attribution travel with the CSV downloads too: a Link rel="license" and a
 * CSVW metadata document (rel="describedby") that names the very file, while the file
 * itself stays plain RFC 4180 that any CSV reader takes.
 */
import { parse as parseCsv } from 'csv-parse/sync';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../api/app.js';
import { loadCityProfile } from '../city-profile.js';
import { upsertAsset, upsertDevice, upsertDeviceModel, writeBatch } from '../storage/index.js';
import { createTestDatabase, testLog, type TestDatabase } from './helpers.js';

const city = loadCityProfile({ CITY_PUBLISHER: 'Stadt Köln & "Umland" <Amt 12>', CITY_ATTRIBUTION: 'Stadt Köln, „Sensornetz“ & Partner', CITY_AREA: '6.77,50.83,7.17,51.09' });
const T0 = Date.UTC(2026, 9, 1);
let db: TestDatabase;
let app: FastifyInstance;

beforeAll(async () => {
  db = await createTestDatabase();
  app = await buildApp({
    pool: db.pool, log: testLog, version: 'test', timescale: db.timescale, openDataRateLimitPerMinute: 100_000, city,
    status: async () => ({ database: { ok: true, embedded: false, timescale: db.timescale }, broker: { ok: true, embedded: false } }),
  });
  await upsertDeviceModel(db.pool, { id: 'air', name: 'air', decoderKind: 'builtin', builtinName: 'stadtfunk-air' });
  await upsertAsset(db.pool, { id: 'lamp-1', kind: 'street_lamp', latitude: 50.94, longitude: 6.96, isPublic: true });
  await upsertDevice(db.pool, { devEui: '00000000000000f1', modelId: 'air', assetId: 'lamp-1' });
  const uplinks = [];
  const readings = [];
  for (let i = 0; i < 12; i++) {
    const time = new Date(T0 + i * 600_000);
    uplinks.push({ id: `csv-${i}`, receivedAt: time, devEui: '00000000000000f1', fCnt: i, fPort: 10, payload: Buffer.alloc(1), decoded: null, decodeError: null, source: 'chirpstack' as const, radio: { frequencyHz: null, spreadingFactor: null, bandwidthHz: null, dataRate: null, band: null, receptions: [] } });
    readings.push({ time, devEui: '00000000000000f1', metric: 'pm2_5', channel: '', value: i, quality: 'ok', assetId: 'lamp-1', uplinkId: `csv-${i}` });
  }
  await writeBatch(db.pool, { uplinks, readings, healthReadings: [], deadLetters: [] });
});

afterAll(async () => {
  await app?.close();
  await db?.drop();
});

/** Link header entries as { target, rel, type }. */
function links(header: unknown): { target: string; rel: string; type?: string }[] {
  return String(header).split(/,\s*(?=<)/).map((part) => {
    const target = /^<([^>]*)>/.exec(part)![1]!;
    const rel = /rel="([^"]*)"/.exec(part)![1]!;
    const type = /type="([^"]*)"/.exec(part)?.[1];
    return { target, rel, ...(type ? { type } : {}) };
  });
}

describe('CSV downloads carry licence and attribution', () => {
  const cases = [
    ['series', '/api/v1/open/assets/lamp-1/series?metric=pm2_5&bucket=raw&format=csv&from=2026-10-01T00:00:00Z&to=2026-10-02T00:00:00Z&limit=5'],
    ['export', '/api/v1/open/datasets/air-quality/export.csv?from=2026-10-01T00:00:00Z&to=2026-10-02T00:00:00Z'],
  ] as const;
  for (const [name, url] of cases) {
    it(`${name}: links the licence and CSVW metadata that names this very file, and stays plain CSV`, async () => {
      const res = await app.inject({ method: 'GET', url });
      expect(res.statusCode).toBe(200);
      const all = links(res.headers.link);
      expect(all).toContainEqual({ target: 'https://www.govdata.de/dl-de/by-2-0', rel: 'license' });
      if (name === 'series') expect(all.map((l) => l.rel)).toContain('next');
      const described = all.find((l) => l.rel === 'describedby')!;
      expect(described.type).toBe('application/csvm+json');
      const csvUrl = new URL(url, 'http://city.example');
      const metadataUrl = new URL(described.target, csvUrl);
      const meta = await app.inject({ method: 'GET', url: `${metadataUrl.pathname}${metadataUrl.search}` });
      expect(meta.statusCode).toBe(200);
      expect(meta.headers['content-type']).toBe('application/csvm+json; charset=utf-8');
      const m = meta.json();
      // CSVW: metadata that does not name the file it was found for is ignored.
      expect(new URL(m.url, metadataUrl).href).toBe(csvUrl.href);
      expect(m['dc:license']).toEqual({ '@id': 'https://www.govdata.de/dl-de/by-2-0' });
      expect(m['dc:rights']).toBe('Stadt Köln, „Sensornetz“ & Partner, dl-de/by-2-0');
      expect(m['dc:publisher']['schema:name']).toBe('Stadt Köln & "Umland" <Amt 12>');
      const rows = parseCsv(res.body, { columns: true }) as Record<string, string>[];
      expect(Object.keys(rows[0]!)).toEqual(m.tableSchema.columns.map((c: { name: string }) => c.name));
      expect(rows.length).toBe(name === 'series' ? 5 : 12);
    });
  }
});
