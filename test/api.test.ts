/**
 * The HTTP API against a real database: roles, audit, registry, open data formats,
 * pagination, bulk import, SSE resume and 4xx for bad input.
 */
import http from 'node:http';
import { parse as parseCsv } from 'csv-parse/sync';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../api/app.js';
import { loadCityProfile } from '../city-profile.js';
import { createApiKey, type Role } from '../api/auth.js';
import { LiveBus } from '../api/live-bus.js';
import { upsertAsset, upsertDevice, upsertDeviceModel, writeBatch } from '../storage/index.js';
import { createTestDatabase, TEST_MASTER_KEY, testLog, type TestDatabase } from './helpers.js';

let db: TestDatabase;
let app: FastifyInstance;
const bus = new LiveBus(100);
const keys = {} as Record<Role, string>;

async function call(method: string, url: string, role: Role | null, body?: unknown, headers: Record<string, string> = {}) {
  const res = await app.inject({
    method: method as 'GET',
    url,
    headers: { ...(role ? { authorization: `Bearer ${keys[role]}` } : {}), ...(body !== undefined && typeof body !== 'string' ? { 'content-type': 'application/json' } : {}), ...headers },
    ...(body === undefined ? {} : { payload: typeof body === 'string' ? body : JSON.stringify(body) }),
  });
  return res;
}

const T0 = Date.UTC(2026, 9, 1); // 2026-10-01
const city = loadCityProfile({ CITY_NAME: 'Köln', CITY_PUBLISHER: 'Stadt Köln & "Umland" <Amt 12>', CITY_CONTACT_EMAIL: 'opendata@stadt-koeln.de', CITY_ARS: '053150000000', CITY_AREA: '6.77,50.83,7.17,51.09' });

beforeAll(async () => {
  db = await createTestDatabase();
  app = await buildApp({
    pool: db.pool, log: testLog, version: 'test', masterKey: TEST_MASTER_KEY, liveBus: bus, timescale: db.timescale, openDataRateLimitPerMinute: 100_000, city,
    status: async () => ({ database: { ok: true, embedded: false, timescale: db.timescale }, broker: { ok: true, embedded: false } }),
  });
  for (const role of ['admin', 'technician', 'operator'] as const) keys[role] = (await createApiKey(db.pool, `${role} key`, role)).key;
  await upsertDeviceModel(db.pool, { id: 'air-v1', name: 'air', decoderKind: 'builtin', builtinName: 'stadtfunk-air' });
  await upsertAsset(db.pool, { id: 'lamp-1', kind: 'street_lamp', latitude: 51.2262, longitude: 6.7737, zone: 'altstadt', isPublic: true, notes: 'ladder needed' });
  await upsertAsset(db.pool, { id: 'lamp-2', kind: 'street_lamp', latitude: 51.3, longitude: 6.9, zone: 'north', isPublic: false });
  await upsertAsset(db.pool, { id: 'bay-1', kind: 'parking_bay', latitude: 51.2263, longitude: 6.7738, zone: 'altstadt' });
  await upsertDevice(db.pool, { devEui: '00000000000000a1', modelId: 'air-v1', assetId: 'lamp-1' });
  await upsertDevice(db.pool, { devEui: '00000000000000a2', modelId: 'air-v1', assetId: 'lamp-2' });
  // Three days of pm2_5 every 10 minutes on both lamps.
  const uplinks = [];
  const readings = [];
  for (let i = 0; i < 3 * 144; i++) {
    for (const [devEui, assetId] of [['00000000000000a1', 'lamp-1'], ['00000000000000a2', 'lamp-2']] as const) {
      const time = new Date(T0 + i * 600_000);
      const id = `${devEui}-${i}`;
      uplinks.push({ id, receivedAt: time, devEui, fCnt: i, fPort: 10, payload: Buffer.alloc(1), decoded: null, decodeError: null, source: 'chirpstack' as const, radio: { frequencyHz: null, spreadingFactor: null, bandwidthHz: null, dataRate: null, band: null, receptions: [] } });
      readings.push({ time, devEui, metric: 'pm2_5', channel: '', value: i % 50, quality: 'ok', assetId, uplinkId: id });
      readings.push({ time, devEui, metric: 'rssi', channel: '', value: -90, quality: 'ok', assetId, uplinkId: id });
    }
  }
  await writeBatch(db.pool, { uplinks, readings, healthReadings: [], deadLetters: [] });
});

