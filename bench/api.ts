/**
 * API benchmark with autocannon: a city of 10,000 parking bays and 1,000 lamps with a
 * month of air-quality readings, then
 *   - live zone occupancy (operator key),
 *   - one-month hourly series of 100 lamps in turn (open data), closed loop at 32 and 8
 *     connections, and arriving at a fixed rate (open loop) for the request's own latency,
 *   - the bulk CSV export of the air-quality dataset (rows/s, memory before/after),
 * beside GET /health measured in the same run (the framework's ceiling here). The service
 * runs in a child process as npm start runs it; autocannon runs in this one.
 * The same scenarios for k6 are in bench/k6/.
 *
 *   stadtfunk bench api [--duration S] [--json FILE]
 */
import autocannon from 'autocannon';
import { createApiKey } from '../api/auth.js';
import { createPool, migrate } from '../storage/index.js';
import { benchEnvironment, benchLog, benchServiceEnv, printTable, writeJson } from './environment.js';
import { paced } from './paced.js';
import { startServiceChild } from './service-child.js';

interface Measured {
  rps: number;
  p99Ms: number;
  p50Ms: number;
  errors: number;
}

/** Closed loop: each connection sends its next request when the last one is answered. */
async function hammer(url: string, durationS: number, headers: Record<string, string> = {}, paths?: string[], connections = 32): Promise<Measured> {
  const r = await autocannon({ url, duration: durationS, connections, pipelining: 1, headers, ...(paths ? { requests: paths.map((path) => ({ method: 'GET' as const, path })) } : {}) });
  return { rps: r.requests.average, p99Ms: r.latency.p99, p50Ms: r.latency.p50, errors: r.errors + r.non2xx };
}

/** The fixed request rate of the series latency run: about half of what this machine answered at saturation. */
const SERIES_FIXED_RATE = 200;

/** Server-side seeding: assets, devices, latest bay states and a month of lamp readings. Also bench sta's city. */
export async function seedApiCity(pool: import('pg').Pool, monthStart: Date): Promise<number> {
  await pool.query(`insert into device_models (id, name, decoder_kind, builtin_name) values ('p', 'parking', 'builtin', 'stadtfunk-parking'), ('a', 'air', 'builtin', 'stadtfunk-air')`);
  await pool.query(`
    insert into assets (id, kind, latitude, longitude, zone, is_public)
    select 'bay-' || g, 'parking_bay', 51.2 + (g % 100) * 0.0005, 6.75 + (g / 100) * 0.0005, 'zone-' || (g % 20), false from generate_series(1, 10000) g
    union all
    select 'lamp-' || g, 'street_lamp', 51.2 + (g % 40) * 0.001, 6.75 + (g / 40) * 0.001, 'zone-' || (g % 20), true from generate_series(1, 1000) g`);
  await pool.query(`
    insert into devices (dev_eui, model_id, asset_id)
    select lpad(to_hex(g), 16, '0'), 'p', 'bay-' || g from generate_series(1, 10000) g
    union all
    select lpad(to_hex(100000 + g), 16, '0'), 'a', 'lamp-' || g from generate_series(1, 1000) g`);
  await pool.query(`
    insert into latest_state (dev_eui, asset_id, time, metrics)
    select lpad(to_hex(g), 16, '0'), 'bay-' || g, t, jsonb_build_object('occupied', jsonb_build_array((extract(epoch from t) * 1000)::bigint, (g % 3 = 0)::int, 'ok'))
    from generate_series(1, 10000) g, lateral (select now() - (g % 600) * interval '1 second' as t) n`);
  // 1,000 lamps × 30 days × every 15 minutes = 2,880,000 readings.
  const r = await pool.query(`
    insert into readings (time, dev_eui, metric, channel, value, quality, asset_id, uplink_id)
    select $1::timestamptz + s * interval '15 minutes', lpad(to_hex(100000 + g), 16, '0'), 'pm2_5', '', (g + s) % 40, 'ok', 'lamp-' || g, 'seed'
    from generate_series(1, 1000) g, generate_series(0, 30 * 96 - 1) s`, [monthStart]);
  await pool.query('analyze');
  return r.rowCount ?? 0;
}

