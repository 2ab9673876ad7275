import type pg from 'pg';

type Db = pg.Pool | pg.ClientBase;

/** What the open-data catalog says about the published assets of one kind. */
export interface PublishedKindRow {
  kind: string;
  /** Published assets of the kind. */
  assets: number;
  /** The first mount of a device on one of them (or the asset's registration): no reading of theirs is older. */
  firstTime: Date | null;
  /** The newest reading of a published metric on one of them. */
  lastTime: Date | null;
}

/**
 * Per asset kind: how many assets are published, since when and until when they have
 * data. Published are public assets, and every parking bay (zone totals and DATEX II
 * carry them in aggregate). The start is the earliest mount (device_mounts, by asset)
 * rather than the earliest reading: readings are stored with the asset their device is
 * mounted on, so none is older than the mount, and finding the oldest reading would
 * probe every device's every metric and channel. The end comes from latest_state.
 */
export async function selectPublishedKinds(db: Db, q: { metrics: string[] }): Promise<PublishedKindRow[]> {
  const { rows } = await db.query<PublishedKindRow>({
    name: 'catalog-published-kinds',
    text: `select a.kind, count(*)::int as assets, min(coalesce(m.first, a.created_at)) as "firstTime", max(l.time) as "lastTime"
           from assets a
           left join lateral (select min(mounted_at) as first from device_mounts where asset_id = a.id) m on true
           left join lateral (
             select max(to_timestamp((e.value ->> 0)::float8 / 1000)) as time
             from latest_state s cross join lateral jsonb_each(s.metrics) e
             where s.asset_id = a.id and split_part(e.key, '@', 1) = any($1::text[])) l on true
           where (a.is_public or a.kind = 'parking_bay') and a.decommissioned_at is null
           group by a.kind`,
    values: [q.metrics],
  });
  return rows;
}
