/**
 * Portal feeds benchmark: a city of 500 public garages and 200 zones of 20 bays each
 * (4,000 bays), every one with a current reading, then
 *   - the DATEX II 2.3 status document (about 700 sites): its latency at a fixed arrival
 *     rate (open loop, bench/paced.ts), and closed loop at 8 connections,
 *   - the same with If-Modified-Since answered 304 (closed loop, 32 connections),
 *   - the DCAT-AP.de catalog (Turtle) at a fixed rate,
 *   - what a rebuild costs (database read and document, in this process, 20 times each),
 * beside GET /health of the same run (the framework's ceiling here). The service runs as
 * npm start runs it, in a child process; autocannon and the paced client run here.
 *
 *   stadtfunk bench portals [--duration S] [--json FILE]
 *
 * --json keys the issue names: datexStatusP99Ms, datexNotModifiedRps, catalogP99Ms.
 */
import autocannon from 'autocannon';
import { dcatCatalog } from '../api/catalog/dcat-catalog.js';
import { toTurtle } from '../api/catalog/turtle.js';
import { parkingSnapshot } from '../api/datex2/parking-sites.js';
import { parkingStatusV2 } from '../api/datex2/v2-parking.js';
import { DATASETS } from '../api/open-data.js';
import { loadCityProfile } from '../city-profile.js';
import { catalog as metricCatalog } from '../decoders/index.js';
import { createPool, migrate, selectGarageSites, selectPublishedKinds, selectZoneSites } from '../storage/index.js';
import { benchEnvironment, benchLog, benchServiceEnv, percentile, printTable, writeJson } from './environment.js';
import { paced } from './paced.js';
import { startServiceChild } from './service-child.js';

const GARAGES = 500;
const ZONES = 200;
const BAYS_PER_ZONE = 20;
/** Fixed arrival rate of the latency runs: a busy portal's pulls, far below saturation. */
const FIXED_RATE = 100;

/** 500 public garages and 200 zones of 20 bays, each with a current reading in latest_state. */
export async function seedPortalCity(pool: import('pg').Pool): Promise<void> {
  await pool.query(`insert into device_models (id, name, decoder_kind, builtin_name) values ('p', 'parking', 'builtin', 'stadtfunk-parking')`);
  await pool.query(`
    insert into assets (id, kind, name, latitude, longitude, zone, is_public, capacity)
    select 'garage-' || g, 'garage', 'Parkhaus Nr. ' || g || ' „Kö“ & <Süd>', 51.2 + (g % 50) * 0.002, 6.75 + (g / 50) * 0.002, 'zone-' || (g % ${ZONES}), true, 300 + g % 200
    from generate_series(1, ${GARAGES}) g
    union all
    select 'bay-' || g, 'parking_bay', null, 51.2 + (g % 100) * 0.0005, 6.75 + (g / 100) * 0.0005, 'zone-' || (g % ${ZONES}), false, null
    from generate_series(1, ${ZONES * BAYS_PER_ZONE}) g`);
  await pool.query(`
    insert into devices (dev_eui, model_id, asset_id)
    select lpad(to_hex(g), 16, '0'), 'p', 'garage-' || g from generate_series(1, ${GARAGES}) g
    union all
    select lpad(to_hex(100000 + g), 16, '0'), 'p', 'bay-' || g from generate_series(1, ${ZONES * BAYS_PER_ZONE}) g`);
  await pool.query(`
    insert into latest_state (dev_eui, asset_id, time, metrics)
    select lpad(to_hex(g), 16, '0'), 'garage-' || g, t, jsonb_build_object(
      'free_spaces', jsonb_build_array((extract(epoch from t) * 1000)::bigint, g % 300, 'ok'),
      'total_spaces', jsonb_build_array((extract(epoch from t) * 1000)::bigint, 300 + g % 200, 'ok'))
    from generate_series(1, ${GARAGES}) g, lateral (select now() - (g % 300) * interval '1 second' as t) n
    union all
    select lpad(to_hex(100000 + g), 16, '0'), 'bay-' || g, t, jsonb_build_object('occupied', jsonb_build_array((extract(epoch from t) * 1000)::bigint, (g % 3 = 0)::int, 'ok'))
    from generate_series(1, ${ZONES * BAYS_PER_ZONE}) g, lateral (select now() - (g % 600) * interval '1 second' as t) n`);
  await pool.query('analyze');
}

/** Closed loop: requests/s and p99, with how many answers had the expected status. */
async function hammer(url: string, durationS: number, connections: number, headers: Record<string, string> = {}, expect = 200) {
  const r = await autocannon({ url, duration: durationS, connections, pipelining: 1, headers });
  const expected = Number((r.statusCodeStats as Record<string, { count: number }> | undefined)?.[String(expect)]?.count ?? 0);
  return { rps: r.requests.average, p99Ms: r.latency.p99, p50Ms: r.latency.p50, requests: r.requests.total, unexpected: r.requests.total - expected + r.errors };
}

/** Median and p99 of `n` runs of `f`, in milliseconds. */
async function timed(n: number, f: () => Promise<unknown>): Promise<{ p50Ms: number; p99Ms: number }> {
  const ms: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await f();
    ms.push(performance.now() - t0);
  }
  ms.sort((a, b) => a - b);
  return { p50Ms: percentile(ms, 50), p99Ms: percentile(ms, 99) };
}

