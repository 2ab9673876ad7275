import type pg from 'pg';
import { BAY_COUNTS, baysInService } from './bay-state.js';

type Db = pg.Pool | pg.ClientBase;

/** A public garage with its counter's latest free and total spaces. */
export interface GarageSiteRow {
  assetId: string;
  name: string | null;
  zone: string | null;
  latitude: number | null;
  longitude: number | null;
  /** Spaces as registered (assets.capacity), or null. */
  capacity: number | null;
  attributes: Record<string, unknown>;
  updatedAt: Date;
  /** Latest free_spaces reading, its total_spaces and the reading's time; null without a reading. */
  free: number | null;
  total: number | null;
  readingTime: Date | null;
  /** The reading is older than the stale limit. */
  stale: boolean;
}

/** The bays of one zone in aggregate: count, centroid and current occupancy. */
export interface ZoneSiteRow {
  zone: string;
  bays: number;
  /** Mean position of the zone's bays that have one; null when none has. */
  latitude: number | null;
  longitude: number | null;
  /** Newest registry change of a bay of the zone. */
  updatedAt: Date;
  occupied: number;
  free: number;
  /** Bays without a fresh `occupied` reading. */
  unknown: number;
  /** Newest fresh bay reading; null when no bay has one. */
  readingTime: Date | null;
}

/**
 * Public garages (kind garage, is_public, not decommissioned) with the newest
 * free_spaces reading of any device on them: the DATEX II parking sites of the
 * off-street kind. One lateral probe of latest_state_asset per garage.
 */
export async function selectGarageSites(db: Db, q: { staleAfterS: number }): Promise<GarageSiteRow[]> {
  const { rows } = await db.query<GarageSiteRow>({
    name: 'parking-sites-garages',
    text: `select a.id as "assetId", a.name, a.zone, a.latitude, a.longitude, a.capacity, a.attributes, a.updated_at as "updatedAt",
                  l.free, l.total, l.time as "readingTime",
                  coalesce(l.time < now() - make_interval(secs => $1), false) as stale
           from assets a
           left join lateral (
             select (s.metrics -> 'free_spaces' ->> 1)::float8 as free, (s.metrics -> 'total_spaces' ->> 1)::float8 as total,
                    to_timestamp((s.metrics -> 'free_spaces' ->> 0)::float8 / 1000) as time
             from latest_state s where s.asset_id = a.id and s.metrics ? 'free_spaces'
             order by (s.metrics -> 'free_spaces' ->> 0)::bigint desc limit 1) l on true
           where a.kind = 'garage' and a.is_public and a.decommissioned_at is null
           order by a.id`,
    values: [q.staleAfterS],
  });
  return rows;
}

/**
 * Every zone's parking bays in aggregate, public or not (single bays stay private;
 * counts and a centroid do not show one): count, mean position, and the bays occupied,
 * free and unknown by the bay rule (storage/sql/bay-state.ts), as every zone total.
 */
export async function selectZoneSites(db: Db, q: { staleAfterS: number }): Promise<ZoneSiteRow[]> {
  const { rows } = await db.query<ZoneSiteRow>({
    name: 'parking-sites-zones',
    text: `select b.zone, ${BAY_COUNTS}, avg(b.latitude) as latitude, avg(b.longitude) as longitude,
                  max(b.updated_at) as "updatedAt", max(b.time) filter (where b.state <> 'unknown') as "readingTime"
           from (${baysInService({ columns: 'a.zone, a.latitude, a.longitude, a.updated_at', at: 'now()', staleAfterS: '$1' })}) b
           group by b.zone
           order by b.zone`,
    values: [q.staleAfterS],
  });
  return rows;
}
