/**
 * The API as a newcomer meets it (issue 26, item 8): a 429 says rate_limited, the
 * OpenAPI document is valid and true about defaults and security, every list pages the
 * same way (a `next` URL and a Link header), and repeated reads are condensed in the
 * audit log without losing anyone's access. Real PostgreSQL; the app through inject.
 */
import { Validator } from '@seriousme/openapi-schema-validator';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../api/app.js';
import { createApiKey, type Role } from '../api/auth.js';
import { upsertAsset, upsertDevice, upsertDeviceModel, writeBatch } from '../storage/index.js';
import { createTestDatabase, TEST_MASTER_KEY, testLog, type TestDatabase } from './helpers.js';

let db: TestDatabase;
let app: FastifyInstance;
const keys = {} as Record<Role, string>;
const RATE_LIMIT = 20;

async function get(url: string, role: Role | null, remoteAddress?: string) {
  return app.inject({ method: 'GET', url, headers: role ? { authorization: `Bearer ${keys[role]}` } : {}, ...(remoteAddress ? { remoteAddress } : {}) });
}

beforeAll(async () => {
  db = await createTestDatabase();
  app = await buildApp({
    pool: db.pool, log: testLog, version: 'test', masterKey: TEST_MASTER_KEY, timescale: db.timescale, openDataRateLimitPerMinute: RATE_LIMIT,
    status: async () => ({ database: { ok: true, embedded: false, timescale: db.timescale }, broker: { ok: true, embedded: false } }),
  });
  for (const role of ['admin', 'technician', 'operator'] as const) keys[role] = (await createApiKey(db.pool, `${role} key`, role)).key;
  await upsertDeviceModel(db.pool, { id: 'air-v1', name: 'air', decoderKind: 'builtin', builtinName: 'stadtfunk-air' });
  for (let i = 0; i < 7; i++) {
    await upsertAsset(db.pool, { id: `lamp-${i}`, kind: 'street_lamp', latitude: 51.2 + i / 1000, longitude: 6.77, zone: 'altstadt', isPublic: true });
    await upsertDevice(db.pool, { devEui: `00000000000000b${i}`, modelId: 'air-v1', assetId: `lamp-${i}` });
  }
  const uplinks = [];
  const readings = [];
  const t0 = Date.UTC(2026, 9, 1);
  for (let i = 0; i < 10; i++) {
    const time = new Date(t0 + i * 600_000);
    const id = `b0-${i}`;
    uplinks.push({ id, receivedAt: time, devEui: '00000000000000b0', fCnt: i, fPort: 10, payload: Buffer.alloc(1), decoded: null, decodeError: null, source: 'chirpstack' as const, radio: { frequencyHz: null, spreadingFactor: null, bandwidthHz: null, dataRate: null, band: null, receptions: [] } });
    readings.push({ time, devEui: '00000000000000b0', metric: 'pm2_5', channel: '', value: i, quality: 'ok', assetId: 'lamp-0', uplinkId: id });
  }
  const deadLetters = Array.from({ length: 5 }, (_, i) => ({ receivedAt: new Date(t0 + i), topic: `t/${i}`, payload: Buffer.from(`bad ${i}`), reason: 'invalid_json', detail: null, devEui: null }));
  await writeBatch(db.pool, { uplinks, readings, healthReadings: [], deadLetters });
});

afterAll(async () => {
  await app?.close();
  await db?.drop();
});

describe('rate limit', () => {
  it('answers a 429 with code STADTFUNK_ERR_RATE_LIMITED and a message that says what to do', async () => {
    const address = '198.51.100.20';
    for (let i = 0; i < RATE_LIMIT; i++) expect((await get('/api/v1/open/datasets', null, address)).statusCode).toBe(200);
    const res = await get('/api/v1/open/datasets', null, address);
    expect(res.statusCode).toBe(429);
    expect(res.json()).toMatchObject({ error: 'Too Many Requests', code: 'STADTFUNK_ERR_RATE_LIMITED', message: expect.stringContaining(`${RATE_LIMIT} requests per minute`) });
    expect(res.headers['retry-after']).toBeDefined();
    // A request with an API key is not counted against the address (load tests use one: bench/k6).
    expect((await get('/api/v1/open/datasets', 'operator', address)).statusCode).toBe(200);
  });
});

describe('OpenAPI', () => {
  let doc: { paths: Record<string, Record<string, { security?: unknown[]; parameters?: { name: string; in: string; required?: boolean; schema?: { default?: unknown } }[] }>> };
  beforeAll(async () => {
    doc = (await get('/openapi.json', null, '198.51.100.30')).json();
  });

  it('is a valid OpenAPI document by its official schema', async () => {
    const result = await new Validator().validate(doc as never);
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
  });

  it('marks no parameter with a default as required', () => {
    const wrong: string[] = [];
    let defaulted = 0;
    for (const [path, operations] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(operations)) {
        for (const p of op.parameters ?? []) {
          if (p.schema?.default === undefined) continue;
          defaulted++;
          if (p.required) wrong.push(`${method.toUpperCase()} ${path} ${p.name}`);
        }
      }
    }
    expect(defaulted).toBeGreaterThan(5);
    expect(wrong).toEqual([]);
  });

  it('says a key is needed exactly where a request without one is refused', async () => {
    const sample: Record<string, string> = {
      '/api/v1/open/datasets/{id}/latest': 'air-quality', '/api/v1/open/datasets/{id}/export.csv': 'air-quality', '/api/v1/open/assets/{id}/series': 'lamp-0',
      '/api/v1/assets/{id}': 'lamp-0', '/api/v1/dead-letters/{id}/payload': '1',
    };
    const wrong: string[] = [];
    let checked = 0;
    for (const [path, operations] of Object.entries(doc.paths)) {
      const op = operations.get;
      if (!op || path.startsWith('/docs')) continue;
      const url = path.replace('{devEui}', '00000000000000b0').replace('{id}', sample[path] ?? 'x') + (path.endsWith('/series') ? '?metric=pm2_5' : '');
      const res = await get(url, null, '198.51.100.31');
      const declared = (op.security ?? []).length > 0;
      const refused = res.statusCode === 401;
      checked++;
      if (declared !== refused) wrong.push(`GET ${path}: security ${declared ? 'declared' : 'not declared'}, anonymous request answered ${res.statusCode}`);
    }
    expect(checked).toBeGreaterThan(15);
    expect(wrong).toEqual([]);
  });
});

