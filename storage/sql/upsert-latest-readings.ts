import type pg from 'pg';
import type { ReadingRow } from '../rows.js';
import { numberArray, textArray, timeArray } from './pg-array.js';

/**
 * Moves the latest value per device, metric and channel forward. An older reading
 * arriving late never replaces a newer one. Rows must be unique per key
 * (see latestPerKey): one statement may not update a row twice.
 */
export async function upsertLatestReadings(db: pg.ClientBase, rows: ReadingRow[]): Promise<void> {
  if (rows.length === 0) return;
  await db.query(
    `insert into latest_readings (dev_eui, metric, channel, time, value, quality, asset_id)
     select * from unnest($1::text[], $2::text[], $3::text[], $4::timestamptz[], $5::float8[], $6::text[], $7::text[])
     on conflict (dev_eui, metric, channel) do update
       set time = excluded.time, value = excluded.value, quality = excluded.quality, asset_id = excluded.asset_id
       where latest_readings.time < excluded.time`,
    [
      textArray(rows.map((r) => r.devEui)),
      textArray(rows.map((r) => r.metric)),
      textArray(rows.map((r) => r.channel)),
      timeArray(rows.map((r) => r.time)),
      numberArray(rows.map((r) => r.value)),
      textArray(rows.map((r) => r.quality)),
      textArray(rows.map((r) => r.assetId)),
    ],
  );
}
