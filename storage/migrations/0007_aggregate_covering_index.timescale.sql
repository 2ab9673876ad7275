-- Series from the continuous aggregates (hour and day buckets of an asset's metric) read
-- every value they return from the aggregate's index: an index-only scan, where the index
-- of 0004 found each bucket's row on a heap page of its own (the rows of all assets of a
-- bucket are materialised together). Measured on TimescaleDB 2.28.3 with 1,000 lamps and
-- a month of readings, one asset's month of hourly buckets: 716 heap pages read per query
-- before, none after; the query (as storage/sql/open-data.ts sends it) 1.7–1.8 ms before,
-- 1.3–1.4 ms after, in repeated EXPLAIN ANALYZE runs.
-- The index lives on the materialised hypertable: it is maintained when a refresh
-- materialises buckets, not on ingest. Index-only scans need the pages marked all-visible,
-- which autovacuum does after a refresh.
create index if not exists readings_hourly_asset_covering on readings_hourly (asset_id, metric, bucket)
  include (channel, avg_value, min_value, max_value, count);

create index if not exists readings_daily_asset_covering on readings_daily (asset_id, metric, bucket)
  include (channel, avg_value, min_value, max_value, count);

-- The indexes they replace sit beside the materialised hypertables (in TimescaleDB's own
-- schema), not in the search path: looked up there.
do $$
declare
  r record;
begin
  for r in
    select i.schemaname, i.indexname from pg_indexes i
    join timescaledb_information.continuous_aggregates c
      on c.materialization_hypertable_schema = i.schemaname and c.materialization_hypertable_name = i.tablename
    where (c.view_name, i.indexname) in (('readings_hourly', 'readings_hourly_asset'), ('readings_daily', 'readings_daily_asset'))
  loop
    execute format('drop index %I.%I', r.schemaname, r.indexname);
  end loop;
end $$;