describe('paging', () => {
  /** Follows `next` from `url`, checking each page's Link header against it; the items of all pages. */
  async function all(url: string, role: Role): Promise<unknown[]> {
    const items: unknown[] = [];
    let pages = 0;
    for (let next: string | null = url; next !== null; pages++) {
      const res = await get(next, role, '198.51.100.40');
      expect(res.statusCode, res.body).toBe(200);
      const body = res.json() as { items: unknown[]; next: string | null };
      items.push(...body.items);
      if (body.next === null) expect(res.headers.link).toBeUndefined();
      else {
        expect(body.next).toMatch(/^\/api\/v1\//);
        expect(res.headers.link).toBe(`<${body.next}>; rel="next"`);
      }
      next = body.next;
      expect(pages).toBeLessThan(50);
    }
    expect(pages).toBeGreaterThan(1);
    return items;
  }

  it.each([
    ['/api/v1/assets?limit=3', 'operator', 7, (i: { id: string }) => i.id],
    ['/api/v1/devices?limit=2', 'technician', 7, (i: { devEui: string }) => i.devEui],
    ['/api/v1/devices/00000000000000b0/readings?limit=4&from=2026-10-01T00:00:00Z&to=2026-10-02T00:00:00Z', 'operator', 10, (i: { time: string }) => i.time],
    ['/api/v1/open/assets/lamp-0/series?metric=pm2_5&bucket=raw&limit=3&from=2026-10-01T00:00:00Z&to=2026-10-02T00:00:00Z', 'operator', 10, (i: { time: string }) => i.time],
    ['/api/v1/dead-letters?limit=2', 'admin', 5, (i: { id: number }) => i.id],
  ] as [string, Role, number, (i: never) => unknown][])('%s: a next URL and a Link header lead through every item once', async (url, role, count, key) => {
    const items = await all(url, role);
    expect(items).toHaveLength(count);
    expect(new Set(items.map((i) => key(i as never))).size).toBe(count);
  });

  it('pages the audit log the same way', async () => {
    for (let i = 0; i < 4; i++) {
      const res = await app.inject({ method: 'POST', url: '/api/v1/assets', headers: { authorization: `Bearer ${keys.technician}` }, payload: { id: `paged-${i}`, kind: 'water_gauge', latitude: 51.2, longitude: 6.7 } });
      expect(res.statusCode).toBe(201);
    }
    const items = (await all('/api/v1/audit?limit=2', 'admin')) as { id: number }[];
    expect(items.length).toBeGreaterThanOrEqual(4);
    expect(new Set(items.map((i) => i.id)).size).toBe(items.length);
  });
});

describe('audit log', () => {
  it('condenses repeated reads of one key on one route, and keeps every reader and address apart', async () => {
    for (let i = 0; i < 30; i++) expect((await get('/api/v1/live/zones?zone=audit-a', 'operator', '192.0.2.1')).statusCode).toBe(200);
    for (let i = 0; i < 3; i++) await get('/api/v1/live/zones?zone=audit-a', 'admin', '192.0.2.1');
    await get('/api/v1/live/zones?zone=audit-a', 'operator', '192.0.2.2');
    // Changes stay one row each.
    for (const id of ['audit-x', 'audit-y']) await app.inject({ method: 'POST', url: '/api/v1/assets', headers: { authorization: `Bearer ${keys.technician}` }, payload: { id, kind: 'water_gauge', latitude: 51.2, longitude: 6.7 } });

    const rows = (await get('/api/v1/audit?limit=1000', 'admin', '192.0.2.9')).json().items as { action: string; actor: string; target: string; remoteAddr: string; count: number; at: string; firstAt: string }[];
    const reads = rows.filter((r) => r.action === 'live.zones.read' && r.target === '/api/v1/live/zones?zone=audit-a');
    const summary = reads.map((r) => [r.actor, r.remoteAddr, r.count]).sort();
    // (Within one clock hour; a run that crosses the hour splits a row in two, still counting all.)
    const total = (actor: string, address: string): number => reads.filter((r) => r.actor === actor && r.remoteAddr === address).reduce((n, r) => n + r.count, 0);
    expect(total('operator key', '192.0.2.1')).toBe(30);
    expect(total('admin key', '192.0.2.1')).toBe(3);
    expect(total('operator key', '192.0.2.2')).toBe(1);
    expect(summary.length).toBeLessThanOrEqual(6);
    const operatorRow = reads.find((r) => r.actor === 'operator key' && r.remoteAddr === '192.0.2.1')!;
    expect(Date.parse(operatorRow.at)).toBeGreaterThan(Date.parse(operatorRow.firstAt));
    const creates = rows.filter((r) => r.action === 'asset.create' && ['audit-x', 'audit-y'].includes(r.target));
    expect(creates.map((r) => r.count)).toEqual([1, 1]);
  });
});
