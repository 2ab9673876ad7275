import type pg from 'pg';
import type { ReadingRow } from '../rows.js';
import { numberArray, textArray, timeArray } from './pg-array.js';

/** Inserts readings; a reading already stored (same device, metric, channel, time) is kept as it is. */
export async function insertReadings(db: pg.ClientBase, rows: ReadingRow[]): Promise<number> {
  if (rows.length === 0) return 0;
  const result = await db.query(
    `insert into readings (time, dev_eui, metric, channel, value, quality, asset_id, uplink_id)
     select * from unnest($1::timestamptz[], $2::text[], $3::text[], $4::text[], $5::float8[], $6::text[], $7::text[], $8::text[])
     on conflict do nothing`,
    [
      timeArray(rows.map((r) => r.time)),
      textArray(rows.map((r) => r.devEui)),
      textArray(rows.map((r) => r.metric)),
      textArray(rows.map((r) => r.channel)),
      numberArray(rows.map((r) => r.value)),
      textArray(rows.map((r) => r.quality)),
      textArray(rows.map((r) => r.assetId)),
      textArray(rows.map((r) => r.uplinkId)),
    ],
  );
  return result.rowCount ?? 0;
}