afterAll(async () => {
  await app?.close();
  await db?.drop();
});

describe('roles', () => {
  // [method, url, body, who may]
  const matrix: [string, string, unknown, (Role | 'public')[]][] = [
    ['GET', '/api/v1/open/datasets', undefined, ['public', 'operator', 'technician', 'admin']],
    ['GET', '/api/v1/open/datasets/air-quality/latest', undefined, ['public', 'operator', 'technician', 'admin']],
    ['GET', '/api/v1/open/parking/zones', undefined, ['public', 'operator', 'technician', 'admin']],
    ['GET', '/api/v1/live/zones', undefined, ['operator', 'admin']],
    ['GET', '/api/v1/live/parking', undefined, ['operator', 'admin']],
    ['GET', '/api/v1/live/air', undefined, ['operator', 'admin']],
    ['GET', '/api/v1/devices/00000000000000a1/readings', undefined, ['operator', 'technician', 'admin']],
    ['GET', '/api/v1/assets', undefined, ['operator', 'technician', 'admin']],
    ['GET', '/api/v1/devices', undefined, ['operator', 'technician', 'admin']],
    ['POST', '/api/v1/assets', { id: 'matrix-x', kind: 'water_gauge', latitude: 50.94, longitude: 6.96 }, ['technician', 'admin']],
    ['PUT', '/api/v1/device-models/matrix-m', { id: 'matrix-m', name: 'm', decoder: { kind: 'builtin', name: 'cayenne-lpp' } }, ['technician', 'admin']],
    ['GET', '/api/v1/api-keys', undefined, ['admin']],
    ['GET', '/api/v1/audit', undefined, ['admin']],
    ['GET', '/api/v1/dead-letters', undefined, ['admin']],
    ['GET', '/api/v1/ops/status', undefined, ['admin']],
  ];
  for (const [method, url, body, allowed] of matrix) {
    for (const who of ['public', 'operator', 'technician', 'admin'] as const) {
      it(`${method} ${url} as ${who}: ${allowed.includes(who) ? 'allowed' : 'denied'}`, async () => {
        // Writes get a fresh id per caller so "exists already" does not mask the role check.
        const b = body && typeof body === 'object' && 'id' in body ? { ...body, id: `${(body as { id: string }).id}-${who}` } : body;
        const u = method === 'PUT' ? `${url}-${who}` : url;
        const res = await call(method, u, who === 'public' ? null : who, b);
        if (allowed.includes(who)) expect(res.statusCode, res.body).toBeLessThan(300);
        else expect(res.statusCode).toBe(who === 'public' ? 401 : 403);
      });
    }
  }

  it('refuses an unknown key with 401 instead of treating it as public', async () => {
    const res = await app.inject({ method: 'GET', url: '/api/v1/open/datasets', headers: { authorization: 'Bearer sfk_nope' } });
    expect(res.statusCode).toBe(401);
    expect(res.json()).toMatchObject({ error: 'Unauthorized', message: expect.stringContaining('unknown or revoked') });
  });
});

