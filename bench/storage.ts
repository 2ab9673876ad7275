/**
 * Storage benchmark: the batch writer (readings/s, the way ingest writes: uplinks,
 * readings, latest state and device progress in one transaction per batch), beside
 * single-row INSERTs and the COPY ceiling measured in the same run; then a one-month
 * hourly series (p50/p99) over a table of `--readings` readings (default 10 million,
 * loaded server-side). On TimescaleDB the series comes from the continuous aggregate.
 *
 *   stadtfunk bench storage [--readings N] [--json FILE]
 */
import { createPool, migrate, selectSeries, upsertDeviceModel, writeBatch, type ReadingRow, type UplinkRow, type WriteBatch } from '../storage/index.js';
import { copyCeilingRowsPerSecond } from './copy-ceiling.js';
import { benchEnvironment, benchLog, percentile, printTable, writeJson } from './environment.js';

const DEVICES = 10_000;
const BATCHES = 40;
const UPLINKS_PER_BATCH = 2000;
const METRICS = ['pm1', 'pm2_5', 'pm10', 'no2', 'co2', 'temperature', 'relative_humidity', 'pressure', 'noise', 'battery_voltage'];

/** Batch `b` of the writer benchmark: uplink k comes from device k mod DEVICES, one second after uplink k - 1. */
function writerBatch(b: number): WriteBatch {
  const uplinks: UplinkRow[] = [];
  const readings: ReadingRow[] = [];
  for (let i = 0; i < UPLINKS_PER_BATCH; i++) {
    const k = b * UPLINKS_PER_BATCH + i;
    const devEui = ((k % DEVICES) + 1).toString(16).padStart(16, '0');
    const time = new Date(Date.UTC(2026, 0, 1) + k * 1000);
    uplinks.push({ id: `w-${k}`, receivedAt: time, devEui, fCnt: k, fPort: 10, payload: Buffer.alloc(19), decoded: null, decodeError: null, source: 'chirpstack', radio: { frequencyHz: null, spreadingFactor: null, bandwidthHz: null, dataRate: null, band: null, receptions: [] } });
    for (const metric of METRICS) readings.push({ time, devEui, metric, channel: '', value: k % 100, quality: 'ok', assetId: null, uplinkId: `w-${k}` });
  }
  return { uplinks, readings, healthReadings: [], deadLetters: [] };
}

