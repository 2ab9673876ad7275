/**
 * Observations are not a relation of their own: they are read per Datastream, from the
 * readings of the asset's devices (raw) or from hourly/daily buckets (aggregates), the
 * way storage/sql/open-data.ts reads a series. For a set of Datastreams `d` this builds
 * a LATERAL subquery of their Observations, with the filter, order and limit inside
 * each device's scan, so an index range of the readings key (dev_eui, metric, channel,
 * time) does the work and a page stops after the rows it needs.
 *
 * A parking zone's Datastreams (free_spaces, total_spaces) read the zone's occupancy
 * samples instead (zone_occupancy_samples, migration 0081): their own branches, built only
 * where the Datastreams can be a zone's (`zones`), so a lamp's page plans as before.
 *
 * Columns of an Observation row: datastream_id, level, asset_id, t0, t1 (phenomenon time,
 * t0 = t1 for a reading), result_time, value, quality, result_quality, parameters,
 * min, max, count, and feature_id when `withFeature` is set.
 */
import type { Col } from './entities.js';
import { ZONE_KEY_PREFIX, ZONE_KEY_PREFIX_SQL, type Level } from './ids.js';
import type { SqlContext } from './sql-context.js';

export interface ObservationBranchOptions {
  /** Filter over an Observation row's columns (compiled once per branch); null: none. */
  filter: ((row: Col) => string) | null;
  /** ORDER BY terms over the row's columns (ending with a unique tie-breaker); null: unordered. */
  order: ((row: Col) => string) | null;
  /** Rows each scan may stop after (top + skip + 1); null: all. */
  limit: number | null;
  /** Compute feature_id (the FeatureOfInterest) for each row. */
  withFeature: boolean;
  /**
   * The order is by phenomenon time first (asc or desc): on plain PostgreSQL an aggregate
   * Datastream then walks its buckets from the newest (or oldest) instead of aggregating
   * its whole history before the limit. Null: another order.
   */
  timeOrder?: 'asc' | 'desc' | null;
  /** The levels `d` can have; only their branches are built. Default: all. */
  levels?: readonly Level[];
  /**
   * Whether `d` can be a parking zone's Datastream: 'none' builds the readings' branches
   * only, 'only' the zone samples' only, 'any' (default) both.
   */
  zones?: 'none' | 'only' | 'any';
}

const EPOCH = `timestamptz '2000-01-01 00:00:00+00'`;

/** The devices whose readings can carry the asset of `d`: every device mounted on it, ever. */
const assetDevices = (d: Col): string =>
  `(select m.dev_eui from device_mounts m where m.asset_id = ${d('asset_id')} union select v.dev_eui from devices v where v.asset_id = ${d('asset_id')})`;

/** The FeatureOfInterest of the asset at a time: where it stood then (or first stood, for older readings). */
export const featureAt = (assetId: string, time: string): string =>
  `coalesce((select f.feature_id from asset_locations f where f.asset_id = ${assetId} and f.since <= ${time} order by f.since desc limit 1),
            (select f.feature_id from asset_locations f where f.asset_id = ${assetId} order by f.since limit 1))`;

/** `d` is a zone's Datastream (its key is 'zone/<name>'; no asset id contains '/'). */
const isZone = (d: Col): string => `left(${d('asset_id')}, ${ZONE_KEY_PREFIX.length}) = ${ZONE_KEY_PREFIX_SQL}`;
const zoneOf = (d: Col): string => `substr(${d('asset_id')}, ${ZONE_KEY_PREFIX.length + 1})`;
/** The result of a zone sample `s` for d's metric: free_spaces, else total_spaces (the bays). */
const zoneValue = (d: Col, s: string): string => `(case ${d('metric')} when 'free_spaces' then ${s}.free else ${s}.bays end)::float8`;

