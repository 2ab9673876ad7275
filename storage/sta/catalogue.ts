/**
 * The catalogue of series (sta_datastreams, migration 0080): every (asset, metric,
 * channel) that has readings, three Datastreams each (raw, hourly, daily). Ids are
 * computed by the database (sta_datastream_id) from the natural key.
 *
 * Both writers insert in the order of that key. Two statements that insert overlapping
 * new keys each wait for the other's uncommitted row where they meet; in opposite orders
 * (two publishers' chunks, or a chunk and the catch-up) each then holds what the other
 * waits for, and PostgreSQL ends one with `deadlock detected`. In one order, the later
 * statement only waits.
 */
import type pg from 'pg';

type Db = pg.Pool | pg.ClientBase;

export interface SeriesKey {
  assetId: string;
  metric: string;
  channel: string;
  devEui: string;
  /** Oldest reading of the series seen. */
  firstTime: Date;
}

/** A Datastream the catalogue did not have before. */
export interface NewDatastream {
  id: number;
  assetId: string;
  metric: string;
}

/**
 * Registers series (idempotent): new ones get their three Datastreams; a known one moves
 * its first_time back when an older reading arrives and takes the newer device. Returns
 * the Datastreams this call created (not those another process created first), with the
 * ids the database computed.
 */
export async function upsertSeries(db: Db, keys: SeriesKey[]): Promise<NewDatastream[]> {
  if (keys.length === 0) return [];
  const { rows } = await db.query<{ id: string; asset_id: string; metric: string; created: boolean }>(
    `insert into sta_datastreams (id, asset_id, metric, channel, level, dev_eui, first_time)
     select sta_datastream_id(l.level, k.asset_id, k.metric, k.channel), k.asset_id, k.metric, k.channel, l.level, k.dev_eui, k.first_time
     from unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::timestamptz[]) as k(asset_id, metric, channel, dev_eui, first_time)
     cross join (values ('raw'), ('hour'), ('day')) l(level)
     order by k.asset_id, k.metric, k.channel, l.level
     on conflict (asset_id, metric, channel, level) do update
       set first_time = least(sta_datastreams.first_time, excluded.first_time), dev_eui = excluded.dev_eui
       where excluded.first_time < sta_datastreams.first_time or excluded.dev_eui <> sta_datastreams.dev_eui
     returning id::text, asset_id, metric, (xmax = 0) as created`,
    [keys.map((k) => k.assetId), keys.map((k) => k.metric), keys.map((k) => k.channel), keys.map((k) => k.devEui), keys.map((k) => k.firstTime)],
  );
  return rows.filter((r) => r.created).map((r) => ({ id: Number(r.id), assetId: r.asset_id, metric: r.metric }));
}

/**
 * Series that latest state knows and the catalogue does not: those written by another
 * process (a second ingest worker before it registered them, redecode, an import). The
 * oldest reading of each new one is looked up by the readings key. Returns the
 * Datastreams it created.
 */
export async function catchUpSeries(db: Db): Promise<NewDatastream[]> {
  const { rows } = await db.query<{ id: string; asset_id: string; metric: string }>(
    `insert into sta_datastreams (id, asset_id, metric, channel, level, dev_eui, first_time)
     select sta_datastream_id(l.level, s.asset_id, s.metric, s.channel), s.asset_id, s.metric, s.channel, l.level, s.dev_eui,
            coalesce((select min(r.time) from readings r where r.dev_eui = s.dev_eui and r.metric = s.metric and r.channel = s.channel and r.asset_id = s.asset_id), s.latest)
     from (
       select ls.dev_eui, ls.asset_id, split_part(k.key, '@', 1) as metric,
              case when strpos(k.key, '@') = 0 then '' else substr(k.key, strpos(k.key, '@') + 1) end as channel,
              to_timestamp((k.value ->> 0)::float8 / 1000) as latest
       from latest_state ls cross join lateral jsonb_each(ls.metrics) k
       where ls.asset_id is not null) s
     cross join (values ('raw'), ('hour'), ('day')) l(level)
     where not exists (select 1 from sta_datastreams d where d.asset_id = s.asset_id and d.metric = s.metric and d.channel = s.channel and d.level = l.level)
     order by s.asset_id, s.metric, s.channel, l.level
     on conflict do nothing
     returning id::text, asset_id, metric`,
  );
  return rows.map((r) => ({ id: Number(r.id), assetId: r.asset_id, metric: r.metric }));
}