describe('registry', () => {
  it('registers a device from a TR005 QR string with write-only ABP keys, audited', async () => {
    const nwk = '2b7e151628aed2a6abf7158809cf4f3c';
    const res = await call('POST', '/api/v1/devices', 'technician', {
      qr: 'LW:D0:0016C001FFFE0001:0016C001FF1000AB:A1B20002:SSN-1', modelId: 'air-v1', assetId: 'lamp-1', devAddr: '26011234', nwkSKey: nwk, appSKey: 'aa'.repeat(16),
    });
    expect(res.statusCode, res.body).toBe(201);
    const device = res.json();
    expect(device).toMatchObject({ devEui: '0016c001ff1000ab', joinEui: '0016c001fffe0001', nwkSKeySet: true, appSKeySet: true });
    expect(res.body).not.toContain(nwk);
    const stored = await db.pool.query('select nwk_s_key from devices where dev_eui = $1', [device.devEui]);
    expect(stored.rows[0].nwk_s_key).toMatch(/^v1:/);
    expect(stored.rows[0].nwk_s_key).not.toContain(nwk);
    const read = await call('GET', `/api/v1/devices/${device.devEui}`, 'operator');
    expect(read.body).not.toContain(nwk);
    const audit = await call('GET', '/api/v1/audit?limit=200', 'admin');
    const actions = audit.json().items.map((e: { action: string; target: string }) => `${e.action} ${e.target}`);
    expect(actions).toContain('device.create 0016c001ff1000ab');
    expect(actions).toContain('device.read 0016c001ff1000ab');
    expect(actions.some((a: string) => a.startsWith('readings.read'))).toBe(true);
  });

  it('moves and decommissions a device, keeping the mount history', async () => {
    await call('POST', '/api/v1/devices', 'technician', { devEui: '00000000000000b1', modelId: 'air-v1', assetId: 'lamp-1' });
    expect((await call('POST', '/api/v1/devices/00000000000000b1/move', 'technician', { assetId: 'lamp-2' })).statusCode).toBe(200);
    const gone = await call('POST', '/api/v1/devices/00000000000000b1/decommission', 'technician');
    expect(gone.json().decommissionedAt).not.toBeNull();
    const read = (await call('GET', '/api/v1/devices/00000000000000b1', 'technician')).json();
    expect(read.mounts.map((m: { assetId: string; unmountedAt: string | null }) => [m.assetId, m.unmountedAt !== null])).toEqual([['lamp-1', true], ['lamp-2', true]]);
  });

  it('imports the good CSV rows and reports the bad ones by row and field', async () => {
    const csv = [
      'devEui,modelId,assetId,assetKind,latitude,longitude,zone',
      '00000000000000c1,air-v1,lamp-c1,street_lamp,50.94,6.96,altstadt',
      '00000000000000c2,no-such-model,lamp-c2,street_lamp,50.94,6.96,altstadt',
      'xyz,air-v1,lamp-c3,street_lamp,50.94,6.96,altstadt',
      '00000000000000c4,air-v1,lamp-c4,street_lamp,950.94,6.96,altstadt',
      '"00000000000000c5",air-v1,lamp-1,,,,',
    ].join('\r\n');
    const res = await call('POST', '/api/v1/devices/import', 'technician', csv, { 'content-type': 'text/csv' });
    expect(res.statusCode, res.body).toBe(200);
    const report = res.json();
    expect(report.imported).toBe(2);
    expect(report.failed).toBe(3);
    expect(report.problems.map((p: { row: number; field: string }) => [p.row, p.field])).toEqual([[3, 'modelId'], [4, 'devEui'], [5, 'latitude']]);
    const stored = await db.pool.query("select dev_eui from devices where dev_eui like '00000000000000c%' order by 1");
    expect(stored.rows.map((r) => r.dev_eui)).toEqual(['00000000000000c1', '00000000000000c5']);
    expect((await db.pool.query("select 1 from assets where id = 'lamp-c2'")).rowCount).toBe(0);
  });

  it.each([
    ['POST', '/api/v1/assets', { id: 'x', kind: 'tree', latitude: 1, longitude: 1 }, /kind/],
    ['POST', '/api/v1/assets', { id: 'x y', kind: 'garage', latitude: 1, longitude: 1 }, /^id:/],
    ['POST', '/api/v1/assets', { kind: 'garage', latitude: 1, longitude: 1 }, /^id: is required/],
    ['POST', '/api/v1/assets', { id: 'lamp-1', kind: 'street_lamp', latitude: 50.94, longitude: 6.96 }, /exists already/],
    ['POST', '/api/v1/devices', { modelId: 'air-v1' }, /devEui: is required/],
    ['POST', '/api/v1/devices', { devEui: '00000000000000d1', modelId: 'nope' }, /modelId: no device model/],
    ['POST', '/api/v1/devices', { devEui: '00000000000000d1', modelId: 'air-v1', nwkSKey: '00'.repeat(16) }, /devAddr: is required/],
    ['POST', '/api/v1/devices', { devEui: '00000000000000d1', modelId: 'air-v1', nwkSKey: 'zz' }, /nwkSKey/],
    ['POST', '/api/v1/devices', { qr: 'LW:D0:xx', modelId: 'air-v1' }, /^qr:/],
    ['POST', '/api/v1/devices', { devEui: '00000000000000d1', modelId: 'air-v1', colour: 'red' }, /colour: is not a known field/],
    ['PUT', '/api/v1/device-models/m2', { id: 'm2', name: 'x', decoder: { kind: 'builtin', name: 'nope' } }, /decoder.name: unknown built-in/],
    ['POST', '/api/v1/devices/0000000000000000/move', { assetId: 'nowhere' }, /device 0000000000000000 not found/],
    ['POST', '/api/v1/assets', { id: 'lamp-nul', kind: 'street_lamp', latitude: 50.94, longitude: 6.96, name: 'Lamp \u0000 7' }, /U\+0000/],
    ['PUT', '/api/v1/device-models/m-nul', { id: 'm-nul', name: 'x', decoder: { kind: 'builtin', name: 'cayenne-lpp' }, mapping: [{ path: 'a\u0000', metric: 'pm2_5' }] }, /U\+0000|mapping/],
    ['GET', '/api/v1/devices/xyz', undefined, /devEui/],
    ['GET', '/api/v1/devices/00000000000000a1/readings?from=yesterday', undefined, /^from:/],
    ['GET', '/api/v1/devices/00000000000000a1/readings?after=garbage', undefined, /^after:/],
    ['GET', '/api/v1/open/assets/lamp-1/series?metric=pm2_5&bucket=week', undefined, /bucket/],
    ['GET', '/api/v1/open/assets/lamp-1/series?metric=rssi', undefined, /metric: rssi is not published/],
    ['GET', '/api/v1/open/assets/lamp-1/series?metric=pm2_5&from=2026-10-05T00:00:00Z&to=2026-10-01T00:00:00Z', undefined, /from: must be before to/],
    ['GET', '/api/v1/open/datasets/air-quality/latest?bbox=1,2,3', undefined, /bbox:/],
    ['GET', '/api/v1/open/datasets/weather/latest', undefined, /id/],
    ['GET', '/api/v1/open/datasets/air-quality/export.csv?from=soon', undefined, /^from:/],
  ])('%s %s answers 4xx naming what to fix', async (method, url, body, message) => {
    const res = await call(method, url, 'admin', body);
    expect(res.statusCode, res.body).toBeGreaterThanOrEqual(400);
    expect(res.statusCode).toBeLessThan(500);
    const json = res.json();
    expect(json).toMatchObject({ error: expect.any(String), message: expect.stringMatching(message) });
  });
});