/** Raw readings of `d` (level raw): one scan per device of the asset. */
function rawBranch(ctx: SqlContext, d: Col, options: ObservationBranchOptions): string {
  const r = ctx.alias('r');
  const dv = ctx.alias('dv');
  const row: Col = (column) => {
    switch (column) {
      case 't0': case 't1': case 'result_time': return `${r}.time`;
      case 'value': return `${r}.value`;
      case 'quality': return `${r}.quality`;
      case 'result_quality': return `(case when ${r}.quality = 'ok' then null else to_jsonb(${r}.quality) end)`;
      case 'parameters': return 'null::jsonb';
      case 'min': case 'max': return 'null::float8';
      case 'count': return 'null::int';
      case '@interval': return 'false';
      case 'feature_id': return featureAt(d('asset_id'), `${r}.time`);
      default: return d(column === 'datastream_id' ? 'id' : column);
    }
  };
  const where = options.filter ? `and ${options.filter(row)}` : '';
  const order = options.order ? `order by ${options.order(row)}` : '';
  const limit = options.limit !== null ? `limit ${Math.trunc(options.limit)}` : '';
  return `select ${d('id')} as datastream_id, ${d('level')} as level, ${d('asset_id')} as asset_id,
      ${r}.time as t0, ${r}.time as t1, ${r}.time as result_time, ${r}.value, ${r}.quality,
      (case when ${r}.quality = 'ok' then null else to_jsonb(${r}.quality) end) as result_quality, null::jsonb as parameters,
      null::float8 as min, null::float8 as max, null::int as count${options.withFeature ? `, ${row('feature_id')} as feature_id` : ''}
    from ${assetDevices(d)} ${dv}
    cross join lateral (
      select ${r}.time, ${r}.value, ${r}.quality from readings ${r}
      where ${r}.dev_eui = ${dv}.dev_eui and ${r}.metric = ${d('metric')} and ${r}.channel = ${d('channel')} and ${r}.asset_id = ${d('asset_id')}
        ${where} ${order} ${limit}) ${r}
    where ${d('level')} = 'raw'`;
}

/** A zone's samples (level raw): one index range of its key (zone, time). */
function zoneRawBranch(ctx: SqlContext, d: Col, options: ObservationBranchOptions): string {
  const s = ctx.alias('s');
  const parameters = `jsonb_build_object('occupied', ${s}.occupied, 'unknown', ${s}.unknown)`;
  const row: Col = (column) => {
    switch (column) {
      case 't0': case 't1': case 'result_time': return `${s}.time`;
      case 'value': return zoneValue(d, s);
      case 'quality': return `'ok'`;
      case 'result_quality': return 'null::jsonb';
      case 'parameters': return parameters;
      case 'min': case 'max': return 'null::float8';
      case 'count': return 'null::int';
      case '@interval': return 'false';
      case 'feature_id': return featureAt(d('asset_id'), `${s}.time`);
      default: return d(column === 'datastream_id' ? 'id' : column);
    }
  };
  return `select ${d('id')} as datastream_id, ${d('level')} as level, ${d('asset_id')} as asset_id,
      ${s}.time as t0, ${s}.time as t1, ${s}.time as result_time, ${zoneValue(d, s)} as value, 'ok'::text as quality,
      null::jsonb as result_quality, ${parameters} as parameters,
      null::float8 as min, null::float8 as max, null::int as count${options.withFeature ? `, ${row('feature_id')} as feature_id` : ''}
    from zone_occupancy_samples ${s}
    where ${s}.zone = ${zoneOf(d)} and ${d('level')} = 'raw' and ${isZone(d)}
      ${options.filter ? `and ${options.filter(row)}` : ''}
      ${options.order ? `order by ${options.order(row)}` : ''} ${options.limit !== null ? `limit ${Math.trunc(options.limit)}` : ''}`;
}

/**
 * Buckets of `d` at one level: from the continuous aggregates on TimescaleDB (summed over
 * the asset's devices, as the open-data series), with date_bin over the readings on plain
 * PostgreSQL. The filter and order apply to the buckets.
 */
