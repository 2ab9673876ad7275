/**
 * The catalogue of series (storage/sta/catalogue.ts, api/sta/mqtt-publisher.ts) when its
 * writes fail or race, on a real PostgreSQL (CI logs: "registering series failed").
 * - Two ingest workers' MQTT publishers, or a publisher and the catch-up, insert overlapping
 *   new series at once; in opposite orders they deadlocked. Each statement now inserts in
 *   the order of the natural key.
 * - A chunk of new series that fails (here: a lock timeout behind another session's lock)
 *   used to forget its series while readings committed meanwhile queued them again; the
 *   next chunk then carried forgotten slots and failed as well.
 */
import pg from 'pg';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StaMqttPublisher } from '../api/sta/mqtt-publisher.js';
import { NoTransport } from '../api/sta/mqtt-transport.js';
import { STA_METRICS } from '../api/sta/vocabulary.js';
import { catchUpSeries, upsertAsset, upsertDevice, upsertDeviceModel, upsertSeries, writeBatch, type ReadingRow, type SeriesKey, type UplinkRow } from '../storage/index.js';
import { createTestDatabase, eventually, type TestDatabase } from './helpers.js';

/** Enough rows that two statements started together are both still inserting where they meet. */
const SERIES = 6000;
const METRICS = ['pm1', 'pm2_5', 'pm10', 'no2', 'o3', 'temperature'];

function keys(prefix: string): SeriesKey[] {
  return Array.from({ length: SERIES }, (_, i) => ({
    assetId: `${prefix}-${Math.floor(i / METRICS.length)}`, metric: METRICS[i % METRICS.length]!, channel: '',
    devEui: `${prefix}-dev-${Math.floor(i / METRICS.length)}`, firstTime: new Date(Date.UTC(2026, 10, 1) + i),
  }));
}

describe('catalogue of series: concurrent writers of overlapping keys', () => {
  let db: TestDatabase;

  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => {
    await db?.drop();
  });

  async function count(prefix: string): Promise<number> {
    const { rows } = await db.pool.query<{ n: number }>('select count(*)::int as n from sta_datastreams where asset_id like $1', [`${prefix}-%`]);
    return rows[0]!.n;
  }

  it('registers the same new series from two writers in opposite orders without a deadlock', async () => {
    const series = keys('two');
    const outcomes = await Promise.allSettled([upsertSeries(db.pool, series), upsertSeries(db.pool, [...series].reverse())]);
    expect(outcomes.filter((o) => o.status === 'rejected').map((o) => String((o as PromiseRejectedResult).reason))).toEqual([]);
    // Each Datastream was created by exactly one of them.
    const created = outcomes.flatMap((o) => (o.status === 'fulfilled' ? o.value : []));
    expect(created.length).toBe(3 * SERIES);
    expect(new Set(created.map((d) => d.id)).size).toBe(3 * SERIES);
    expect(await count('two')).toBe(3 * SERIES);
  });

  it('catches up from latest state while a publisher registers the same series in the other order', async () => {
    const series = keys('cat');
    // Latest state holds the devices in the order of their series (the catch-up reads a fresh table in that order).
    const devices = [...new Set(series.map((k) => k.devEui))];
    await db.pool.query(
      `insert into latest_state (dev_eui, asset_id, time, metrics)
       select d, replace(d, '-dev-', '-'), now(), (select jsonb_object_agg(m, jsonb_build_array(1, 1, 'ok')) from unnest($2::text[]) m)
       from unnest($1::text[]) d`,
      [devices, METRICS],
    );
    const outcomes = await Promise.allSettled([catchUpSeries(db.pool), upsertSeries(db.pool, [...series].reverse())]);
    expect(outcomes.filter((o) => o.status === 'rejected').map((o) => String((o as PromiseRejectedResult).reason))).toEqual([]);
    expect(await count('cat')).toBe(3 * SERIES);
  });
});

