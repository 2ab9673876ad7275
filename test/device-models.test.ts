/**
 * Device models through the API against a real database (issue 24): the exact examples
 * gate on PUT, codecs run off the API's thread, unverified codecs marked, the proposal
 * and its reasons, and the category.
 */
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../api/app.js';
import { createApiKey } from '../api/auth.js';
import { upsertDevice, upsertDeviceModel, writeBatch } from '../storage/index.js';
import { createTestDatabase, testLog, type TestDatabase } from './helpers.js';

let db: TestDatabase;
let app: FastifyInstance;
let technician = '';

const put = (id: string, body: Record<string, unknown>) =>
  app.inject({ method: 'PUT', url: `/api/v1/device-models/${id}`, headers: { authorization: `Bearer ${technician}`, 'content-type': 'application/json' }, payload: JSON.stringify({ id, name: id, ...body }) });
const get = (url: string) => app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${technician}` } });

// Dingtek DC500's example (TheThingsNetwork/lorawan-devices vendor/dingtek/dc500-codec.yaml) with a codec of our own.
const codec = `function u16(b, i) { return (b[i] << 8) | b[i + 1]; }
function decodeUplink(input) { var b = input.bytes; return { data: { peopleCounter: u16(b, 5), alarmCounter: b[8] === 1, alarmBattery: b[7] === 1, volt: u16(b, 9) / 100, frameCounter: u16(b, 17) } }; }`;
const input = { fPort: 3, bytes: [0x80, 0x00, 0x02, 0x01, 0x15, 0x01, 0x01, 0x01, 0x00, 0x01, 0x6f, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x81] };
const output = { data: { peopleCounter: 257, alarmCounter: false, alarmBattery: true, volt: 3.67, frameCounter: 1 } };

beforeAll(async () => {
  db = await createTestDatabase();
  app = await buildApp({ pool: db.pool, log: testLog, version: 'test', status: async () => ({ database: { ok: true, embedded: false, timescale: db.timescale }, broker: { ok: true, embedded: false } }) });
  technician = (await createApiKey(db.pool, 'tech', 'technician')).key;
});
afterAll(async () => {
  await app?.close();
  await db?.drop();
});

describe('PUT /api/v1/device-models with a codec', () => {
  it('refuses an example whose data is wrong even beside errors: [] (422)', async () => {
    const res = await put('dc500-wrong', { decoder: { kind: 'codec', script: codec }, examples: [{ description: 'wrong', input, output: { data: { totally: 'wrong' }, errors: [] } }] });
    expect(res.statusCode).toBe(422);
    expect(res.json().message).toMatch(/output.data.totally: expected "wrong", got \(absent\)/);
  });

  it('accepts exact examples, infers the category and answers with the proposal', async () => {
    const res = await put('dc500', { decoder: { kind: 'codec', script: codec }, examples: [{ description: 'event', input, output }] });
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body).toMatchObject({ verified: true, category: 'people' });
    // (examples are stored as jsonb, which orders keys its own way)
    expect(body.proposal.mapping).toHaveLength(2);
    expect(body.proposal.mapping).toEqual(expect.arrayContaining([{ path: 'peopleCounter', metric: 'people_count_total' }, { path: 'volt', metric: 'battery_voltage' }]));
    expect((await get('/api/v1/device-models')).json().items.find((m: { id: string }) => m.id === 'dc500')).toMatchObject({ verified: true, category: 'people', examples: 1 });
  });

  it('marks a codec without examples unverified, in the list and on its own', async () => {
    expect((await put('no-examples', { decoder: { kind: 'codec', script: codec } })).json()).toMatchObject({ verified: false });
    expect((await get('/api/v1/device-models')).json().items.find((m: { id: string }) => m.id === 'no-examples')).toMatchObject({ verified: false, examples: 0 });
    expect((await get('/api/v1/device-models/no-examples')).json()).toMatchObject({ verified: false, proposal: { mapping: [], left: [] } });
  });

  it('says why a field is left: a gas without a unit', async () => {
    const gas = 'function decodeUplink(input) { return { data: { NO2: input.bytes[0], pm2_5: input.bytes[1] } }; }';
    const res = await put('gas', { decoder: { kind: 'codec', script: gas }, examples: [{ description: 'x', input: { fPort: 1, bytes: [20, 9] }, output: { data: { NO2: 20, pm2_5: 9 } } }] });
    expect(res.json()).toMatchObject({ category: 'air', proposal: { mapping: [{ path: 'pm2_5', metric: 'pm2_5' }], left: [{ path: 'NO2', reason: expect.stringMatching(/ppb or µg\/m³/) }] } });
  });

  it('stops a memory bomb in its worker: a 422 with the memory-limit error, and the API answers meanwhile', async () => {
    const bomb = 'function decodeUplink() { const a = []; for (;;) a.push(new Uint8Array(1 << 20)); }';
    const pending = put('bomb', { decoder: { kind: 'codec', script: bomb }, examples: [{ description: 'x', input: { fPort: 1, bytes: [1] }, output: { data: {} } }] });
    const health = await app.inject({ method: 'GET', url: '/api/v1/device-models', headers: { authorization: `Bearer ${technician}` } });
    expect(health.statusCode).toBe(200);
    const res = await pending;
    expect(res.statusCode).toBe(422);
    expect(res.json().message).toMatch(/memory limit of 16 MiB|time limit of 100 ms/);
  }, 60_000);
});

describe('GET /api/v1/devices/:devEui/counts', () => {
  it('turns a reported counter into counts per interval across a reset and a wrap, per direction', async () => {
    await upsertDeviceModel(db.pool, { id: 'counter', name: 'c', decoderKind: 'builtin', builtinName: 'cayenne-lpp' });
    await upsertDevice(db.pool, { devEui: '00000000000c0001', modelId: 'counter' });
    const T = Date.UTC(2026, 10, 24, 12);
    // in: 65530 before the window, then 65534, 2 (wrap), 5; out: 100, 120, 3 (reset), 10
    const series: [number, string, number][] = [[-5, 'direction=in', 65_530], [10, 'direction=in', 65_534], [70, 'direction=in', 2], [80, 'direction=in', 5],
      [-5, 'direction=out', 100], [10, 'direction=out', 120], [70, 'direction=out', 3], [80, 'direction=out', 10]];
    const uplinks = series.map(([min], i) => ({ id: `c-${i}`, receivedAt: new Date(T + min * 60_000), devEui: '00000000000c0001', fCnt: i, fPort: 1, payload: Buffer.alloc(1), decoded: null, decodeError: null, source: 'chirpstack' as const, radio: { frequencyHz: null, spreadingFactor: null, bandwidthHz: null, dataRate: null, band: null, receptions: [] } }));
    const readings = series.map(([min, channel, value], i) => ({ time: new Date(T + min * 60_000), devEui: '00000000000c0001', metric: 'people_count_total', channel, value, quality: 'ok', assetId: null, uplinkId: `c-${i}` }));
    await writeBatch(db.pool, { uplinks, readings, healthReadings: [], deadLetters: [] });
    const res = await get(`/api/v1/devices/00000000000c0001/counts?from=${new Date(T).toISOString()}&to=${new Date(T + 2 * 3_600_000).toISOString()}&wrapAt=65536`);
    expect(res.statusCode).toBe(200);
    expect(res.json().items).toEqual([
      { channel: 'direction=in', start: '2026-11-24T12:00:00.000Z', count: 4, resets: 0, wraps: 0 },
      { channel: 'direction=in', start: '2026-11-24T13:00:00.000Z', count: 7, resets: 0, wraps: 1 },
      { channel: 'direction=out', start: '2026-11-24T12:00:00.000Z', count: 20, resets: 0, wraps: 0 },
      { channel: 'direction=out', start: '2026-11-24T13:00:00.000Z', count: 10, resets: 1, wraps: 0 },
    ]);
  });
});
