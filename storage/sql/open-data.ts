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
 * rows either way. Readings are found through the asset's devices (see
 * assetReadingsByKey and ASSET_READINGS_CHUNKS); aggregates through their covering
 * index, an index-only scan. The aggregates' counts are bigint, which sum() adds up as numeric;
 * as float8 and int4 (a bucket of one device holds far fewer than 2^31 readings) the
 * hourly month query ran about 5% faster on TimescaleDB 2.28.3.
 */
export async function selectSeries(db: Db, q: SeriesQuery): Promise<SeriesRow[]> {
  const { variant, text, values: params } = seriesStatement(q);
  // Named: each connection plans the statement once (planning a query over a hypertable's
  // chunks costs more than running it). Times come as epoch milliseconds, much cheaper to
  // turn into Dates than timestamp text.
  const { rows } = await db.query<Omit<SeriesRow, 'time'> & { ms: number }>({ name: `series-${variant}`, text, values: params });
  return rows.map((r) => ({ time: new Date(r.ms), channel: r.channel, value: r.value, min: r.min, max: r.max, count: r.count }));
}

export interface SeriesJson {
  /** The page's items as a JSON array text: [{time, channel, value, min, max, count}, …]. */
  items: string;
  count: number;
  /** The last item's bucket and channel: where the next page starts. */
  last: { time: Date; channel: string } | null;
}

/**
 * The same series as selectSeries, as JSON text. A month of hourly buckets is 720 rows;
 * parsing them as rows into objects and serialising those again was most of the API's
 * work per request in its CPU profile under load. PostgreSQL sends the page as one text
 * value instead, a line per item (epoch ms, value, min, max, count, channel as a JSON
 * string: to_json never leaves a raw line break in it), and the items are written from
 * it directly. Times come out as Date.toISOString writes them; numbers as PostgreSQL's
 * shortest exact float8 text, which JSON.parse reads back to the same doubles.
 * (Building the JSON in SQL with to_char and row_to_json cost PostgreSQL twice the
 * query's own time, here 2 ms more per request.)
 */
export async function selectSeriesJson(db: Db, q: SeriesQuery): Promise<SeriesJson> {
  const { variant, text, values: params } = seriesStatement(q);
  const { rows } = await db.query<{ lines: string | null }>({
    name: `series-lines-${variant}`,
    text: `select string_agg(concat_ws(',', ms, value, min, max, count, to_json(channel)), E'\\n' order by ms, channel) as lines
           from (${text}) s`,
    values: params,
  });
  const lines = rows[0]?.lines;
  if (!lines) return { items: '[]', count: 0, last: null };
  let lastTime = new Date(0);
  let lastChannel = '""';
  const parts: string[] = [];
  let start = 0;
  while (start < lines.length) {
    let end = lines.indexOf('\n', start);
    if (end < 0) end = lines.length;
    // ms,value,min,max,count,"channel": the first five fields never contain a comma.
    const c1 = lines.indexOf(',', start);
    const c2 = lines.indexOf(',', c1 + 1);
    const c3 = lines.indexOf(',', c2 + 1);
    const c4 = lines.indexOf(',', c3 + 1);
    const c5 = lines.indexOf(',', c4 + 1);
    lastTime = new Date(Number(lines.slice(start, c1)));
    lastChannel = lines.slice(c5 + 1, end);
    parts.push(`{"time":"${lastTime.toISOString()}","channel":${lastChannel},"value":${lines.slice(c1 + 1, c2)},"min":${lines.slice(c2 + 1, c3)},"max":${lines.slice(c3 + 1, c4)},"count":${lines.slice(c4 + 1, c5)}}`);
    start = end + 1;
  }
  return { items: `[${parts.join(',')}]`, count: parts.length, last: { time: lastTime, channel: JSON.parse(lastChannel) as string } };
}

/** The series query of `q` (its SQL variant, text and parameters); exported for plan tests. */
export function seriesStatement(q: SeriesQuery): { variant: string; text: string; values: unknown[] } {
  const variant = q.bucket === 'raw' ? `raw-${q.timescale ? 'chunks' : 'keys'}` : `${q.bucket}-${q.timescale ? 'cagg' : 'date_bin'}`;
  return { variant, text: SERIES_SQL[variant]!, values: [q.assetId, q.metric, q.from, q.to, q.after?.time ?? null, q.after?.channel ?? '', q.limit] };
}

const KEYSET = `($5::timestamptz is null or (bucket, channel) > ($5, $6))`;
const EPOCH_MS = (column: string): string => `(extract(epoch from ${column}) * 1000)::float8 as ms`;

/**
 * The devices whose readings can carry the asset $1: every device ever mounted on it
 * (the registry records each mount in device_mounts) and the one mounted now.
 */
const ASSET_DEVICES = `(select dev_eui from device_mounts where asset_id = $1 union select dev_eui from devices where asset_id = $1)`;