describe('MQTT publisher: a chunk of series that fails', () => {
  let db: TestDatabase;
  /** The publisher's own pool: a statement waits at most 1 s for a lock. */
  let pool: pg.Pool;
  let locker: pg.Client;
  let publisher: StaMqttPublisher;
  const warnings: string[] = [];
  let onWarning = (): void => undefined;
  const T = Date.UTC(2026, 10, 24, 10);
  const METRICS3 = ['pm2_5', 'no2', 'temperature'];

  beforeAll(async () => {
    db = await createTestDatabase();
    await upsertDeviceModel(db.pool, { id: 'air', name: 'air', decoderKind: 'builtin', builtinName: 'stadtfunk-air' });
    for (const n of ['a', 'b']) {
      await upsertAsset(db.pool, { id: `lamp-${n}`, kind: 'street_lamp', latitude: 51.2, longitude: 6.7, zone: 'altstadt', isPublic: true });
      await upsertDevice(db.pool, { devEui: `00000000000000${n}${n}`, modelId: 'air', assetId: `lamp-${n}` });
    }
    pool = new pg.Pool({ connectionString: db.url, options: '-c lock_timeout=1000', max: 4 });
    locker = new pg.Client({ connectionString: db.url });
    await locker.connect();
    const log = pino({ level: 'warn' }, {
      write: (line: string) => {
        const { msg, err } = JSON.parse(line) as { msg: string; err?: { message: string } };
        warnings.push(`${msg}: ${err?.message}`);
        if (msg.startsWith('SensorThings: registering series failed')) onWarning();
      },
    });
    publisher = new StaMqttPublisher({
      pool, log, transport: new NoTransport(), metrics: STA_METRICS, timescale: db.timescale, registryPollMs: 500,
      links: { base: 'http://127.0.0.1/sta/v1.1', licence: { id: 'dl-de/by-2-0', name: 'dl-de/by-2-0', url: 'https://www.govdata.de/dl-de/by-2-0' }, attribution: 'test' },
    });
    await publisher.start();
  });
  afterAll(async () => {
    await publisher?.stop();
    await locker?.end();
    await pool?.end();
    await db?.drop();
  });

  /** Commits one uplink per device at `ms` with a reading of each metric, then tells the publisher, as ingest does. */
  async function commit(devices: string[], ms: number): Promise<void> {
    const uplinks: UplinkRow[] = devices.map((n) => ({
      id: `${n}-${ms}`, receivedAt: new Date(ms), devEui: `00000000000000${n}${n}`, fCnt: null, fPort: 1, payload: Buffer.alloc(1), decoded: null, decodeError: null, source: 'chirpstack',
      radio: { frequencyHz: null, spreadingFactor: null, bandwidthHz: null, dataRate: null, band: null, receptions: [] },
    }));
    const readings: ReadingRow[] = uplinks.flatMap((u, i) => METRICS3.map((metric) => ({ time: u.receivedAt, devEui: u.devEui, metric, channel: '', value: 1, quality: 'ok', assetId: `lamp-${devices[i]}`, uplinkId: u.id })));
    const batch = { uplinks, readings, healthReadings: [], deadLetters: [] };
    publisher.onCommitted(batch, await writeBatch(db.pool, batch));
  }

  it('writes the next chunk, and the failed series at the next poll with their oldest reading', async () => {
    // Another session holds the catalogue: the chunk of lamp-a's new series waits for it.
    await locker.query('begin');
    await locker.query('lock table sta_datastreams in share mode');
    const failed = new Promise<void>((resolve) => (onWarning = resolve));
    await commit(['a'], T);
    await eventually(async () => {
      const { rows } = await db.pool.query(`select 1 from pg_stat_activity where wait_event_type = 'Lock' and query like 'insert into sta_datastreams%unnest%'`);
      return rows.length > 0 ? true : undefined;
    });
    // Meanwhile: an older reading of each of lamp-a's series (queued again) and lamp-b's new series.
    await commit(['a', 'b'], T - 60_000);
    // The chunk times out; the lock goes as soon as it has.
    await failed;
    await locker.query('commit');
    const firstTimes = async (): Promise<Record<string, string>> => {
      const { rows } = await db.pool.query<{ asset_id: string; metric: string; level: string; first_time: Date }>('select asset_id, metric, level, first_time from sta_datastreams order by 1, 2, 3');
      return Object.fromEntries(rows.map((r) => [`${r.asset_id}/${r.metric}/${r.level}`, r.first_time.toISOString()]));
    };
    const expected = Object.fromEntries(['lamp-a', 'lamp-b'].flatMap((a) => METRICS3.flatMap((m) => ['day', 'hour', 'raw'].map((l) => [`${a}/${m}/${l}`, new Date(T - 60_000).toISOString()]))));
    // Nothing lost: every series with its oldest reading, lamp-a's at the next poll.
    expect(await eventually(async () => {
      const now = await firstTimes();
      return Object.keys(now).length === Object.keys(expected).length && Object.values(now).every((t) => t === expected['lamp-a/pm2_5/raw']) ? now : undefined;
    }, { timeoutMs: 10_000 })).toEqual(expected);
    // One chunk failed: the one that waited for the lock, not the one after it.
    expect(warnings.filter((w) => w.startsWith('SensorThings: registering series failed'))).toEqual([expect.stringContaining('lock timeout')]);
  });
});