function aggregateBranch(ctx: SqlContext, d: Col, level: 'hour' | 'day', options: ObservationBranchOptions, zone = false): string {
  const width = level === 'hour' ? `interval '1 hour'` : `interval '1 day'`;
  const g = ctx.alias('g');
  let buckets: string;
  // A bucket walk already yields the buckets in the requested order: sorting them again
  // would make PostgreSQL read the walk to its end before the LIMIT. On TimescaleDB too:
  // the continuous aggregate's view is a union of the materialised buckets and the newest
  // ones, which PostgreSQL groups in a hash before it can order them (1.5 ms per
  // Datastream for a month of hours, measured on 2.28.3), where the walk reads the newest
  // chunk's readings by index (the same buckets: the walk aggregates the readings).
  const walking = !!options.timeOrder && options.limit !== null;
  if (zone) {
    // A zone's samples are the same table on both databases: no continuous aggregate.
    const s = ctx.alias('s');
    buckets = walking ? zoneBucketWalk(ctx, d, width, options.timeOrder!)
      : `select date_bin(${width}, ${s}.time, ${EPOCH}) as t0, avg(${zoneValue(d, s)}) as value, min(${zoneValue(d, s)}) as min,
          max(${zoneValue(d, s)}) as max, count(*)::int as count
        from zone_occupancy_samples ${s} where ${s}.zone = ${zoneOf(d)} group by 1`;
  } else if (walking) {
    buckets = bucketWalk(ctx, d, width, options.timeOrder!);
  } else if (ctx.timescale) {
    const h = ctx.alias('h');
    buckets = `select ${h}.bucket as t0, sum(${h}.avg_value * ${h}.count) / sum(${h}.count::float8) as value,
        min(${h}.min_value) as min, max(${h}.max_value) as max, sum(${h}.count)::int as count
      from ${level === 'hour' ? 'readings_hourly' : 'readings_daily'} ${h}
      where ${h}.asset_id = ${d('asset_id')} and ${h}.metric = ${d('metric')} and ${h}.channel = ${d('channel')}
      group by ${h}.bucket`;
  } else {
    const r = ctx.alias('r');
    const dv = ctx.alias('dv');
    buckets = `select date_bin(${width}, ${r}.time, ${EPOCH}) as t0, avg(${r}.value) as value, min(${r}.value) as min, max(${r}.value) as max, count(*)::int as count
      from ${assetDevices(d)} ${dv}
      cross join lateral (select ${r}.time, ${r}.value from readings ${r}
        where ${r}.dev_eui = ${dv}.dev_eui and ${r}.metric = ${d('metric')} and ${r}.channel = ${d('channel')} and ${r}.asset_id = ${d('asset_id')} offset 0) ${r}
      group by 1`;
  }
  const row: Col = (column) => {
    switch (column) {
      case 't0': case 'value': case 'min': case 'max': case 'count': return `${g}.${column}`;
      case 't1': return `(${g}.t0 + ${width})`;
      case 'result_time': return 'null::timestamptz';
      case 'quality': return `'ok'`;
      case 'result_quality': return 'null::jsonb';
      case 'parameters': return `jsonb_build_object('min', ${g}.min, 'max', ${g}.max, 'count', ${g}.count)`;
      case 'feature_id': return featureAt(d('asset_id'), `${g}.t0`);
      case '@interval': return 'true';
      default: return d(column === 'datastream_id' ? 'id' : column);
    }
  };
  return `select ${d('id')} as datastream_id, ${d('level')} as level, ${d('asset_id')} as asset_id,
      ${g}.t0, ${row('t1')} as t1, null::timestamptz as result_time, ${g}.value, 'ok'::text as quality, null::jsonb as result_quality,
      ${row('parameters')} as parameters, ${g}.min, ${g}.max, ${g}.count${options.withFeature ? `, ${row('feature_id')} as feature_id` : ''}
    from (${buckets}) ${g}
    where ${d('level')} = '${level}' ${zone ? `and ${isZone(d)}` : ''} ${options.filter ? `and ${options.filter(row)}` : ''}
    ${options.order && !walking ? `order by ${options.order(row)}` : ''} ${options.limit !== null ? `limit ${Math.trunc(options.limit)}` : ''}`;
}

/**
 * Buckets of `d` one after the other, newest first (`desc`) or oldest first, each found
 * from the readings key: the next reading before (after) the last bucket — one index probe
 * per device — gives the next bucket, whose readings are then aggregated by an index
 * range. A recursive query is read only as far as the caller's LIMIT asks, so the latest
 * hour of a month-long series costs a few probes instead of aggregating 2,880 readings.
 */
