import type pg from 'pg';
import { BAY_COUNTS, baysInService } from './bay-state.js';

type Db = pg.Pool | pg.ClientBase;

export interface LatestByAssetRow {
  assetId: string;
  kind: string;
  zone: string | null;
  name: string | null;
  latitude: number | null;
  longitude: number | null;
  isPublic: boolean;
  capacity: number | null;
  metric: string;
  channel: string;
  value: number;
  quality: string;
  time: Date;
}

/**
 * Latest value of each metric on each (active) asset of the given kinds, from the
 * latest_readings view (latest_state, one row per device, expanded to one row per metric
 * and channel) joined to assets. Uses latest_state_asset and the assets primary key.
 */
export async function selectLatestByAsset(db: Db, q: { kinds: string[]; metrics: string[] | null; zone: string | null; publicOnly: boolean }): Promise<LatestByAssetRow[]> {
  const { rows } = await db.query<LatestByAssetRow>(
    `select a.id as "assetId", a.kind, a.zone, a.name, a.latitude, a.longitude, a.is_public as "isPublic", a.capacity,
            l.metric, l.channel, l.value, l.quality, l.time
     from assets a join latest_readings l on l.asset_id = a.id
     where a.kind = any($1::text[]) and a.decommissioned_at is null
       and ($2::text[] is null or l.metric = any($2::text[]))
       and ($3::text is null or a.zone = $3)
       and (not $4 or a.is_public)
     order by a.id, l.metric, l.channel, l.time desc`,
    [q.kinds, q.metrics, q.zone, q.publicOnly],
  );
  return rows;
}

export interface ZoneOccupancyRow {
  zone: string;
  bays: number;
  occupied: number;
  free: number;
  unknown: number;
  garageFree: number;
  garageTotal: number;
}

/**
 * Free and total spaces per zone: bays by the bay rule (storage/sql/bay-state.ts; unknown
 * when their `occupied` reading is older than `staleAfterS`), garages from their latest
 * free/total spaces (public or not; without a total reading their capacity).
 */
export async function selectZoneOccupancy(db: Db, q: { zone: string | null; staleAfterS: number }): Promise<ZoneOccupancyRow[]> {
  const { rows } = await db.query<ZoneOccupancyRow>(
    `with bays as (${baysInService({ columns: 'a.zone', at: 'now()', staleAfterS: '$2', ...(q.zone === null ? {} : { zone: '$1' }) })}),
     garages as (
       select a.zone,
              max(l.value) filter (where l.metric = 'free_spaces') as free,
              coalesce(max(l.value) filter (where l.metric = 'total_spaces'), max(a.capacity)) as total
       from assets a left join latest_readings l on l.asset_id = a.id and l.metric in ('free_spaces', 'total_spaces')
       where a.kind = 'garage' and a.decommissioned_at is null and a.zone is not null and ($1::text is null or a.zone = $1)
       group by a.id, a.zone)
     select zone,
            sum(bays)::int as bays, sum(occupied)::int as occupied, sum(free)::int as free, sum(unknown)::int as unknown,
            sum(garage_free)::int as "garageFree", sum(garage_total)::int as "garageTotal"
     from (
       select b.zone, ${BAY_COUNTS}, 0 as garage_free, 0 as garage_total
       from bays b group by b.zone
       union all
       select zone, 0, 0, 0, 0, coalesce(sum(free), 0), coalesce(sum(total), 0) from garages group by zone) z
     group by zone order by zone`,
    [q.zone, q.staleAfterS],
  );
  return rows;
}
