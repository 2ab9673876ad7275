/**
 * The catalogue of series (storage/sta/catalogue.ts) under concurrent writers, on a real
 * PostgreSQL: two ingest workers' MQTT publishers, or a publisher and the catch-up, insert
 * overlapping new series at once. CI saw `deadlock detected` when they did so in opposite
 * orders; each statement now inserts in the order of the natural key.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { catchUpSeries, upsertSeries, type SeriesKey } from '../storage/index.js';
import { createTestDatabase, type TestDatabase } from './helpers.js';

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
