/**
 * Registration at the lamp (issue 25, item 2) against a real database: a new asset and its
 * device are stored together or not at all, and a position that is missing, 0,0 or
 * outside the city's area (city profile) is refused with a message that says what to do,
 * in the registration, in POST/PATCH /api/v1/assets and in the CSV import.
 */
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../api/app.js';
import { createApiKey } from '../api/auth.js';
import { loadCityProfile } from '../city-profile.js';
import { upsertAsset, upsertDeviceModel } from '../storage/index.js';
import { createTestDatabase, TEST_MASTER_KEY, testLog, type TestDatabase } from './helpers.js';

let db: TestDatabase;
let app: FastifyInstance;
let key: string;
// Düsseldorf's default area: 6.6888,51.1245 … 6.9399,51.3525.
const city = loadCityProfile({});
const QR = 'LW:D0:0016C001FFFE0001:0016C001FF1000AB:A1B20002:SSN-4711';

const post = (url: string, body: unknown, contentType = 'application/json') => app.inject({
  method: 'POST', url, headers: { authorization: `Bearer ${key}`, 'content-type': contentType },
  payload: typeof body === 'string' ? body : JSON.stringify(body),
});
const count = async (sql: string, params: unknown[]) => (await db.pool.query(sql, params)).rowCount;

beforeAll(async () => {
  db = await createTestDatabase();
  app = await buildApp({
    pool: db.pool, log: testLog, version: 'test', masterKey: TEST_MASTER_KEY, timescale: db.timescale, city,
    status: async () => ({ database: { ok: true, embedded: false, timescale: db.timescale }, broker: { ok: true, embedded: false } }),
  });
  key = (await createApiKey(db.pool, 'tech', 'technician')).key;
  await upsertDeviceModel(db.pool, { id: 'air-v1', name: 'air', decoderKind: 'builtin', builtinName: 'stadtfunk-air' });
  await upsertAsset(db.pool, { id: 'lamp-0815', kind: 'street_lamp', latitude: 51.2262, longitude: 6.7737 });
});

afterAll(async () => {
  await app?.close();
  await db?.drop();
});

