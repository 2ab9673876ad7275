/**
 * The ops cockpit's history (migration 0060): ingest totals per minute and gateway
 * signal per minute, added by ingest once a minute and read by the cockpit in buckets.
 */
import type pg from 'pg';

type Db = pg.Pool | pg.ClientBase;

export interface IngestMinuteRow {
  minute: Date;
  messages: number;
  uplinks: number;
  readings: number;
  deadLetters: number;
  batches: number;
  batchSecondsSum: number;
  batchSecondsMax: number;
}

export interface ConcentratorMinuteRow {
  gatewayId: string;
  minute: Date;
  uplinks: number;
  rssiSum: number;
  rssiCount: number;
  snrSum: number;
  snrCount: number;
}

/** Adds the rows to what is stored for their minutes (several workers add up). */
export async function addIngestMinutes(db: Db, rows: IngestMinuteRow[]): Promise<void> {
  if (rows.length === 0) return;
  await db.query(
    `insert into ingest_minutes as t (minute, messages, uplinks, readings, dead_letters, batches, batch_seconds_sum, batch_seconds_max)
     select * from unnest($1::timestamptz[], $2::bigint[], $3::bigint[], $4::bigint[], $5::bigint[], $6::int[], $7::float8[], $8::float8[])
     on conflict (minute) do update set messages = t.messages + excluded.messages, uplinks = t.uplinks + excluded.uplinks,
       readings = t.readings + excluded.readings, dead_letters = t.dead_letters + excluded.dead_letters, batches = t.batches + excluded.batches,
       batch_seconds_sum = t.batch_seconds_sum + excluded.batch_seconds_sum, batch_seconds_max = greatest(t.batch_seconds_max, excluded.batch_seconds_max)`,
    [rows.map((r) => r.minute), rows.map((r) => r.messages), rows.map((r) => r.uplinks), rows.map((r) => r.readings), rows.map((r) => r.deadLetters),
     rows.map((r) => r.batches), rows.map((r) => r.batchSecondsSum), rows.map((r) => r.batchSecondsMax)],
  );
}

export async function addConcentratorMinutes(db: Db, rows: ConcentratorMinuteRow[]): Promise<void> {
  if (rows.length === 0) return;
  await db.query(
    `insert into concentrator_minutes as t (gateway_id, minute, uplinks, rssi_sum, rssi_count, snr_sum, snr_count)
     select * from unnest($1::text[], $2::timestamptz[], $3::int[], $4::float8[], $5::int[], $6::float8[], $7::int[])
     on conflict (gateway_id, minute) do update set uplinks = t.uplinks + excluded.uplinks, rssi_sum = t.rssi_sum + excluded.rssi_sum,
       rssi_count = t.rssi_count + excluded.rssi_count, snr_sum = t.snr_sum + excluded.snr_sum, snr_count = t.snr_count + excluded.snr_count`,
    [rows.map((r) => r.gatewayId), rows.map((r) => r.minute), rows.map((r) => r.uplinks), rows.map((r) => r.rssiSum), rows.map((r) => r.rssiCount),
     rows.map((r) => r.snrSum), rows.map((r) => r.snrCount)],
  );
}

/** Deletes history older than `before`. */
export async function deleteOpsHistoryBefore(db: Db, before: Date): Promise<void> {
  await db.query('delete from ingest_minutes where minute < $1', [before]);
  await db.query('delete from concentrator_minutes where minute < $1', [before]);
}

export interface IngestBucketRow {
  time: Date;
  messages: number;
  uplinks: number;
  readings: number;
  batches: number;
  batchSecondsSum: number;
  batchSecondsMax: number;
}

/** Ingest totals in buckets of `bucketS` seconds from `from` on; buckets without rows are left out. */
export async function selectIngestHistory(db: Db, from: Date, bucketS: number): Promise<IngestBucketRow[]> {
  const { rows } = await db.query<IngestBucketRow>(
    `select to_timestamp(floor(extract(epoch from minute) / $2) * $2) as time,
            sum(messages)::float8 as messages, sum(uplinks)::float8 as uplinks, sum(readings)::float8 as readings,
            sum(batches)::int as batches, sum(batch_seconds_sum) as "batchSecondsSum", max(batch_seconds_max) as "batchSecondsMax"
     from ingest_minutes where minute >= $1 group by 1 order by 1`,
    [from, bucketS],
  );
  return rows;
}

/** Dead letters stored per bucket (from the dead_letters table itself). */
export async function selectDeadLetterHistory(db: Db, from: Date, bucketS: number): Promise<{ time: Date; count: number }[]> {
  const { rows } = await db.query<{ time: Date; count: number }>(
    `select to_timestamp(floor(extract(epoch from received_at) / $2) * $2) as time, count(*)::int as count
     from dead_letters where received_at >= $1 group by 1 order by 1`,
    [from, bucketS],
  );
  return rows;
}

export interface ConcentratorBucketRow {
  gatewayId: string;
  time: Date;
  uplinks: number;
  rssiDbm: number | null;
  snrDb: number | null;
}

export async function selectConcentratorHistory(db: Db, from: Date, bucketS: number): Promise<ConcentratorBucketRow[]> {
  const { rows } = await db.query<ConcentratorBucketRow>(
    `select gateway_id as "gatewayId", to_timestamp(floor(extract(epoch from minute) / $2) * $2) as time, sum(uplinks)::int as uplinks,
            sum(rssi_sum) / nullif(sum(rssi_count), 0) as "rssiDbm", sum(snr_sum) / nullif(sum(snr_count), 0) as "snrDb"
     from concentrator_minutes where minute >= $1 group by 1, 2 order by 1, 2`,
    [from, bucketS],
  );
  return rows;
}
