-- Readings get one index fewer: an asset's series is read through the devices mounted
-- on it and the readings' primary key, not through an index of its own.
--
-- Every reading went into two B-trees: the primary key (dev_eui, metric, channel, time)
-- and readings_asset_metric_time (asset_id, metric, time desc), whose inserts land at
-- random places in a tree as large as the key's. Measured here, `bench ingest
-- --duration 60` on PostgreSQL 15 (1 GB shared buffers), alternating: 11,400 and 11,583
-- uplinks/s without the index, 10,602 and 10,087 with it; the server's CPU 68-72 % of a
-- core against 79-81 %, about 61 µs per uplink against 77.
--
-- The series queries (storage/sql/open-data.ts) now take the asset's devices from the
-- registry (device_mounts keeps every mount, also past ones) and read each device's
-- readings of the metric by the primary key, keeping those taken on this asset. On
-- TimescaleDB that also finds compressed chunks' rows by their segment (dev_eui)
-- instead of decompressing whole chunks.
drop index if exists readings_asset_metric_time;

-- The asset's devices, past and present.
create index if not exists device_mounts_asset on device_mounts (asset_id);