describe('open data', () => {
  it('names the publisher of the city profile in every open-data answer', async () => {
    const profile = (await call('GET', '/api/v1/open/city', null)).json();
    expect(profile).toMatchObject({ name: 'Köln', publisher: 'Stadt Köln & "Umland" <Amt 12>', contactEmail: 'opendata@stadt-koeln.de', regionalKey: '053150000000', licence: { id: 'dl-de/by-2-0' } });
    expect(profile.map.center).toEqual({ latitude: 50.96, longitude: 6.97 });
    const attribution = 'Stadt Köln & "Umland" <Amt 12>, dl-de/by-2-0';
    expect(profile.attribution).toBe(attribution);
    for (const url of ['/api/v1/open/datasets', '/api/v1/open/datasets/air-quality/latest', '/api/v1/open/datasets/air-quality/latest?format=geojson', '/api/v1/open/parking/zones', '/api/v1/open/assets/lamp-1/series?metric=pm2_5&from=2026-10-01T00:00:00Z&to=2026-10-02T00:00:00Z']) {
      expect((await call('GET', url, null)).json().attribution, url).toBe(attribution);
    }
  });

  it('serves hourly series as JSON and as RFC 4180 CSV with the same numbers', async () => {
    const url = `/api/v1/open/assets/lamp-1/series?metric=pm2_5&bucket=hour&from=2026-10-01T00:00:00Z&to=2026-10-02T00:00:00Z`;
    const res = await call('GET', url, null);
    expect(res.headers['content-type']).toBe('application/json; charset=utf-8');
    const json = res.json();
    expect(json.items).toHaveLength(24);
    expect(json.items[0]).toMatchObject({ time: '2026-10-01T00:00:00.000Z', count: 6, min: 0, max: 5, value: 2.5 });
    expect(json.licence).toBe('dl-de/by-2-0');
    const csvRes = await call('GET', `${url}&format=csv`, null);
    expect(csvRes.headers['content-type']).toMatch(/^text\/csv/);
    const rows = parseCsv(csvRes.body, { columns: true }) as Record<string, string>[];
    expect(rows).toHaveLength(24);
    expect(rows.map((r) => Number(r.value))).toEqual(json.items.map((i: { value: number }) => i.value));
  });

  it('hides non-public assets, radio metrics and internal notes', async () => {
    expect((await call('GET', '/api/v1/open/assets/lamp-2/series?metric=pm2_5', null)).statusCode).toBe(404);
    const geo = await call('GET', '/api/v1/open/datasets/air-quality/latest?format=geojson', null);
    const body = geo.json();
    expect(body.type).toBe('FeatureCollection');
    expect(body.features.map((f: { id: string }) => f.id)).toEqual(['lamp-1']);
    const f = body.features[0];
    expect(f.geometry).toEqual({ type: 'Point', coordinates: [6.7737, 51.2262] });
    expect(f.properties.pm2_5).toBeTypeOf('number');
    expect(geo.body).not.toMatch(/rssi|ladder|00000000000000a1/);
  });

  it('filters by bounding box and answers 304 to a matching If-None-Match', async () => {
    const inside = (await call('GET', '/api/v1/open/datasets/air-quality/latest?bbox=6.7,51.2,6.8,51.25', null)).json();
    expect(inside.items).toHaveLength(1);
    const outside = (await call('GET', '/api/v1/open/datasets/air-quality/latest?bbox=7,52,8,53', null)).json();
    expect(outside.items).toHaveLength(0);
    const first = await call('GET', '/api/v1/open/datasets', null);
    expect(first.headers['access-control-allow-origin']).toBe('*');
    const again = await call('GET', '/api/v1/open/datasets', null, undefined, { 'if-none-match': String(first.headers.etag) });
    expect(again.statusCode).toBe(304);
  });

  it('paginates raw series completely and without duplicates while inserts go on', async () => {
    const seen: string[] = [];
    let url: string | null = '/api/v1/open/assets/lamp-1/series?metric=pm2_5&bucket=raw&from=2026-10-01T00:00:00Z&to=2026-10-04T00:00:00Z&limit=50';
    let page = 0;
    while (url) {
      const res = await call('GET', url, null);
      const body = res.json() as { items: { time: string }[]; next: string | null };
      seen.push(...body.items.map((i) => i.time));
      url = body.next;
      // Someone keeps sending: new readings land after the range and inside it, between pages.
      await writeBatch(db.pool, {
        uplinks: [{ id: `late-${page}`, receivedAt: new Date(T0 + 5 * 86_400_000 + page * 1000), devEui: '00000000000000a1', fCnt: null, fPort: 10, payload: Buffer.alloc(1), decoded: null, decodeError: null, source: 'chirpstack', radio: { frequencyHz: null, spreadingFactor: null, bandwidthHz: null, dataRate: null, band: null, receptions: [] } }],
        readings: [{ time: new Date(T0 + 5 * 86_400_000 + page * 1000), devEui: '00000000000000a1', metric: 'pm2_5', channel: '', value: 1, quality: 'ok', assetId: 'lamp-1', uplinkId: `late-${page}` }],
        healthReadings: [], deadLetters: [],
      });
      page++;
    }
    expect(seen).toHaveLength(3 * 144);
    expect(new Set(seen).size).toBe(seen.length);
    expect(page).toBe(Math.ceil((3 * 144) / 50));
  });

  it('streams the bulk export as CSV with every public reading', async () => {
    const res = await call('GET', '/api/v1/open/datasets/air-quality/export.csv?from=2026-10-01T00:00:00Z&to=2026-10-04T00:00:00Z', null);
    expect(res.statusCode).toBe(200);
    const rows = parseCsv(res.body, { columns: true }) as Record<string, string>[];
    expect(rows).toHaveLength(3 * 144);
    expect(new Set(rows.map((r) => r.asset))).toEqual(new Set(['lamp-1']));
    expect(new Set(rows.map((r) => r.metric))).toEqual(new Set(['pm2_5']));
  });

  it('exports a device with more readings than a page completely, in order, nothing twice', async () => {
    // 10,500 readings: one full page of 10,000 and the rest, read ahead while the first is written.
    await db.pool.query(`insert into readings (time, dev_eui, metric, channel, value, quality, asset_id, uplink_id)
      select timestamptz '2026-09-01' + g * interval '1 minute' + interval '0.125 second', '00000000000000a1', 'pm10', '', g, 'ok', 'lamp-1', 'many'
      from generate_series(0, 10499) g`);
    const res = await call('GET', '/api/v1/open/datasets/air-quality/export.csv?from=2026-09-01T00:00:00Z&to=2026-09-30T00:00:00Z', null);
    expect(res.statusCode).toBe(200);
    const rows = parseCsv(res.body, { columns: true }) as Record<string, string>[];
    expect(rows).toHaveLength(10_500);
    expect(rows.map((r) => Number(r.value))).toEqual(Array.from({ length: 10_500 }, (_, g) => g));
    expect(rows[1]!.time).toBe('2026-09-01T00:01:00.125Z');
  });

  it('exports several devices in DevEUI order while reading ahead, the pages of a long device before the next device', async () => {
    // Two more public lamps in August: a3 with two and a half pages of two metrics, a4 with a few
    // readings. Pages of the devices after a3 are read while a3's pages are written; a3's second
    // and third pages must still come before a4's.
    await upsertAsset(db.pool, { id: 'lamp-3', kind: 'street_lamp', latitude: 51.2, longitude: 6.7, zone: 'altstadt', isPublic: true });
    await upsertAsset(db.pool, { id: 'lamp-4', kind: 'street_lamp', latitude: 51.2, longitude: 6.7, zone: 'altstadt', isPublic: true });
    await upsertDevice(db.pool, { devEui: '00000000000000a3', modelId: 'air-v1', assetId: 'lamp-3' });
    await upsertDevice(db.pool, { devEui: '00000000000000a4', modelId: 'air-v1', assetId: 'lamp-4' });
    try {
      await db.pool.query(`insert into readings (time, dev_eui, metric, channel, value, quality, asset_id, uplink_id)
        select timestamptz '2026-08-01' + g * interval '1 minute', '00000000000000a3', m, '', g, 'ok', 'lamp-3', 'ahead'
        from generate_series(0, 12499) g, unnest(array['pm10', 'pm2_5']) m
        union all
        select timestamptz '2026-08-02' + g * interval '1 hour', '00000000000000a4', 'pm2_5', '', 1000 + g, 'ok', 'lamp-4', 'ahead'
        from generate_series(0, 4) g`);
      const res = await call('GET', '/api/v1/open/datasets/air-quality/export.csv?from=2026-08-01T00:00:00Z&to=2026-08-31T00:00:00Z', null);
      expect(res.statusCode).toBe(200);
      const rows = parseCsv(res.body, { columns: true }) as Record<string, string>[];
      const minute = (g: number): string => new Date(Date.UTC(2026, 7, 1) + g * 60_000).toISOString();
      const expected = [
        ...['pm10', 'pm2_5'].flatMap((metric) => Array.from({ length: 12_500 }, (_, g) => `lamp-3 ${metric} ${minute(g)} ${g}`)),
        ...Array.from({ length: 5 }, (_, g) => `lamp-4 pm2_5 ${new Date(Date.UTC(2026, 7, 2) + g * 3_600_000).toISOString()} ${1000 + g}`),
      ];
      expect(rows.map((r) => `${r.asset} ${r.metric} ${r.time} ${r.value}`)).toEqual(expected);
    } finally {
      await db.pool.query(`delete from readings where uplink_id = 'ahead'`);
      await db.pool.query(`delete from device_mounts where dev_eui in ('00000000000000a3', '00000000000000a4')`);
      await db.pool.query(`delete from devices where dev_eui in ('00000000000000a3', '00000000000000a4')`);
      await db.pool.query(`delete from assets where id in ('lamp-3', 'lamp-4')`);
    }
  });
});

