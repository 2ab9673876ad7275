/**
 * Who sees what in SensorThings, and what the service refuses:
 * - anonymous requests see exactly what open data shows (public assets, public metrics),
 *   through every path, filter and expansion;
 * - operator and admin keys see everything, and those reads are audited (sta.read);
 * - creating, changing and deleting answer 405 before any body is read;
 * - a query that runs too long is stopped and answered 400, the service stays up.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../api/app.js';
import { datastreamId, thingId } from '../storage/sta/ids.js';
import { city, startStaFixture, type StaFixture } from './sta-fixture.js';
import { eventually, testLog } from './helpers.js';

let f: StaFixture;
beforeAll(async () => {
  f = await startStaFixture();
});
afterAll(async () => {
  await f?.close();
});

const privateLamp = thingId('lamp-3');
const privateSeries = datastreamId('raw', 'lamp-3', 'pm2_5', '');
const rssi = datastreamId('raw', 'lamp-1', 'rssi', '');

describe('anonymous requests see the open data only', () => {
  it('lists public Things, Datastreams of public metrics, models and quantities in use', async () => {
    const things = (await f.get('Things?$select=name')).body.value.map((t: { name: string }) => t.name);
    expect(things).not.toContain('lamp-3');
    expect(things).not.toContain('bay-1');
    const metrics = (await f.get('Datastreams?$top=1000&$select=properties')).body.value.map((d: { properties: { metric: string } }) => d.properties.metric);
    expect(new Set(metrics)).toEqual(new Set(['pm2_5', 'temperature', 'vehicle_count']));
    expect((await f.get('Sensors?$select=name')).body.value.map((s: { name: string }) => s.name).sort()).toEqual(['Air quality sensor', 'Traffic counter']);
    expect((await f.get('ObservedProperties?$select=name')).body.value.map((s: { name: string }) => s.name).sort()).toEqual(['Air temperature', 'PM2.5', 'vehicle_count']);
  });

  it('finds no private entity by id, path, filter or expansion', async () => {
    expect((await f.get(`Things(${privateLamp})`)).status).toBe(404);
    expect((await f.get(`Things(${privateLamp})/Datastreams`)).status).toBe(404);
    expect((await f.get(`Datastreams(${privateSeries})/Observations`)).status).toBe(404);
    expect((await f.get(`Datastreams(${rssi})`)).status).toBe(404);
    expect((await f.get(`Things?$filter=id eq ${privateLamp}`)).body.value).toEqual([]);
    expect((await f.get(`Observations?$filter=${encodeURIComponent(`Datastream/id eq ${rssi}`)}&$count=true`)).body['@iot.count']).toBe(0);
    const lamp1 = thingId('lamp-1');
    const expanded = (await f.get(`Things(${lamp1})?$expand=Datastreams($select=properties)`)).body.Datastreams.map((d: { properties: { metric: string } }) => d.properties.metric);
    expect(expanded).not.toContain('rssi');
    expect((await f.get(`Sensors?$expand=Datastreams($select=name)`)).body.value.flatMap((s: { Datastreams: { name: string }[] }) => s.Datastreams.map((d) => d.name)).join()).not.toMatch(/lamp-3|bay-1|rssi/);
  });

  it('treats a technician key as anonymous (the issue grants everything to operator and admin keys)', async () => {
    expect((await f.get(`Things(${privateLamp})`, 'technician')).status).toBe(404);
  });
});

describe('operator and admin keys see everything, audited', () => {
  it('shows private assets, private bays and health metrics, and records each read', async () => {
    for (const role of ['operator', 'admin'] as const) {
      expect((await f.get(`Things(${privateLamp})`, role)).status).toBe(200);
      expect((await f.get(`Datastreams(${rssi})/Observations?$top=1`, role)).body.value).toHaveLength(1);
      const names = (await f.get('Things?$select=name', role)).body.value.map((t: { name: string }) => t.name);
      expect(names).toEqual(expect.arrayContaining(['lamp-3', 'bay-1']));
    }
    // The audit log writes in small batches (at most 100 ms later).
    const rows = await eventually(async () => {
      const { rows: found } = await f.db.pool.query<{ actor: string; role: string; action: string; target: string }>(
        `select actor, role, action, target from audit_log where action = 'sta.read' order by id`);
      return found.length >= 6 ? found : undefined;
    });
    expect(rows.map((r) => r.role)).toEqual(expect.arrayContaining(['operator', 'admin']));
    expect(rows.some((r) => r.target === `/sta/v1.1/Things(${privateLamp})`)).toBe(true);
    // Anonymous reads are not audited (they are open data).
    expect(rows.every((r) => r.actor.endsWith('key'))).toBe(true);
  });
});

describe('refusals', () => {
  it('answers 405 with a reason to every write, before reading its body', async () => {
    for (const [method, url, payload] of [
      ['POST', '/sta/v1.1/Things', '{"name":"x","description":"y"}'],
      ['POST', '/sta/v1.1/Observations', '{not json'],
      ['PATCH', `/sta/v1.1/Things(${thingId('lamp-1')})`, '{"name":"renamed"}'],
      ['PUT', `/sta/v1.1/Things(${thingId('lamp-1')})`, 'x'.repeat(6 * 1024 * 1024)],
      ['DELETE', `/sta/v1.1/Things(${thingId('lamp-1')})`, undefined],
      ['POST', '/sta/v1.1', '[]'],
    ] as const) {
      const res = await f.app.inject({ method, url, headers: { 'content-type': 'application/json' }, ...(payload === undefined ? {} : { payload }) });
      expect(res.statusCode, `${method} ${url}`).toBe(405);
      expect(res.headers.allow).toBe('GET, HEAD, OPTIONS');
      expect(res.json().message).toMatch(/read-only/);
    }
    expect((await f.get(`Things(${thingId('lamp-1')})?$select=name`)).body.name).toBe('Lamp at the Rhine');
  });

  it('answers CORS preflights and sends CORS headers', async () => {
    const pre = await f.app.inject({ method: 'OPTIONS', url: '/sta/v1.1/Things', headers: { origin: 'https://qgis.example', 'access-control-request-method': 'GET' } });
    expect(pre.statusCode).toBeLessThan(300);
    expect(pre.headers['access-control-allow-origin']).toBe('*');
    expect((await f.get('Things')).headers['access-control-allow-origin']).toBe('*');
  });

  it('stops a query that scans too long with 400, and goes on answering', async () => {
    const app = await buildApp({
      pool: f.db.pool, log: testLog, version: 'test', timescale: f.db.timescale, openDataRateLimitPerMinute: 1_000_000, city,
      status: async () => ({ database: { ok: true, embedded: false, timescale: f.db.timescale }, broker: { ok: true, embedded: false } }),
      sta: { queryTimeoutMs: 100 },
    });
    try {
      // Every Observation against every Observation of its Thing: quadratic, far past 100 ms.
      const slow = await app.inject({ method: 'GET', url: `/sta/v1.1/Observations?$count=true&$filter=${encodeURIComponent('Datastream/Thing/Datastreams/Observations/result ge result add 1000')}` });
      expect(slow.statusCode).toBe(400);
      expect(slow.json().message).toMatch(/longer than 100 ms/);
      expect((await app.inject({ method: 'GET', url: '/sta/v1.1/Things?$top=1' })).statusCode).toBe(200);
    } finally {
      await app.close();
    }
  });
});
