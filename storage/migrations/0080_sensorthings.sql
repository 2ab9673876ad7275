-- OGC SensorThings API 1.1 (/sta/v1.1): the registry and readings seen as Things,
-- Locations, Datastreams, Observations … (docs/sensorthings.md has the mapping).
-- No copy of the readings: what is added here are stable identifiers, the history of
-- asset positions (HistoricalLocations) and a catalogue of the series each asset has.

-- Stable @iot.id: the first 52 bits of the MD5 of a natural key ("Thing/lamp-17"),
-- so an id survives restarts, re-imports of the registry and even a rebuilt database,
-- and fits a JavaScript number exactly (clients parse ids as doubles). The API
-- computes the same value in TypeScript (storage/sta/ids.ts; a test compares both).
-- Two keys sharing an id would need about 2^26 keys of one kind before it is likely.
create function sta_id(key text) returns bigint
language sql immutable strict parallel safe as $$
  select ('x' || lpad(substr(md5(key), 1, 13), 16, '0'))::bit(64)::bigint
$$;

-- Things(id) and Sensors(id) are found by these indexes; the ids are never stored.
create index if not exists assets_sta_id on assets (sta_id('Thing/' || id));
create index if not exists device_models_sta_id on device_models (sta_id('Sensor/' || id));

-- Where each asset stood since when. A Location is one position of one asset (a lamp
-- moved back to where it stood before is at the same Location again); every row is a
-- HistoricalLocation; the FeatureOfInterest of a reading is the asset's position at the
-- reading's time. Coordinates enter the keys as integers of 1e-7 degree (about 1 cm),
-- so the ids do not depend on how a double prints.
create table asset_locations (
  -- An asset is decommissioned, not deleted; where one is deleted its history goes with it.
  asset_id      text not null references assets (id) on delete cascade,
  since         timestamptz not null,
  latitude      double precision not null,
  longitude     double precision not null,
  location_id   bigint not null,
  historical_location_id bigint not null unique,
  feature_id    bigint not null,
  primary key (asset_id, since)
);
create index asset_locations_location on asset_locations (location_id);
create index asset_locations_feature on asset_locations (feature_id);

create function asset_position_key(asset_id text, latitude double precision, longitude double precision) returns text
language sql immutable strict parallel safe as $$
  select asset_id || '/' || round(latitude * 1e7)::bigint || '/' || round(longitude * 1e7)::bigint
$$;

create function asset_locations_record() returns trigger
language plpgsql as $$
declare
  at timestamptz := case when tg_op = 'INSERT' then coalesce(new.created_at, now()) else now() end;
begin
  if new.latitude is null or new.longitude is null then return null; end if;
  if tg_op = 'UPDATE' and old.latitude is not distinct from new.latitude and old.longitude is not distinct from new.longitude then
    return null;
  end if;
  insert into asset_locations (asset_id, since, latitude, longitude, location_id, historical_location_id, feature_id)
  values (new.id, at, new.latitude, new.longitude,
          sta_id('Location/' || asset_position_key(new.id, new.latitude, new.longitude)),
          sta_id('HistoricalLocation/' || new.id || '/' || (extract(epoch from at) * 1000000)::bigint),
          sta_id('FeatureOfInterest/' || asset_position_key(new.id, new.latitude, new.longitude)))
  -- Two moves in one transaction share now(): the last one stands.
  on conflict (asset_id, since) do update set latitude = excluded.latitude, longitude = excluded.longitude,
    location_id = excluded.location_id, feature_id = excluded.feature_id;
  return null;
end $$;

create trigger assets_record_location after insert or update of latitude, longitude on assets
  for each row execute function asset_locations_record();

insert into asset_locations (asset_id, since, latitude, longitude, location_id, historical_location_id, feature_id)
select id, created_at, latitude, longitude,
       sta_id('Location/' || asset_position_key(id, latitude, longitude)),
       sta_id('HistoricalLocation/' || id || '/' || (extract(epoch from created_at) * 1000000)::bigint),
       sta_id('FeatureOfInterest/' || asset_position_key(id, latitude, longitude))
from assets where latitude is not null and longitude is not null;

-- The series of each asset: one row per asset, metric, channel and level (raw readings,
-- hourly and daily means), each a Datastream. Registered by the service when a committed
-- batch holds a series it has not seen (api/sta/datastream-catalogue.ts) and caught up
-- from latest_state at start and every minute (series written by another process).
-- `dev_eui` is the device that last brought a new series or device: its model is the
-- Datastream's Sensor. `first_time` is the oldest reading seen, the start of the
-- Datastream's phenomenonTime (its end comes from latest_state).
create table sta_datastreams (
  id            bigint primary key,
  asset_id      text not null,
  metric        text not null,
  channel       text not null default '',
  level         text not null check (level in ('raw', 'hour', 'day')),
  dev_eui       text not null,
  first_time    timestamptz not null,
  unique (asset_id, metric, channel, level)
);
create index sta_datastreams_metric on sta_datastreams (metric);
create index sta_datastreams_dev_eui on sta_datastreams (dev_eui);

-- The Datastream id of a series; the same formula as datastreamId() in storage/sta/ids.ts.
-- The channel comes last: it is the only part that may contain '/'.
create function sta_datastream_id(level text, asset_id text, metric text, channel text) returns bigint
language sql immutable strict parallel safe as $$
  select sta_id('Datastream/' || level || '/' || asset_id || '/' || metric || '/' || channel)
$$;

-- The series that latest state knows of (one row per device; its metrics are keyed
-- "metric" or "metric@channel"), with the oldest reading of each.
insert into sta_datastreams (id, asset_id, metric, channel, level, dev_eui, first_time)
select sta_datastream_id(l.level, s.asset_id, s.metric, s.channel), s.asset_id, s.metric, s.channel, l.level, s.dev_eui,
       coalesce((select min(r.time) from readings r where r.dev_eui = s.dev_eui and r.metric = s.metric and r.channel = s.channel), s.latest)
from (
  select ls.dev_eui, ls.asset_id,
         split_part(k.key, '@', 1) as metric,
         case when strpos(k.key, '@') = 0 then '' else substr(k.key, strpos(k.key, '@') + 1) end as channel,
         to_timestamp((k.value ->> 0)::float8 / 1000) as latest
  from latest_state ls cross join lateral jsonb_each(ls.metrics) k
  where ls.asset_id is not null) s
cross join (values ('raw'), ('hour'), ('day')) l(level)
on conflict do nothing;