/**
 * The readings of metric $2 taken on asset $1 between $3 and $4: `time, channel,
 * value`, unordered. Readings have no index by asset (migration 0009): the primary key
 * (dev_eui, metric, channel, time) finds them per device and channel, and a time range
 * is an index range only once the channel is fixed. So the device's channels of the
 * metric come first, each found with one index probe (a loose index scan, the recursive
 * CTE), then one range scan per device and channel. For a page of raw readings
 * (`rawPage`) each scan starts after the cursor ($5, $6) and stops at `$7` rows, as many
 * as the page needs of one key at most.
 */
function assetReadingsByKey(rawPage: boolean): string {
  // The keys are materialised first, and each key's scan stays a scan of its own (a
  // LIMIT, or OFFSET 0, keeps the planner from turning it into a join): left to itself,
  // the generic plan of the named statement ran the channel probes once per reading (a
  // month took 34 ms instead of 3), and a custom plan, guessing 200 keys, read all
  // readings of the time range in a sequential scan.
  return `with keys as materialized (
      select d.dev_eui, k.channel from ${ASSET_DEVICES} d
      cross join lateral (
        with recursive channels(channel) as (
          (select channel from readings where dev_eui = d.dev_eui and metric = $2 order by channel limit 1)
          union all
          select (select r.channel from readings r where r.dev_eui = d.dev_eui and r.metric = $2 and r.channel > c.channel order by r.channel limit 1)
          from channels c where c.channel is not null)
        select channel from channels where channel is not null) k)
    select r.time, r.channel, r.value from keys
    cross join lateral (
      select r.time, r.channel, r.value from readings r
      where r.dev_eui = keys.dev_eui and r.metric = $2 and r.channel = keys.channel and r.asset_id = $1 and r.time < $4
        ${rawPage ? `and r.time >= greatest($3, $5::timestamptz) and ${ROW_KEYSET} order by r.time limit $7` : 'and r.time >= $3 offset 0'}) r`;
}

/** After the cursor ($5, $6), for a row of readings. */
const ROW_KEYSET = `($5::timestamptz is null or (time, channel) > ($5, $6))`;

/**
 * The same on TimescaleDB, where the one-day chunks bound each device's scan to the
 * range already (chunk exclusion), and probing every chunk for channels would open
 * compressed ones for nothing.
 */
const ASSET_READINGS_CHUNKS = `select time, channel, value from readings
  where dev_eui in ${ASSET_DEVICES} and metric = $2 and asset_id = $1 and time >= greatest($3, $5::timestamptz) and time < $4 and ${ROW_KEYSET}`;

const SERIES_SQL: Record<string, string> = {
  // The cursor is applied inside the readings' scans (ROW_KEYSET).
  ...Object.fromEntries(([['keys', assetReadingsByKey(true)], ['chunks', ASSET_READINGS_CHUNKS]] as const).map(([name, readings]) => [
    `raw-${name}`,
    `select ${EPOCH_MS('time')}, channel, value, value as min, value as max, 1 as count
     from (${readings}) r
     order by time, channel limit $7`,
  ])),
  ...Object.fromEntries((['hour', 'day'] as const).flatMap((bucket) => [
    [`${bucket}-cagg`,
      `select ${EPOCH_MS('bucket')}, channel, sum(avg_value * count) / sum(count::float8) as value, min(min_value) as min, max(max_value) as max, sum(count::int4)::int as count
       from ${bucket === 'hour' ? 'readings_hourly' : 'readings_daily'}
       where asset_id = $1 and metric = $2 and bucket >= $3 and bucket < $4 and ${KEYSET}
       group by bucket, channel order by bucket, channel limit $7`],
    // The lower bound stays $3: a bucket is whole only with all of its readings.
    [`${bucket}-date_bin`,
      `select ${EPOCH_MS('bucket')}, channel, avg(value) as value, min(value) as min, max(value) as max, count(*)::int as count
       from (select date_bin('1 ${bucket}', time, timestamptz '2000-01-01 00:00:00+00') as bucket, channel, value
             from (${assetReadingsByKey(false)}) a) r
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
  // Named and with epoch milliseconds, as the series queries (see selectSeries).
  const { rows } = await db.query<Omit<ExportRow, 'time'> & { ms: number }>({
    name: 'export-page',
    text: `select ${EPOCH_MS('time')}, metric, channel, value, quality from readings
           where dev_eui = $1 and asset_id = $2 and metric = any($3::text[]) and time >= $4 and time < $5
             and ($6::text is null or (metric, channel, time) > ($6, $7, $8))
           order by metric, channel, time limit $9`,
    values: [q.devEui, q.assetId, q.metrics, q.from, q.to, q.after?.metric ?? null, q.after?.channel ?? '', q.after?.time ?? null, q.limit],
  });
  return rows.map((r) => ({ time: new Date(r.ms), metric: r.metric, channel: r.channel, value: r.value, quality: r.quality }));
}
