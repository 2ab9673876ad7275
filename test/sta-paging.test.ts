/**
 * Keyset paging of Observations (issue 21): @iot.nextLink of Observations in time order
 * carries a $skiptoken naming the page's last row, and the next page starts after it.
 * Walking the next links yields every Observation exactly once and in order, also when
 * readings arrive between two pages (with $skip, a reading older than the page boundary
 * pushed the boundary's Observation onto the next page a second time).
 */
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { executeGet, type StaResult } from '../api/sta/execute.js';
import { parseQueryOptions } from '../api/sta/query-options.js';
import { ResolutionCache } from '../api/sta/resolution-cache.js';
import { parseResourcePath } from '../api/sta/resource-path.js';
import { STA_METRICS } from '../api/sta/vocabulary.js';
import { datastreamId, writeBatch } from '../storage/index.js';
import { COUNTS, STEP_MS, T0, startStaFixture, type StaFixture } from './sta-fixture.js';

let f: StaFixture;
beforeAll(async () => {
  f = await startStaFixture();
});
afterAll(async () => {
  await f?.close();
});

interface Obs { '@iot.id': string; phenomenonTime: string; result: number }

/** Every page of `path` through its next links: the Observations and the links followed. */
async function walk(path: string, between?: (page: number) => Promise<void>): Promise<{ all: Obs[]; links: string[] }> {
  const all: Obs[] = [];
  const links: string[] = [];
  let next: string | undefined = path;
  for (let page = 0; next; page++) {
    const res: { status: number; body: any } = await f.get(next);
    expect(res.status, next).toBe(200);
    all.push(...res.body.value);
    next = res.body['@iot.nextLink'];
    if (next) {
      links.push(next);
      await between?.(page);
    }
  }
  return { all, links };
}

/** The collection in one page, as the reference order. */
async function onePage(path: string): Promise<Obs[]> {
  const res = await f.get(`${path}${path.includes('?') ? '&' : '?'}$top=10000`);
  expect(res.status).toBe(200);
  expect(res.body['@iot.nextLink']).toBeUndefined();
  return res.body.value;
}

const ids = (list: Obs[]): string[] => list.map((o) => o['@iot.id']);
const pm25 = datastreamId('raw', 'lamp-1', 'pm2_5', '');

describe('Observations page by $skiptoken', () => {
  it("walks a Datastream's readings page by page: each once, in time order, by $skiptoken", async () => {
    const path = `Datastreams(${pm25})/Observations`;
    const expected = await onePage(path);
    expect(expected).toHaveLength(288);
    const { all, links } = await walk(`${path}?$top=50`);
    expect(ids(all)).toEqual(ids(expected));
    expect(links).toHaveLength(5);
    for (const link of links) {
      expect(link).toContain('$skiptoken=');
      expect(link).not.toContain('$skip=');
    }
  });

  it('walks newest first with $orderby=phenomenonTime desc, and keeps $filter and $count in every link', async () => {
    const path = `Datastreams(${pm25})/Observations?$orderby=${encodeURIComponent('phenomenonTime desc')}&$filter=${encodeURIComponent('result ge 10')}`;
    const expected = await onePage(path);
    expect(expected.length).toBeGreaterThan(100);
    const { all, links } = await walk(`${path}&$top=40&$count=true`);
    expect(ids(all)).toEqual(ids(expected));
    for (let i = 1; i < all.length; i++) expect(all[i]!.phenomenonTime < all[i - 1]!.phenomenonTime).toBe(true);
    expect(links.every((l) => l.includes('$count=true') && l.includes('$filter=') && l.includes('$skiptoken='))).toBe(true);
    const last = await f.get(links[links.length - 1]!);
    expect(last.body['@iot.count']).toBe(expected.length);
  });

  it('walks all Observations of all Datastreams, where many share a phenomenonTime (the Datastream breaks ties)', async () => {
    const expected = await onePage('Observations');
    expect(expected).toHaveLength(COUNTS.Observations!);
    for (const top of [7, 37]) {
      const { all } = await walk(`Observations?$top=${top}`);
      expect(ids(all), `$top=${top}`).toEqual(ids(expected));
    }
    const desc = await onePage(`Observations?$orderby=${encodeURIComponent('phenomenonTime desc')}`);
    const { all } = await walk(`Observations?$top=29&$orderby=${encodeURIComponent('phenomenonTime desc')}`);
    expect(ids(all)).toEqual(ids(desc));
  });

  it('walks hourly means (aggregate Datastreams) by $skiptoken as well', async () => {
    const path = `Datastreams(${datastreamId('hour', 'lamp-1', 'pm2_5', '')})/Observations`;
    const expected = await onePage(path);
    expect(expected).toHaveLength(48);
    const { all, links } = await walk(`${path}?$top=7`);
    expect(ids(all)).toEqual(ids(expected));
    expect(links.every((l) => l.includes('$skiptoken='))).toBe(true);
  });

  it('yields every Observation once when readings arrive between pages, older and newer than the page boundary', async () => {
    const path = `Datastreams(${pm25})/Observations`;
    const before = await onePage(path);
    const newest = T0 + 288 * STEP_MS;
    const { all } = await walk(`${path}?$top=50`, async (page) => {
      // A late reading between two readings of the first page, and one after all of them.
      const at = [T0 + page * STEP_MS + 60_000, newest + page * STEP_MS];
      const uplinks = at.map((t) => ({ id: `late-${t}`, receivedAt: new Date(t), devEui: '00000000000000a1', fCnt: 10_000 + page, fPort: 10, payload: Buffer.alloc(1), decoded: null, decodeError: null, source: 'chirpstack' as const, radio: { frequencyHz: null, spreadingFactor: null, bandwidthHz: null, dataRate: null, band: null, receptions: [] } }));
      const readings = at.map((t) => ({ time: new Date(t), devEui: '00000000000000a1', metric: 'pm2_5', channel: '', value: 7, quality: 'ok' as const, assetId: 'lamp-1', uplinkId: `late-${t}` }));
      await writeBatch(f.db.pool, { uplinks, readings, healthReadings: [], deadLetters: [] });
    });
    const seen = ids(all);
    expect(new Set(seen).size, 'no Observation twice').toBe(seen.length);
    // Every Observation there was before the walk, in order; the newer arrivals after them.
    const old = new Set(ids(before));
    expect(seen.filter((id) => old.has(id))).toEqual(ids(before));
    const times = all.map((o) => o.phenomenonTime);
    expect([...times].sort()).toEqual(times);
    expect(all.filter((o) => Date.parse(o.phenomenonTime) >= newest)).toHaveLength(5);
  });

  it('still pages by $skip where clients send it, and by $skip for other orders', async () => {
    const path = `Datastreams(${pm25})/Observations`;
    const expected = await onePage(path);
    const res = await f.get(`${path}?$top=10&$skip=100`);
    expect(ids(res.body.value)).toEqual(ids(expected.slice(100, 110)));
    expect(res.body['@iot.nextLink']).toContain('$skiptoken=');
    const byResult = await f.get(`${path}?$top=10&$orderby=result`);
    expect(byResult.body['@iot.nextLink']).toContain('$skip=10');
    expect(byResult.body['@iot.nextLink']).not.toContain('$skiptoken');
  });

  it('refuses a $skiptoken it did not write, and one for an order it does not page by', async () => {
    const path = `Datastreams(${pm25})/Observations`;
    for (const token of ['abc', '1~2', '1~2~-3']) {
      const res = await f.get(`${path}?$skiptoken=${token}`);
      expect(res.status, token).toBe(400);
      expect(res.body.message).toContain('$skiptoken');
    }
    const token = new URL((await f.get(`${path}?$top=3`)).body['@iot.nextLink']).searchParams.get('$skiptoken');
    const res = await f.get(`${path}?$orderby=result&$skiptoken=${token}`);
    expect(res.status).toBe(400);
    expect(res.body.message).toContain('$skiptoken');
    const things = await f.get(`Things?$skiptoken=${token}`);
    expect(things.status).toBe(400);
  });
});