export async function storageBench(opts: { readings?: number; json?: string } = {}): Promise<Record<string, unknown>> {
  const total = opts.readings ?? 10_000_000;
  const env = await benchEnvironment();
  const pool = createPool({ url: env.databaseUrl, log: benchLog, max: 4 });
  try {
    const { timescale } = await migrate(pool);
    await upsertDeviceModel(pool, { id: 'bench', name: 'bench', decoderKind: 'builtin', builtinName: 'stadtfunk-air' });
    await pool.query(`insert into devices (dev_eui, model_id) select lpad(to_hex(g), 16, '0'), 'bench' from generate_series(1, ${DEVICES}) g`);

    // Batch writer: 40 batches of 2,000 uplinks with 10 readings each from 10,000 devices,
    // written as ingest writes them (two batches in the database at once), then 40 more
    // one at a time. Batches in flight together hold different devices, as in a city.
    // Untimed first: 5 batches that give every device its latest state.
    // The batches are built before the clock starts: this measures the writer, not the generator.
    const writeAll = async (first: number, inFlight: number): Promise<number> => {
      const batches = Array.from({ length: BATCHES }, (_, i) => writerBatch(first + i));
      let next = 0;
      let written = 0;
      const t0 = performance.now();
      await Promise.all(Array.from({ length: inFlight }, async () => {
        while (next < batches.length) {
          const stored = (await writeBatch(pool, batches[next++]!)).readings;
          written += stored;
        }
      }));
      return written / ((performance.now() - t0) / 1000);
    };
    for (let b = 0; b < DEVICES / UPLINKS_PER_BATCH; b++) await writeBatch(pool, writerBatch(b));
    const readingsPerSecond = await writeAll(DEVICES / UPLINKS_PER_BATCH, 2);
    const oneAtATimeReadingsPerSecond = await writeAll(DEVICES / UPLINKS_PER_BATCH + BATCHES, 1);

    // Baseline: one INSERT per reading, autocommit.
    const single = 5000;
    const t1 = performance.now();
    for (let i = 0; i < single; i++) {
      await pool.query(`insert into readings (time, dev_eui, metric, channel, value, quality) values ($1, $2, 'pm2_5', 'single', $3, 'ok')`, [new Date(Date.UTC(2027, 0, 1) + i * 1000), '0000000000000001', i]);
    }
    const singleRowInsertsPerSecond = single / ((performance.now() - t1) / 1000);
    const copyCeiling = await copyCeilingRowsPerSecond(pool, { connections: 2 });
    const copyCeilingOneConnection = await copyCeilingRowsPerSecond(pool, { connections: 1 });

    // The series table: `total` readings of 1,000 lamps spread over a year, loaded server-side.
    const perLamp = Math.max(1, Math.floor(total / 1000));
    const stepS = Math.max(1, Math.floor((365 * 86_400) / perLamp));
    await pool.query(
      `insert into readings (time, dev_eui, metric, channel, value, quality, asset_id, uplink_id)
       select timestamptz '2025-01-01' + s * make_interval(secs => $2), lpad(to_hex(100000 + g), 16, '0'), 'pm2_5', '', (g + s) % 50, 'ok', 'lamp-' || g, 'series'
       from generate_series(1, 1000) g, generate_series(0, $1 - 1) s`,
      [perLamp, stepS],
    );
    if (timescale) await pool.query(`call refresh_continuous_aggregate('readings_hourly', null, null)`);
    // Statistics for the planner, as autovacuum would gather them (on TimescaleDB also of the
    // aggregate's freshly materialised chunks, or it picks the wrong index on the newest one).
    await pool.query('analyze');
    const times: number[] = [];
    for (let i = 0; i < 200; i++) {
      const month = i % 12;
      const started = performance.now();
      await selectSeries(pool, { assetId: `lamp-${(i % 1000) + 1}`, metric: 'pm2_5', from: new Date(Date.UTC(2025, month, 1)), to: new Date(Date.UTC(2025, month + 1, 1)), bucket: 'hour', after: null, limit: 1000, timescale });
      times.push(performance.now() - started);
    }
    times.sort((a, b) => a - b);
    const result = {
      readingsPerSecond,
      oneAtATimeReadingsPerSecond,
      singleRowInsertsPerSecond,
      copyCeilingRowsPerSecond: copyCeiling,
      copyCeilingOneConnectionRowsPerSecond: copyCeilingOneConnection,
      hourlySeriesMonthP50Ms: percentile(times, 50),
      hourlySeriesMonthP99Ms: percentile(times, 99),
      seriesTableReadings: perLamp * 1000,
      timescale,
      parameters: { batches: BATCHES, uplinksPerBatch: UPLINKS_PER_BATCH, readingsPerUplink: METRICS.length, devices: DEVICES, batchesInFlight: 2, ...env.describe, node: process.version },
    };
    printTable('stadtfunk bench storage', [
      ['database', `${env.describe.database}${timescale ? ' (TimescaleDB)' : ''}`],
      ['batch writer readings/s (2 batches in flight, as ingest)', readingsPerSecond],
      ['batch writer readings/s (one batch at a time)', oneAtATimeReadingsPerSecond],
      ['single-row INSERT readings/s (baseline)', singleRowInsertsPerSecond],
      ['COPY ceiling rows/s (2 connections)', copyCeiling],
      ['COPY ceiling rows/s (1 connection)', copyCeilingOneConnection],
      ['writer / COPY ceiling (2 connections)', `${((readingsPerSecond / copyCeiling) * 100).toFixed(1)} %`],
      ['writer / single-row INSERT', `${(readingsPerSecond / singleRowInsertsPerSecond).toFixed(1)}×`],
      [`one-month hourly series over ${(perLamp * 1000).toLocaleString('en-US')} readings, p50 / p99 ms`, `${result.hourlySeriesMonthP50Ms.toFixed(1)} / ${result.hourlySeriesMonthP99Ms.toFixed(1)}`],
      ['targets', 'writer ≥ 150,000 readings/s; series < 50 ms with 10 million readings'],
    ]);
    await writeJson(opts.json, result);
    return result;
  } finally {
    await pool.end();
    await env.close();
  }
}
