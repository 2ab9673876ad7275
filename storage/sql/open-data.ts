import type pg from 'pg';

type Db = pg.Pool | pg.ClientBase;

export type Bucket = 'raw' | 'hour' | 'day';

export interface SeriesRow {
  time: Date;
  channel: string;
  value: number;
  min: number;
  max: number;
  count: number;
}

export interface SeriesQuery {
  assetId: string;
  metric: string;
  from: Date;
  to: Date;
  bucket: Bucket;
  /** Keyset cursor: continue after this (time, channel). */
  after: { time: Date; channel: string } | null;
  limit: number;
  /** Use the continuous aggregates (TimescaleDB) for hour/day buckets. */
  timescale: boolean;
}

/**
 * An asset's series of one metric, oldest first. Raw: the readings (value = min = max,
 * count 1). Hour/day: avg, min, max and count per bucket, from the continuous
 * aggregates on TimescaleDB or computed with date_bin on plain PostgreSQL — the same
 * rows either way. Uses readings_asset_metric_time (or the aggregates' index).
 */
export async function selectSeries(db: Db, q: SeriesQuery): Promise<SeriesRow[]> {
  const variant = q.bucket === 'raw' ? 'raw' : `${q.bucket}-${q.timescale ? 'cagg' : 'date_bin'}`;
  const params = [q.assetId, q.metric, q.from, q.to, q.after?.time ?? null, q.after?.channel ?? '', q.limit];
  // Named: each connection plans the statement once (planning a query over a hypertable's
  // chunks costs more than running it). Times come as epoch milliseconds, much cheaper to
  // turn into Dates than timestamp text.
  const { rows } = await db.query<Omit<SeriesRow, 'time'> & { ms: number }>({ name: `series-${variant}`, text: SERIES_SQL[variant]!, values: params });
  return rows.map((r) => ({ time: new Date(r.ms), channel: r.channel, value: r.value, min: r.min, max: r.max, count: r.count }));
}

const KEYSET = `($5::timestamptz is null or (bucket, channel) > ($5, $6))`;
const EPOCH_MS = (column: string): string => `(extract(epoch from ${column}) * 1000)::float8 as ms`;

const SERIES_SQL: Record<string, string> = {
  raw: `select ${EPOCH_MS('time')}, channel, value, value as min, value as max, 1 as count
        from (select time as bucket, time, channel, value from readings
              where asset_id = $1 and metric = $2 and time >= $3 and time < $4) r
        where ${KEYSET}
        order by time, channel limit $7`,
  ...Object.fromEntries((['hour', 'day'] as const).flatMap((bucket) => [
    [`${bucket}-cagg`,
      `select ${EPOCH_MS('bucket')}, channel, sum(avg_value * count) / sum(count) as value, min(min_value) as min, max(max_value) as max, sum(count)::int as count
       from ${bucket === 'hour' ? 'readings_hourly' : 'readings_daily'}
       where asset_id = $1 and metric = $2 and bucket >= $3 and bucket < $4 and ${KEYSET}
       group by bucket, channel order by bucket, channel limit $7`],
    [`${bucket}-date_bin`,
      `select ${EPOCH_MS('bucket')}, channel, avg(value) as value, min(value) as min, max(value) as max, count(*)::int as count
       from (select date_bin('1 ${bucket}', time, timestamptz '2000-01-01 00:00:00+00') as bucket, channel, value
             from readings where asset_id = $1 and metric = $2 and time >= $3 and time < $4) r
       where ${KEYSET}
       group by bucket, channel order by bucket, channel limit $7`],
  ])),
};

export interface ExportRow {
  time: Date;
  metric: string;
  channel: string;
  value: number;
  quality: string;
}

/** Public devices mounted on public assets of the given kinds, in DevEUI order. */
export async function selectExportDevices(db: Db, kinds: string[]): Promise<{ devEui: string; assetId: string }[]> {
  const { rows } = await db.query<{ devEui: string; assetId: string }>(
    `select d.dev_eui as "devEui", a.id as "assetId" from devices d join assets a on a.id = d.asset_id
     where a.is_public and a.kind = any($1::text[]) order by d.dev_eui`,
    [kinds],
  );
  return rows;
}

/**
 * One page of one device's readings for an export, in primary-key order (metric, channel,
 * time) after the cursor: an index range scan on the readings key, whatever the table size.
 */
export async function selectExportPage(
  db: Db,
  q: { devEui: string; assetId: string; metrics: string[]; from: Date; to: Date; after: { metric: string; channel: string; time: Date } | null; limit: number },
): Promise<ExportRow[]> {
  const { rows } = await db.query<ExportRow>(
    `select time, metric, channel, value, quality from readings
     where dev_eui = $1 and asset_id = $2 and metric = any($3::text[]) and time >= $4 and time < $5
       and ($6::text is null or (metric, channel, time) > ($6, $7, $8))
     order by metric, channel, time limit $9`,
    [q.devEui, q.assetId, q.metrics, q.from, q.to, q.after?.metric ?? null, q.after?.channel ?? '', q.after?.time ?? null, q.limit],
  );
  return rows;
}