export async function apiBench(opts: { durationS?: number; json?: string } = {}): Promise<Record<string, unknown>> {
  const durationS = opts.durationS ?? 10;
  const env = await benchEnvironment();
  const setup = createPool({ url: env.databaseUrl, log: benchLog });
  try {
    const { timescale } = await migrate(setup);
    const monthStart = new Date(Date.UTC(2026, 9, 1));
    const readings = await seedApiCity(setup, monthStart);
    if (timescale) {
      await setup.query(`call refresh_continuous_aggregate('readings_hourly', null, null)`);
      // Visibility and statistics of the freshly materialised aggregate chunks, as autovacuum
      // sets them after a refresh: series read the aggregates with index-only scans (0007).
      await setup.query('vacuum analyze');
    }
    const operator = (await createApiKey(setup, 'bench desk', 'operator')).key;
    // The load generator is one client: lift the per-client open-data limit for the run.
    // The service as shipped (npm start's Node flags) in a process of its own: autocannon does
    // not share its event loop.
    const service = await startServiceChild(benchServiceEnv(env, { INGEST_CHIRPSTACK_PREFIX: 'bench-api/application', OPEN_DATA_RATE_LIMIT_PER_MINUTE: '100000000' }));
    try {
      const base = service.httpUrl;
      const health = await hammer(`${base}/health`, durationS);
      const zones = await hammer(`${base}/api/v1/live/zones`, durationS, { authorization: `Bearer ${operator}` });
      // One month of hourly pm2_5 of 100 different lamps in turn (720 buckets each).
      const seriesPaths = Array.from({ length: 100 }, (_, i) => `/api/v1/open/assets/lamp-${i * 10 + 7}/series?metric=pm2_5&bucket=hour&from=2026-10-01T00:00:00Z&to=2026-10-31T00:00:00Z&limit=1000`);
      const series = await hammer(`${base}${seriesPaths[0]}`, durationS, {}, seriesPaths);
      // Closed loop at 32 connections saturates the machine: its p99 is mostly time in the
      // queue (32 / req/s). The request's own latency shows at a fixed arrival rate below
      // saturation (open loop, bench/paced.ts).
      const series8 = await hammer(`${base}${seriesPaths[0]}`, durationS, {}, seriesPaths, 8);
      // One request at a time: the request's own latency with nothing queued before it.
      const series1 = await hammer(`${base}${seriesPaths[0]}`, durationS, {}, seriesPaths, 1);
      const seriesAtRate = await paced(base, seriesPaths, SERIES_FIXED_RATE, durationS);
      // Bulk export: one month of the air-quality dataset, read to the end; memory before and after.
      const rssBefore = (await service.report()).rssMb;
      const t0 = performance.now();
      const res = await fetch(`${base}/api/v1/open/datasets/air-quality/export.csv?from=2026-10-01T00:00:00Z&to=2026-11-01T00:00:00Z`);
      if (res.status !== 200) throw new Error(`export answered ${res.status}`);
      let lines = 0;
      const reader = res.body!.getReader();
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        for (const byte of value) if (byte === 10) lines++;
      }
      const exportRows = lines - 1;
      const csvExportRowsPerSecond = exportRows / ((performance.now() - t0) / 1000);
      const rssPeak = (await service.report()).rssPeakMb;
      const result = {
        zoneOccupancy: { rps: zones.rps, p99Ms: zones.p99Ms, p50Ms: zones.p50Ms, errors: zones.errors },
        hourlySeriesMonth: { rps: series.rps, p99Ms: series.p99Ms, p50Ms: series.p50Ms, errors: series.errors },
        hourlySeriesMonth8Connections: { rps: series8.rps, p99Ms: series8.p99Ms, p50Ms: series8.p50Ms, errors: series8.errors },
        hourlySeriesMonthOneAtATime: { rps: series1.rps, p99Ms: series1.p99Ms, p50Ms: series1.p50Ms, errors: series1.errors },
        hourlySeriesMonthFixedRate: { requestedRps: SERIES_FIXED_RATE, rps: seriesAtRate.rps, p99Ms: seriesAtRate.p99Ms, p50Ms: seriesAtRate.p50Ms, errors: seriesAtRate.errors },
        csvExportRowsPerSecond,
        csvExportRows: exportRows,
        rssDuringExportMb: { before: rssBefore, peak: rssPeak },
        baselineHealth: health,
        parameters: { durationS, connections: 32, bays: 10_000, lamps: 1_000, readings, timescale, ...env.describe, node: process.version },
      };
      printTable('stadtfunk bench api (autocannon, 32 connections)', [
        ['database', `${env.describe.database}${timescale ? ' (TimescaleDB)' : ''}`],
        ['seeded', `10,000 bays, 1,000 lamps, ${readings.toLocaleString('en-US')} readings (a month)`],
        ['GET /health (baseline) req/s, p99 ms', `${Math.round(health.rps)}, ${health.p99Ms}`],
        ['live zone occupancy req/s, p99 ms', `${Math.round(zones.rps)}, ${zones.p99Ms} (errors ${zones.errors})`],
        ['one-month hourly series req/s, p99 ms', `${Math.round(series.rps)}, ${series.p99Ms} (errors ${series.errors})`],
        ['  the same at 8 connections', `${Math.round(series8.rps)}, ${series8.p99Ms} (errors ${series8.errors})`],
        ['  the same one request at a time (1 connection)', `${Math.round(series1.rps)}, ${series1.p99Ms} (errors ${series1.errors})`],
        [`  the same arriving at a fixed ${SERIES_FIXED_RATE} req/s (open loop)`, `${Math.round(seriesAtRate.rps)}, ${seriesAtRate.p99Ms.toFixed(1)} (errors ${seriesAtRate.errors})`],
        ['bulk CSV export rows/s', csvExportRowsPerSecond],
        ['bulk CSV export rows', exportRows],
        ['service RSS before / peak during export MB', `${rssBefore.toFixed(0)} / ${rssPeak.toFixed(0)}`],
        ['targets', 'zones ≥ 5,000 req/s p99 < 20 ms; series p99 < 50 ms; export ≥ 200,000 rows/s'],
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
