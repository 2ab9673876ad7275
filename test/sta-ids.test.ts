/**
 * Stable SensorThings ids: the TypeScript formula (storage/sta/ids.ts) and the database's
 * (sta_id, sta_datastream_id of migration 0080) agree, and an id depends only on the
 * natural key — the same in a freshly migrated database as in one that has lived.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { datastreamId, staId, thingId } from '../storage/sta/ids.js';
import { createTestDatabase, type TestDatabase } from './helpers.js';

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  await db?.drop();
});

describe('stable ids', () => {
  it('computes the same 52-bit ids as the database, for ASCII and non-ASCII keys', async () => {
    const keys = ['Thing/lamp-1', 'Sensor/air-v1', 'ObservedProperty/pm2_5', 'Location/lamp-1/512262000/67737000', 'Thing/Ä:ß.ü-1', ''];
    const { rows } = await db.pool.query<{ key: string; id: number }>('select k as key, sta_id(k) as id from unnest($1::text[]) k', [keys]);
    for (const row of rows) {
      expect(staId(row.key), row.key).toBe(row.id);
      expect(row.id).toBeLessThan(2 ** 52);
    }
    const ds = await db.pool.query<{ id: number }>(`select sta_datastream_id('hour', 'site-1', 'vehicle_count', 'lane=1;direction=in') as id`);
    expect(datastreamId('hour', 'site-1', 'vehicle_count', 'lane=1;direction=in')).toBe(ds.rows[0]!.id);
  });

  it('gives a re-imported asset its old Thing id (the id is a function of the asset id only)', async () => {
    await db.pool.query(`insert into assets (id, kind, latitude, longitude) values ('gauge-7', 'water_gauge', 51.2, 6.7)`);
    const before = await db.pool.query<{ id: number }>(`select sta_id('Thing/' || id) as id from assets where id = 'gauge-7'`);
    await db.pool.query(`delete from asset_locations where asset_id = 'gauge-7'`);
    await db.pool.query(`delete from assets where id = 'gauge-7'`);
    await db.pool.query(`insert into assets (id, kind, latitude, longitude) values ('gauge-7', 'water_gauge', 51.2, 6.7)`);
    const after = await db.pool.query<{ id: number }>(`select sta_id('Thing/' || id) as id from assets where id = 'gauge-7'`);
    expect(after.rows[0]!.id).toBe(before.rows[0]!.id);
    expect(after.rows[0]!.id).toBe(thingId('gauge-7'));
  });
});
