/**
 * Occupancy samples of parking zones (zone_occupancy_samples, migration 0081): the
 * Observations of a zone's `free_spaces` and `total_spaces` Datastreams. A sample counts
 * the zone's bays in service by the bay rule of storage/sql/bay-state.ts, as every zone
 * total does. Bays only: garages are Things with Datastreams of their own, so a zone's
 * free_spaces is the bays part of /api/v1/open/parking/zones' freeSpaces, which adds the
 * zone's garages (docs/sensorthings.md).
 */
import type pg from 'pg';
import { BAY_COUNTS, baysInService } from '../sql/bay-state.js';
import { zoneKeySql } from './ids.js';

type Db = pg.Pool | pg.ClientBase;

export interface ZoneSample {
  zone: string;
  /** Start of the sampling interval (the database's clock): the Observation's phenomenonTime. */
  time: Date;
  bays: number;
  free: number;
  occupied: number;
  unknown: number;
  /** This call wrote the sample; false: the interval's sample was there already (another instance, or before a restart). */
  written: boolean;
  /** The zone's current FeatureOfInterest (its centroid), null when its bays have no position. */
  featureId: number | null;
}

/**
 * Samples every zone that has bays in service, keyed by the start of the current
 * `intervalMs` interval (of `at`, default the database's now(): tests sample the past): writing a key that is there already does nothing, so two
 * instances, or a restart within an interval, never double a sample. In the same
 * statement a zone's first sample registers its six Datastreams (two metrics, three
 * levels) and every written sample moves its Datastreams' phenomenonTime end.
 */
export async function sampleZones(db: Db, q: { intervalMs: number; staleAfterS: number; at?: Date }): Promise<ZoneSample[]> {
  const { rows } = await db.query<{ zone: string; time: Date; bays: number; free: number; occupied: number; unknown: number; written: boolean; feature_id: string | null }>({
    name: 'sta-sample-zones',
    // Data-modifying CTEs run to completion whether or not the final SELECT reads them.
    text: `with at as (select coalesce($3::timestamptz, now()) as time),
           bucket as (select date_bin(make_interval(secs => $1::float8 / 1000), at.time, timestamptz '2000-01-01 00:00:00+00') as time from at),
           counts as (
             select b.zone, ${BAY_COUNTS}
             from (${baysInService({ columns: 'a.zone', at: '(select at.time from at)', staleAfterS: '$2' })}) b
             group by b.zone),
           written as (
             insert into zone_occupancy_samples (zone, time, bays, free, occupied, unknown)
             select c.zone, bucket.time, c.bays, c.free, c.occupied, c.unknown from counts c, bucket
             on conflict do nothing
             returning zone, time),
           things as (
             update sta_things t set observed_until = w.time from written w
             where t.key = ${zoneKeySql('w.zone')} and (t.observed_until is null or t.observed_until < w.time)),
           series as (
             insert into sta_datastreams (id, asset_id, metric, channel, level, dev_eui, first_time)
             select sta_datastream_id(l.level, ${zoneKeySql('w.zone')}, m.metric, ''), ${zoneKeySql('w.zone')}, m.metric, '', l.level, '', w.time
             from written w cross join (values ('free_spaces'), ('total_spaces')) m(metric) cross join (values ('raw'), ('hour'), ('day')) l(level)
             on conflict do nothing
             returning id)
           select c.zone, bucket.time, c.bays, c.free, c.occupied, c.unknown, w.zone is not null as written,
                  (select f.feature_id::text from asset_locations f where f.asset_id = ${zoneKeySql('c.zone')} order by f.since desc limit 1) as feature_id
           from counts c cross join bucket left join written w on w.zone = c.zone
           order by c.zone`,
    values: [q.intervalMs, q.staleAfterS, q.at ?? null],
  });
  return rows.map((r) => ({ zone: r.zone, time: r.time, bays: r.bays, free: r.free, occupied: r.occupied, unknown: r.unknown, written: r.written, featureId: r.feature_id === null ? null : Number(r.feature_id) }));
}