describe('live stream', () => {
  it('pushes changes and resumes after a reconnect with Last-Event-ID', async () => {
    await app.listen({ port: 0, host: '127.0.0.1' });
    const address = app.server.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    const open = (lastEventId?: number) =>
      new Promise<{ events: { id: number; assetId: string; value: number }[]; close(): void; wait(n: number): Promise<void> }>((resolve) => {
        const events: { id: number; assetId: string; value: number }[] = [];
        let waiting: { n: number; resolve: () => void } | null = null;
        const req = http.get({ port, host: '127.0.0.1', path: '/api/v1/live/stream?zone=altstadt', headers: { authorization: `Bearer ${keys.operator}`, ...(lastEventId ? { 'last-event-id': String(lastEventId) } : {}) } }, (res) => {
          let buffer = '';
          res.on('data', (chunk: Buffer) => {
            buffer += chunk.toString();
            let i;
            while ((i = buffer.indexOf('\n\n')) >= 0) {
              const block = buffer.slice(0, i);
              buffer = buffer.slice(i + 2);
              const data = /^data: (.*)$/m.exec(block);
              if (data && /^event: reading$/m.test(block)) events.push(JSON.parse(data[1]!));
              if (waiting && events.length >= waiting.n) waiting.resolve();
            }
          });
          resolve({
            events,
            close: () => req.destroy(),
            wait: (n) => (events.length >= n ? Promise.resolve() : new Promise<void>((r) => (waiting = { n, resolve: r }))),
          });
        });
      });
    const first = await open();
    const ev = (assetId: string, value: number) => bus.publish({ assetId, devEui: 'x', metric: 'occupied', channel: '', value, quality: 'ok', time: new Date().toISOString() });
    ev('bay-1', 1);
    ev('lamp-2', 5); // zone north: filtered out
    await first.wait(1);
    expect(first.events.map((e) => [e.assetId, e.value])).toEqual([['bay-1', 1]]);
    const lastSeen = first.events[0]!.id;
    first.close();
    ev('bay-1', 0); // missed while disconnected
    const second = await open(lastSeen);
    await second.wait(1);
    expect(second.events.map((e) => [e.assetId, e.value])).toEqual([['bay-1', 0]]);
    second.close();
  });
});