function bucketWalk(ctx: SqlContext, d: Col, width: string, direction: 'asc' | 'desc'): string {
  const dv = ctx.alias('dv');
  const r = ctx.alias('r');
  const key = (alias: string): string => `${alias}.metric = ${d('metric')} and ${alias}.channel = ${d('channel')} and ${alias}.asset_id = ${d('asset_id')}`;
  return walkBuckets(ctx, width, direction,
    // The next reading's time beyond `cond`, over every device of the asset.
    (m, cond) => `(select ${direction === 'desc' ? 'max' : 'min'}(x.t) from ${assetDevices(d)} ${dv}
      cross join lateral (select ${m}.time as t from readings ${m} where ${m}.dev_eui = ${dv}.dev_eui and ${key(m)} ${cond}
        order by ${m}.time ${direction} limit 1) x)`,
    (from, to) => `select avg(${r}.value) as value, min(${r}.value) as min, max(${r}.value) as max, count(*)::int as count
      from ${assetDevices(d)} ${dv}
      cross join lateral (select ${r}.value from readings ${r} where ${r}.dev_eui = ${dv}.dev_eui and ${key(r)}
        and ${r}.time >= ${from} and ${r}.time < ${to}) ${r}`);
}

/** bucketWalk over a zone's samples: one probe of the key (zone, time) per bucket. */
function zoneBucketWalk(ctx: SqlContext, d: Col, width: string, direction: 'asc' | 'desc'): string {
  const s = ctx.alias('s');
  return walkBuckets(ctx, width, direction,
    (m, cond) => `(select ${direction === 'desc' ? 'max' : 'min'}(${m}.time) from zone_occupancy_samples ${m} where ${m}.zone = ${zoneOf(d)} ${cond})`,
    (from, to) => `select avg(${zoneValue(d, s)}) as value, min(${zoneValue(d, s)}) as min, max(${zoneValue(d, s)}) as max, count(*)::int as count
      from zone_occupancy_samples ${s} where ${s}.zone = ${zoneOf(d)} and ${s}.time >= ${from} and ${s}.time < ${to}`);
}

/**
 * The recursive walk both sources share: `next(m, cond)` is the time of the next value
 * (alias m) satisfying `cond` (empty: from the end), `aggregate(from, to)` the bucket's
 * avg/min/max/count.
 */
function walkBuckets(
  ctx: SqlContext, width: string, direction: 'asc' | 'desc',
  next: (m: string, cond: string) => string, aggregate: (from: string, to: string) => string,
): string {
  const w = ctx.alias('w');
  const probe = (bound: string | null): string => {
    const m = ctx.alias('m');
    return next(m, bound === null ? '' : direction === 'desc' ? `and ${m}.time < ${bound}` : `and ${m}.time >= ${bound}`);
  };
  const step = direction === 'desc' ? `${w}.b` : `${w}.b + ${width}`;
  return `with recursive ${w}(b) as (
      select date_bin(${width}, ${probe(null)}, ${EPOCH})
      union all
      select date_bin(${width}, ${probe(step)}, ${EPOCH}) from ${w} where ${w}.b is not null)
    select ${w}.b as t0, a.value, a.min, a.max, a.count from ${w}
    cross join lateral (${aggregate(`${w}.b`, `${w}.b + ${width}`)}) a
    where ${w}.b is not null`;
}

/**
 * The Observations of the Datastream row `d`, as the body of a LATERAL subquery: one
 * branch per level (and per source, where `d` can be a zone's), of which only d's yields
 * rows (PostgreSQL skips the others on their constant condition). Each branch is
 * filtered, ordered and limited; the caller orders and limits again over all Datastreams.
 */
export function observationsOf(ctx: SqlContext, d: Col, options: ObservationBranchOptions): string {
  const levels = options.levels ?? ['raw', 'hour', 'day'];
  const zones = options.zones ?? 'any';
  const branches: string[] = [];
  if (zones !== 'only') branches.push(...levels.map((level) => (level === 'raw' ? rawBranch(ctx, d, options) : aggregateBranch(ctx, d, level, options))));
  if (zones !== 'none') branches.push(...levels.map((level) => (level === 'raw' ? zoneRawBranch(ctx, d, options) : aggregateBranch(ctx, d, level, options, true))));
  const ordered = (options.order !== null || options.limit !== null) && branches.length > 1;
  // A branch with its own ORDER BY/LIMIT needs parentheses inside UNION ALL.
  return branches.map((b) => (ordered ? `(${b})` : b)).join('\nunion all\n');
}