export async function portalsBench(opts: { durationS?: number; json?: string } = {}): Promise<Record<string, unknown>> {
  const durationS = opts.durationS ?? 10;
  const env = await benchEnvironment();
  const setup = createPool({ url: env.databaseUrl, log: benchLog });
  try {
    const { timescale } = await migrate(setup);
    await seedPortalCity(setup);
    // The rebuild path, measured where it runs in the service: one read of the parking state and the document.
    const city = loadCityProfile({});
    let statusBytes = 0;
    const datexBuild = await timed(20, async () => {
      const [g, z] = await Promise.all([selectGarageSites(setup, { staleAfterS: 1800 }), selectZoneSites(setup, { staleAfterS: 1800 })]);
      statusBytes = Buffer.byteLength(parkingStatusV2(city, parkingSnapshot(g, z)));
    });
    const metrics = [...metricCatalog.values()].filter((m) => m.public).map((m) => m.id);
    const catalogBuild = await timed(20, async () => {
      const kinds = await selectPublishedKinds(setup, { metrics });
      await toTurtle(dcatCatalog({ base: 'https://bench.example', city, datasets: DATASETS, kinds }).resources);
    });
    const service = await startServiceChild(benchServiceEnv(env, { OPEN_DATA_RATE_LIMIT_PER_MINUTE: '100000000' }));
    try {
      const base = service.httpUrl;
      const statusPath = '/api/v1/open/datex2/v2.3/parking-status';
      const t0 = performance.now();
      const first = await fetch(`${base}${statusPath}`);
      await first.arrayBuffer();
      const firstMs = performance.now() - t0;
      const lastModified = first.headers.get('last-modified')!;
      const health = await hammer(`${base}/health`, durationS, 32);
      const statusAtRate = await paced(base, [statusPath], FIXED_RATE, durationS);
      // As feed consumers pull it: compressed (the gzip form is made once per document).
      const statusGzipAtRate = await paced(base, [statusPath], FIXED_RATE, durationS, { 'accept-encoding': 'gzip' });
      const status8 = await hammer(`${base}${statusPath}`, durationS, 8);
      const notModified = await hammer(`${base}${statusPath}`, durationS, 32, { 'if-modified-since': lastModified }, 304);
      const catalogAtRate = await paced(base, ['/api/v1/open/catalog.ttl'], FIXED_RATE, durationS);
      const result = {
        datexStatusP99Ms: statusAtRate.p99Ms,
        datexNotModifiedRps: notModified.rps,
        catalogP99Ms: catalogAtRate.p99Ms,
        datexStatusFixedRate: statusAtRate,
        datexStatusGzipFixedRate: statusGzipAtRate,
        datexStatus8Connections: status8,
        datexNotModified: notModified,
        datexStatusFirstRequestMs: firstMs,
        datexStatusBytes: statusBytes,
        datexStatusBuildMs: datexBuild,
        catalogFixedRate: catalogAtRate,
        catalogBuildMs: catalogBuild,
        baselineHealth: health,
        parameters: { durationS, garages: GARAGES, zones: ZONES, bays: ZONES * BAYS_PER_ZONE, fixedRate: FIXED_RATE, timescale, ...env.describe, node: process.version },
      };
      printTable('stadtfunk bench portals (DATEX II and DCAT-AP.de)', [
        ['database', `${env.describe.database}${timescale ? ' (TimescaleDB)' : ''}`],
        ['seeded', `${GARAGES} garages, ${ZONES} zones of ${BAYS_PER_ZONE} bays; status document ${(statusBytes / 1024).toFixed(0)} KiB`],
        ['GET /health (baseline) req/s, p99 ms', `${Math.round(health.rps)}, ${health.p99Ms}`],
        [`DATEX II status at ${FIXED_RATE} req/s: p50, p99 ms`, `${statusAtRate.p50Ms.toFixed(1)}, ${statusAtRate.p99Ms.toFixed(1)} (errors ${statusAtRate.errors})`],
        [`  the same with Accept-Encoding: gzip: p50, p99 ms`, `${statusGzipAtRate.p50Ms.toFixed(1)}, ${statusGzipAtRate.p99Ms.toFixed(1)} (errors ${statusGzipAtRate.errors})`],
        ['DATEX II status, 8 connections: req/s, p99 ms', `${Math.round(status8.rps)}, ${status8.p99Ms} (not 200: ${status8.unexpected})`],
        ['DATEX II status If-Modified-Since → 304, 32 connections: req/s, p99 ms', `${Math.round(notModified.rps)}, ${notModified.p99Ms} (not 304: ${notModified.unexpected})`],
        [`catalog (Turtle) at ${FIXED_RATE} req/s: p50, p99 ms`, `${catalogAtRate.p50Ms.toFixed(1)}, ${catalogAtRate.p99Ms.toFixed(1)} (errors ${catalogAtRate.errors})`],
        ['rebuild, every second at most: DATEX II status p50, p99 ms', `${datexBuild.p50Ms.toFixed(1)}, ${datexBuild.p99Ms.toFixed(1)} (first request ${firstMs.toFixed(0)} ms)`],
        ['rebuild, every minute at most: catalog p50, p99 ms', `${catalogBuild.p50Ms.toFixed(1)}, ${catalogBuild.p99Ms.toFixed(1)}`],
        ['targets', 'DATEX II status p99 < 20 ms; ≥ 2,000 req/s answered 304; catalog p99 < 20 ms'],
      ]);
      await writeJson(opts.json, result);
      return result;
    } finally {
      await service.stop();
    }
  } finally {
    await setup.end();
    await env.close();
  }
}
