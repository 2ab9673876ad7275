-- stadtfunk:no-transaction
-- TimescaleDB (applied only where the extension can be used; plain PostgreSQL keeps the
-- plain tables and computes buckets with date_bin). Continuous aggregates and policies
-- cannot be created inside a transaction block, so each statement runs on its own;
-- every statement is safe to repeat.
create extension if not exists timescaledb;

-- One-day chunks: a city of 10,000 sensors reporting every 5 minutes writes ~3 million
-- uplinks and ~30 million readings a day; a day's chunk of readings (a few GB with
-- indexes) stays well within memory for inserts and is the unit compression works on.
select create_hypertable('uplinks', by_range('received_at', interval '1 day'), if_not_exists => true, migrate_data => true);
select create_hypertable('readings', by_range('time', interval '1 day'), if_not_exists => true, migrate_data => true);

-- Compression: segment by device, newest first within a segment. The age after which
-- chunks are compressed is set at start-up from TIMESCALE_COMPRESS_AFTER_DAYS.
alter table readings set (timescaledb.compress, timescaledb.compress_segmentby = 'dev_eui', timescaledb.compress_orderby = 'metric, channel, time desc');
alter table uplinks set (timescaledb.compress, timescaledb.compress_segmentby = 'dev_eui', timescaledb.compress_orderby = 'received_at desc');

-- Hourly and daily aggregates per device, asset, metric and channel, with real-time
-- aggregation so the newest, not yet materialised hour is included.
create materialized view if not exists readings_hourly
  with (timescaledb.continuous, timescaledb.materialized_only = false) as
  select time_bucket(interval '1 hour', time) as bucket, dev_eui, asset_id, metric, channel,
         avg(value) as avg_value, min(value) as min_value, max(value) as max_value, count(*) as count,
         last(value, time) as last_value
  from readings group by 1, 2, 3, 4, 5
  with no data;
create index if not exists readings_hourly_asset on readings_hourly (asset_id, metric, bucket);

create materialized view if not exists readings_daily
  with (timescaledb.continuous, timescaledb.materialized_only = false) as
  select time_bucket(interval '1 day', time) as bucket, dev_eui, asset_id, metric, channel,
         avg(value) as avg_value, min(value) as min_value, max(value) as max_value, count(*) as count,
         last(value, time) as last_value
  from readings group by 1, 2, 3, 4, 5
  with no data;
create index if not exists readings_daily_asset on readings_daily (asset_id, metric, bucket);

select add_continuous_aggregate_policy('readings_hourly', start_offset => interval '3 days', end_offset => interval '1 hour', schedule_interval => interval '30 minutes', if_not_exists => true);
select add_continuous_aggregate_policy('readings_daily', start_offset => interval '7 days', end_offset => interval '1 day', schedule_interval => interval '6 hours', if_not_exists => true);