describe('registration of asset and device', () => {
  it('stores a new asset and its device together', async () => {
    const res = await post('/api/v1/registrations', { device: { qr: QR, modelId: 'air-v1' }, asset: { id: 'lamp-0816', kind: 'street_lamp', latitude: 51.2271, longitude: 6.7751, zone: 'altstadt' } });
    expect(res.statusCode, res.body).toBe(201);
    expect(res.json().device).toMatchObject({ devEui: '0016c001ff1000ab', joinEui: '0016c001fffe0001', assetId: 'lamp-0816' });
    expect(res.json().asset).toMatchObject({ id: 'lamp-0816', latitude: 51.2271, longitude: 6.7751 });
    expect(await count("select 1 from device_mounts where dev_eui = '0016c001ff1000ab' and asset_id = 'lamp-0816'", [])).toBe(1);
  });

  it('writes nothing when the device is refused, so fixing the QR code and saving again works', async () => {
    const asset = { id: 'lamp-0817', kind: 'street_lamp', latitude: 51.2272, longitude: 6.7752 };
    const wrong = await post('/api/v1/registrations', { device: { qr: 'LW:D0:broken', modelId: 'air-v1' }, asset });
    expect(wrong.statusCode).toBe(400);
    expect(wrong.json()).toMatchObject({ code: 'STADTFUNK_ERR_BAD_QR', details: { field: 'device.qr' } });
    const unknownModel = await post('/api/v1/registrations', { device: { devEui: '00000000000000f1', modelId: 'no-such-model' }, asset });
    expect(unknownModel.json()).toMatchObject({ code: 'STADTFUNK_ERR_UNKNOWN_MODEL', details: { field: 'device.modelId' } });
    expect(await count('select 1 from assets where id = $1', ['lamp-0817'])).toBe(0);
    const again = await post('/api/v1/registrations', { device: { devEui: '00000000000000f1', modelId: 'air-v1' }, asset });
    expect(again.statusCode, again.body).toBe(201);
    expect(again.body).not.toMatch(/exists already/);
  });

  it('two technicians registering one device at once leave one asset, not two', async () => {
    // Both requests pass the friendly checks before either commits; the insert of the
    // second device finds the first one and rolls its new asset back.
    for (let i = 0; i < 8; i++) {
      const devEui = `00000000000001${String(i).padStart(2, '0')}`;
      const register = (n: number) => post('/api/v1/registrations', { device: { devEui, modelId: 'air-v1' }, asset: { id: `race-${i}-${n}`, kind: 'street_lamp', latitude: 51.23, longitude: 6.78 } });
      const answers = await Promise.all([register(1), register(2)]);
      expect(answers.map((a) => a.statusCode).sort()).toEqual([201, 409]);
      expect(answers.find((a) => a.statusCode === 409)!.json().code).toBe('STADTFUNK_ERR_DEVICE_EXISTS');
      expect(await count('select 1 from assets where id like $1', [`race-${i}-%`])).toBe(1);
    }
  });

  it('answers an existing asset id with what to do instead of a dead end', async () => {
    const res = await post('/api/v1/registrations', { device: { devEui: '00000000000000f3', modelId: 'air-v1' }, asset: { id: 'lamp-0815', kind: 'street_lamp', latitude: 51.23, longitude: 6.78 } });
    expect(res.statusCode).toBe(409);
    expect(res.json()).toMatchObject({ code: 'STADTFUNK_ERR_ASSET_EXISTS', details: { field: 'asset.id', id: 'lamp-0815' } });
    expect(res.json().message).toMatch(/choose it as the existing asset/);
    expect(await count("select 1 from devices where dev_eui = '00000000000000f3'", [])).toBe(0);
    const onExisting = await post('/api/v1/registrations', { device: { devEui: '00000000000000f3', modelId: 'air-v1', assetId: 'lamp-0815' } });
    expect(onExisting.statusCode, onExisting.body).toBe(201);
    expect(onExisting.json().asset).toBeNull();
  });

  it.each([
    ['missing', { latitude: null, longitude: null }, 'STADTFUNK_ERR_POSITION_MISSING', /position is missing: use the phone's position, tap the map/],
    ['left out', {}, 'STADTFUNK_ERR_POSITION_MISSING', /position is missing/],
    ['0,0', { latitude: 0, longitude: 0 }, 'STADTFUNK_ERR_POSITION_ZERO', /0,0 is not a position in Düsseldorf/],
    ['outside the area', { latitude: 48.137, longitude: 11.575 }, 'STADTFUNK_ERR_POSITION_OUTSIDE', /outside Düsseldorf/],
    ['swapped', { latitude: 6.7737, longitude: 51.2262 }, 'STADTFUNK_ERR_POSITION_OUTSIDE', /look swapped/],
  ])('refuses a %s position and stores nothing', async (_name, position, code, message) => {
    const res = await post('/api/v1/registrations', { device: { devEui: '00000000000000f4', modelId: 'air-v1' }, asset: { id: 'lamp-0820', kind: 'street_lamp', ...position } });
    expect(res.statusCode).toBe(400);
    expect(res.json().code).toBe(code);
    expect(res.json().message).toMatch(message);
    expect(res.json().details.field).toMatch(/^asset\.l/);
    expect(await count('select 1 from assets where id = $1', ['lamp-0820'])).toBe(0);
    expect(await count("select 1 from devices where dev_eui = '00000000000000f4'", [])).toBe(0);
  });
});

describe('positions elsewhere in the registry', () => {
  it('POST /api/v1/assets refuses 0,0 and positions outside the city', async () => {
    for (const [latitude, longitude, code] of [[0, 0, 'STADTFUNK_ERR_POSITION_ZERO'], [52.52, 13.405, 'STADTFUNK_ERR_POSITION_OUTSIDE']] as const) {
      const res = await post('/api/v1/assets', { id: 'gauge-x', kind: 'water_gauge', latitude, longitude });
      expect(res.statusCode).toBe(400);
      expect(res.json().code).toBe(code);
    }
    expect(await count('select 1 from assets where id = $1', ['gauge-x'])).toBe(0);
    expect((await post('/api/v1/assets', { id: 'gauge-x', kind: 'water_gauge', latitude: 51.22, longitude: 6.77 })).statusCode).toBe(201);
  });

  it('PATCH /api/v1/assets refuses moving an asset to 0,0', async () => {
    const res = await app.inject({ method: 'PATCH', url: '/api/v1/assets/lamp-0815', headers: { authorization: `Bearer ${key}` }, payload: { latitude: 0, longitude: 0 } });
    expect(res.statusCode).toBe(400);
    expect(res.json().code).toBe('STADTFUNK_ERR_POSITION_ZERO');
    expect((await db.pool.query("select latitude from assets where id = 'lamp-0815'")).rows[0].latitude).toBe(51.2262);
  });

  it('the CSV import reports a new asset at 0,0 or outside the city by row and field', async () => {
    const csv = ['devEui,modelId,assetId,assetKind,latitude,longitude', '00000000000000e1,air-v1,lamp-e1,street_lamp,0,0', '00000000000000e2,air-v1,lamp-e2,street_lamp,48.1,11.5', '00000000000000e3,air-v1,lamp-e3,street_lamp,51.22,6.77'].join('\n');
    const res = await post('/api/v1/devices/import', csv, 'text/csv');
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json().imported).toBe(1);
    expect(res.json().problems.map((p: { row: number; field: string }) => [p.row, p.field])).toEqual([[2, 'latitude'], [3, 'latitude']]);
    expect(res.json().problems[0].problem).toMatch(/^0,0 is not a position/);
  });

  it('validation errors carry the field and keyword for a translated message', async () => {
    const res = await post('/api/v1/registrations', { device: { devEui: '00000000000000f5' } });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ code: 'STADTFUNK_ERR_VALIDATION', details: { field: 'device.modelId', keyword: 'required' } });
  });
});
