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
    readingColumns(rows),
  );
  return result.rowCount ?? 0;
}

/**
 * Inserts the readings of newly stored uplinks, skipping keys already stored; returns the
 * count stored and the rows skipped. Each such row shares its key (device, metric,
 * channel, time) with a reading of another uplink (or an earlier row of the same statement):
 * the caller dead-letters them rather than lose them unseen.
 */
export async function insertNewReadings(db: pg.ClientBase, rows: ReadingRow[]): Promise<{ stored: number; skipped: ReadingRow[] }> {
  if (rows.length === 0) return { stored: 0, skipped: [] };
  const result = await db.query<{ uplink_id: string | null; dev_eui: string; metric: string; channel: string; time: Date }>(
    `insert into readings (time, dev_eui, metric, channel, value, quality, asset_id, uplink_id)
     select time, dev_eui, metric, channel, value, quality, asset_id, uplink_id
     from unnest($1::timestamptz[], $2::text[], $3::text[], $4::text[], $5::float8[], $6::text[], $7::text[], $8::text[])
          with ordinality as r(time, dev_eui, metric, channel, value, quality, asset_id, uplink_id, n)
     order by n
     on conflict do nothing
     returning uplink_id, dev_eui, metric, channel, time`,
    readingColumns(rows),
  );
  const stored = new Set(result.rows.map((r) => readingKey(r.uplink_id, r.dev_eui, r.metric, r.channel, r.time)));
  const skipped = rows.filter((r) => !stored.delete(readingKey(r.uplinkId, r.devEui, r.metric, r.channel, r.time)));
  return { stored: result.rowCount ?? 0, skipped };
}

function readingKey(uplinkId: string | null, devEui: string, metric: string, channel: string, time: Date): string {
  return `${uplinkId ?? ''}\u0000${devEui}\u0000${metric}\u0000${channel}\u0000${time.getTime()}`;
}

/** The readings as the eight column arrays both statements unnest ($1 … $8). */
function readingColumns(rows: ReadingRow[]): string[] {
  return [
    timeArray(rows.map((r) => r.time)),
    textArray(rows.map((r) => r.devEui)),
    textArray(rows.map((r) => r.metric)),
    textArray(rows.map((r) => r.channel)),
    numberArray(rows.map((r) => r.value)),
    textArray(rows.map((r) => r.quality)),
    textArray(rows.map((r) => r.assetId)),
    textArray(rows.map((r) => r.uplinkId)),
  ];
}