describe("a chain's Datastream", () => {
  const root = 'https://daten.example.org/sta/v1.1';

  /** executeGet as the route calls it, on a connection that records each statement. */
  async function reader(all: boolean, cache: ResolutionCache): Promise<{ get(url: string): Promise<StaResult>; statements: string[]; release(): void }> {
    const client = await f.db.pool.connect();
    const statements: string[] = [];
    const db = { query: (text: string, values: unknown[]) => (statements.push(text), client.query(text, values)) } as unknown as pg.ClientBase;
    const links = { base: root, licence: { id: 'l', name: 'l', url: 'l' }, attribution: 'a' };
    return {
      statements,
      release: () => client.release(),
      async get(url) {
        const u = new URL(url.startsWith('https:') ? url : `${root}/${url}`);
        const pathPart = u.pathname.slice('/sta/v1.1'.length);
        const segments = pathPart.split('/').filter((x) => x !== '').map(decodeURIComponent);
        return executeGet(db, { all, timescale: f.db.timescale, metrics: STA_METRICS }, parseResourcePath(segments), parseQueryOptions(Object.fromEntries(u.searchParams)), links, pathPart, cache);
      },
    };
  }
  const body = (r: StaResult): { value: Obs[]; '@iot.nextLink'?: string } => JSON.parse((r as { body: Buffer }).body.toString('utf8'));

  it('is looked up once for the pages of a chain, again by a new request and after its time', async () => {
    let nowMs = 0;
    const r = await reader(false, new ResolutionCache(2_000, 100, () => nowMs));
    try {
      const expected = await onePage(`Datastreams(${pm25})/Observations`);
      const perPage: number[] = [];
      const seen: Obs[] = [];
      let next: string | undefined = `Datastreams(${pm25})/Observations?$top=100&$count=true`;
      while (next) {
        const before = r.statements.length;
        const page = body(await r.get(next));
        perPage.push(r.statements.length - before);
        seen.push(...page.value);
        next = page['@iot.nextLink'];
      }
      expect(ids(seen)).toEqual(ids(expected));
      // The first page resolves the Datastream, reads its page and counts; the next ones only read and count.
      expect(perPage).toEqual([3, 2, 2]);
      const first = body(await r.get(`Datastreams(${pm25})/Observations?$top=100`));
      const before = r.statements.length;
      await r.get(first['@iot.nextLink']!);
      expect(r.statements.length - before).toBe(1);
      nowMs += 2_001;
      await r.get(first['@iot.nextLink']!);
      expect(r.statements.length - before).toBe(3);
    } finally {
      r.release();
    }
  });

  it("is not taken from a resolution for an operator by an anonymous client's next link", async () => {
    const privateSeries = datastreamId('raw', 'lamp-3', 'pm2_5', '');
    const cache = new ResolutionCache(2_000, 100, () => 0);
    const operator = await reader(true, cache);
    const anonymous = await reader(false, cache);
    try {
      const first = body(await operator.get(`Datastreams(${privateSeries})/Observations?$top=10`));
      expect(first.value).toHaveLength(10);
      expect((await operator.get(first['@iot.nextLink']!)).kind).toBe('bytes');
      await expect(anonymous.get(first['@iot.nextLink']!)).rejects.toMatchObject({ details: { status: 404 } });
    } finally {
      operator.release();
      anonymous.release();
    }
  });
});
