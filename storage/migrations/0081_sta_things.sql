-- SensorThings Things as a table of their own: one row per asset and one per parking zone
-- (issue 21: "Thing = a public asset … parking zone"). The Thing, Location,
-- HistoricalLocation, Datastream and FeatureOfInterest relations of /sta/v1.1 join this
-- table instead of `assets`, so a zone is an ordinary row there: no UNION in the relations
-- every request reads (one with a zone branch in each cost the $count and st_within
-- benchmarks half their margin and tripled the planning of a Datastream lookup).
--
-- Kept by statement-level triggers on `assets` with transition tables: a registry import
-- of ten thousand bays in one statement updates each of their zones once, not once per
-- bay, and a zone is kept as running sums (bays, and the exact numeric sums of their
-- coordinates), so a statement costs what it changed, not the size of the zones it
-- touches (the import API writes one bay per statement). The triggers also take over
-- recording asset positions (asset_locations, 0080's row trigger) so that a Thing row
-- exists before its first position refers to it.
--
-- A zone's key is 'zone/' || zone name. Asset ids cannot contain '/' (0001's check), so
-- no asset's key, nor a key built from one (Location, HistoricalLocation, Datastream),
-- equals a zone's.

create function sta_kind_label(kind text) returns text
language sql immutable strict parallel safe as $$
  select case kind when 'street_lamp' then 'Street lamp' when 'parking_bay' then 'Parking bay' when 'garage' then 'Garage'
    when 'traffic_site' then 'Traffic counting site' when 'water_gauge' then 'Water gauge' when 'parking_zone' then 'Parking zone' else kind end
$$;

create table sta_things (
  -- The asset id, or 'zone/' || zone for a parking zone.
  key           text primary key,
  -- sta_id('Thing/' || key): @iot.id, stored so that Things(id) and pages ordered by id read an index.
  id            bigint not null unique,
  kind          text not null,
  zone          text,
  name          text not null,
  -- 'street lamp lamp-17', 'parking zone altstadt': what descriptions call the Thing.
  label         text not null,
  description   text not null,
  is_public     boolean not null,
  latitude      double precision,
  longitude     double precision,
  capacity      integer,
  -- Zones: parking bays in service in the zone, those with a position, and the sums of
  -- their coordinates as numeric (exact: adding and removing a bay leaves no rounding
  -- behind, in any order), whose mean rounded to 1e-7 degree is the zone's position.
  bays          integer,
  positioned    integer,
  latitude_sum  numeric,
  longitude_sum numeric,
  decommissioned_at timestamptz,
  -- Zones: the newest occupancy sample (the end of its Datastreams' phenomenonTime).
  observed_until timestamptz
);

-- Things(id) reads sta_things.id now.
drop index if exists assets_sta_id;

-- asset_locations holds the zones' centroids too: it refers to Things, not assets.
alter table asset_locations drop constraint asset_locations_asset_id_fkey;
drop trigger assets_record_location on assets;
drop function asset_locations_record();

-- The rows of these assets as they are now (deleted ones removed), and a position row
-- for each whose position differs from its newest one: since its creation when the
-- statement inserted it, else since now (two moves in one transaction share now(): the
-- last one stands).
-- Both sync functions run with generic plans: planned anew for each call (custom plans
-- of `= any(ids)`), one bay's statement spent 1 ms of its 1.6 in planning.
create function sta_things_sync_assets(ids text[], inserted boolean) returns void
language plpgsql strict set plan_cache_mode = force_generic_plan as $$
begin
  delete from sta_things t
  where t.key = any(ids) and t.kind <> 'parking_zone' and not exists (select 1 from assets a where a.id = t.key);
  insert into sta_things as t (key, id, kind, zone, name, label, description, is_public, latitude, longitude, capacity, decommissioned_at)
  select a.id, sta_id('Thing/' || a.id), a.kind, a.zone, coalesce(a.name, a.id), lower(sta_kind_label(a.kind)) || ' ' || a.id,
         sta_kind_label(a.kind) || ' ' || a.id || coalesce(' in zone ' || a.zone, ''), a.is_public, a.latitude, a.longitude,
         a.capacity, a.decommissioned_at
  from assets a where a.id = any(ids)
  on conflict (key) do update set kind = excluded.kind, zone = excluded.zone, name = excluded.name, label = excluded.label,
    description = excluded.description, is_public = excluded.is_public, latitude = excluded.latitude,
    longitude = excluded.longitude, capacity = excluded.capacity, decommissioned_at = excluded.decommissioned_at
  where (t.kind, t.zone, t.name, t.is_public, t.latitude, t.longitude, t.capacity, t.decommissioned_at)
    is distinct from (excluded.kind, excluded.zone, excluded.name, excluded.is_public, excluded.latitude, excluded.longitude,
                      excluded.capacity, excluded.decommissioned_at);
  insert into asset_locations (asset_id, since, latitude, longitude, location_id, historical_location_id, feature_id)
  select a.id, p.since, a.latitude, a.longitude,
         sta_id('Location/' || asset_position_key(a.id, a.latitude, a.longitude)),
         sta_id('HistoricalLocation/' || a.id || '/' || (extract(epoch from p.since) * 1000000)::bigint),
         sta_id('FeatureOfInterest/' || asset_position_key(a.id, a.latitude, a.longitude))
  from assets a
  cross join lateral (select case when inserted then coalesce(a.created_at, now()) else now() end as since) p
  left join lateral (select l.latitude, l.longitude from asset_locations l where l.asset_id = a.id order by l.since desc limit 1) l on true
  where a.id = any(ids) and a.latitude is not null and a.longitude is not null
    and (l.latitude is null or (l.latitude, l.longitude) is distinct from (a.latitude, a.longitude))
  on conflict (asset_id, since) do update set latitude = excluded.latitude, longitude = excluded.longitude,
    location_id = excluded.location_id, feature_id = excluded.feature_id;
end $$;

-- Bays in service joining (+1) or leaving (-1) zones, as rows (zone, sign, latitude,
-- longitude) of `changes`, summed per zone and added to the zones' rows: a zone's first
-- bay makes its row; a zone whose last bay left keeps its row, its last position and its
-- history, decommissioned. A mean that moved (at the 1e-7 degree of position keys) is a
-- new position, since now.
create function sta_zones_delta(changes text) returns text
language sql immutable strict parallel safe as $$
  select 'select zone, sum(sign)::int, coalesce(sum(sign) filter (where latitude is not null and longitude is not null), 0)::int,
            coalesce(sum(sign * latitude::numeric) filter (where latitude is not null and longitude is not null), 0),
            coalesce(sum(sign * longitude::numeric) filter (where latitude is not null and longitude is not null), 0)
          from (' || changes || ') c group by zone'
$$;

create function sta_things_sync_zones(zones text[], bays int[], positioned int[], latitude_sums numeric[], longitude_sums numeric[]) returns void
language plpgsql strict set plan_cache_mode = force_generic_plan as $$
begin
  insert into sta_things as t (key, id, kind, zone, name, label, description, is_public, bays, positioned, latitude_sum, longitude_sum,
                               latitude, longitude, decommissioned_at)
  select 'zone/' || d.zone, sta_id('Thing/zone/' || d.zone), 'parking_zone', d.zone, 'Parking zone ' || d.zone, 'parking zone ' || d.zone,
         'Parking zone ' || d.zone || ': its parking bays together, free and total spaces', true, d.bays, coalesce(d.positioned, 0),
         d.latitude_sum, d.longitude_sum,
         case when d.positioned > 0 then round(d.latitude_sum / d.positioned, 7)::float8 end,
         case when d.positioned > 0 then round(d.longitude_sum / d.positioned, 7)::float8 end,
         case when d.bays <= 0 then now() end
  from unnest(zones, bays, positioned, latitude_sums, longitude_sums) as d(zone, bays, positioned, latitude_sum, longitude_sum)
  where d.zone is not null and (d.bays <> 0 or d.positioned <> 0 or d.latitude_sum <> 0 or d.longitude_sum <> 0)
  on conflict (key) do update set bays = t.bays + excluded.bays, positioned = t.positioned + excluded.positioned,
    latitude_sum = t.latitude_sum + excluded.latitude_sum, longitude_sum = t.longitude_sum + excluded.longitude_sum,
    latitude = case when t.positioned + excluded.positioned > 0
      then round((t.latitude_sum + excluded.latitude_sum) / (t.positioned + excluded.positioned), 7)::float8 else t.latitude end,
    longitude = case when t.positioned + excluded.positioned > 0
      then round((t.longitude_sum + excluded.longitude_sum) / (t.positioned + excluded.positioned), 7)::float8 else t.longitude end,
    decommissioned_at = case when t.bays + excluded.bays <= 0 then coalesce(t.decommissioned_at, now()) end;
  insert into asset_locations (asset_id, since, latitude, longitude, location_id, historical_location_id, feature_id)
  select t.key, now(), t.latitude, t.longitude,
         sta_id('Location/' || asset_position_key(t.key, t.latitude, t.longitude)),
         sta_id('HistoricalLocation/' || t.key || '/' || (extract(epoch from now()) * 1000000)::bigint),
         sta_id('FeatureOfInterest/' || asset_position_key(t.key, t.latitude, t.longitude))
  from sta_things t
  left join lateral (select l.latitude, l.longitude from asset_locations l where l.asset_id = t.key order by l.since desc limit 1) l on true
  where t.key in (select 'zone/' || zone from unnest(zones) zone) and t.latitude is not null and t.longitude is not null
    and (l.latitude is null or asset_position_key(t.key, l.latitude, l.longitude) <> asset_position_key(t.key, t.latitude, t.longitude))
  on conflict (asset_id, since) do update set latitude = excluded.latitude, longitude = excluded.longitude,
    location_id = excluded.location_id, feature_id = excluded.feature_id;
end $$;

-- Each trigger function passes the changed asset ids, and the bays in service that joined
-- (+1) or left (-1) a zone, summed per zone. The update trigger joins its transition
-- tables by EXECUTE: a cached plan would keep the join chosen for the first statement's
-- row count (a nested loop for one row), and an update of 4,000 bays after a few
-- single-row ones then took 2.3 s instead of 0.2 s. Insert and delete only aggregate one
-- table, which any cached plan does in one pass.
create function assets_sta_inserted() returns trigger
language plpgsql as $$
declare
  ids text[]; zones text[]; bays int[]; positioned int[]; latitude_sums numeric[]; longitude_sums numeric[];
begin
  select array_agg(n.id) into ids from new_rows n;
  select array_agg(d.zone), array_agg(d.bays), array_agg(d.positioned), array_agg(d.latitude_sum), array_agg(d.longitude_sum)
  into zones, bays, positioned, latitude_sums, longitude_sums
  from (select n.zone, count(*)::int as bays, count(*) filter (where n.latitude is not null and n.longitude is not null)::int as positioned,
               coalesce(sum(n.latitude::numeric) filter (where n.latitude is not null and n.longitude is not null), 0) as latitude_sum,
               coalesce(sum(n.longitude::numeric) filter (where n.latitude is not null and n.longitude is not null), 0) as longitude_sum
        from new_rows n where n.kind = 'parking_bay' and n.zone is not null and n.decommissioned_at is null group by n.zone) d;
  perform sta_things_sync_assets(ids, true);
  perform sta_things_sync_zones(zones, bays, positioned, latitude_sums, longitude_sums);
  return null;
end $$;

-- Only rows whose Thing-relevant columns changed are synced (an update of notes or
-- attributes touches nothing here); only bays that changed zone, position, kind or
-- service move a zone: out of the old one as they were, into the new one as they are.
create function assets_sta_updated() returns trigger
language plpgsql as $$
declare
  ids text[]; zones text[]; bays int[]; positioned int[]; latitude_sums numeric[]; longitude_sums numeric[];
begin
  execute $q$
    select array_agg(coalesce(n.id, o.id)) from new_rows n full join old_rows o on o.id = n.id
    where o.id is null or n.id is null
       or (o.kind, o.zone, o.name, o.is_public, o.latitude, o.longitude, o.capacity, o.decommissioned_at)
          is distinct from (n.kind, n.zone, n.name, n.is_public, n.latitude, n.longitude, n.capacity, n.decommissioned_at)$q$
    into ids;
  execute 'select array_agg(zone), array_agg(b), array_agg(p), array_agg(la), array_agg(lo) from ('
    || sta_zones_delta($c$
      with c as (
        select n.id as new_id, o.id as old_id, n.zone as new_zone, o.zone as old_zone,
               n.latitude as new_latitude, n.longitude as new_longitude, o.latitude as old_latitude, o.longitude as old_longitude,
               n.kind = 'parking_bay' and n.zone is not null and n.decommissioned_at is null as new_bay,
               o.kind = 'parking_bay' and o.zone is not null and o.decommissioned_at is null as old_bay
        from new_rows n full join old_rows o on o.id = n.id
        where o.id is null or n.id is null
           or (o.kind, o.zone, o.latitude, o.longitude, o.decommissioned_at) is distinct from (n.kind, n.zone, n.latitude, n.longitude, n.decommissioned_at))
      select new_zone as zone, 1 as sign, new_latitude as latitude, new_longitude as longitude from c where new_bay
      union all
      select old_zone, -1, old_latitude, old_longitude from c where old_bay$c$) || ') d(zone, b, p, la, lo)'
    into zones, bays, positioned, latitude_sums, longitude_sums;
  perform sta_things_sync_assets(ids, false);
  perform sta_things_sync_zones(zones, bays, positioned, latitude_sums, longitude_sums);
  return null;
end $$;

create function assets_sta_deleted() returns trigger
language plpgsql as $$
declare
  ids text[]; zones text[]; bays int[]; positioned int[]; latitude_sums numeric[]; longitude_sums numeric[];
begin
  select array_agg(o.id) into ids from old_rows o;
  select array_agg(d.zone), array_agg(-d.bays), array_agg(-d.positioned), array_agg(-d.latitude_sum), array_agg(-d.longitude_sum)
  into zones, bays, positioned, latitude_sums, longitude_sums
  from (select o.zone, count(*)::int as bays, count(*) filter (where o.latitude is not null and o.longitude is not null)::int as positioned,
               coalesce(sum(o.latitude::numeric) filter (where o.latitude is not null and o.longitude is not null), 0) as latitude_sum,
               coalesce(sum(o.longitude::numeric) filter (where o.latitude is not null and o.longitude is not null), 0) as longitude_sum
        from old_rows o where o.kind = 'parking_bay' and o.zone is not null and o.decommissioned_at is null group by o.zone) d;
  perform sta_things_sync_assets(ids, false);
  perform sta_things_sync_zones(zones, bays, positioned, latitude_sums, longitude_sums);
  return null;
end $$;

create trigger assets_sta_insert after insert on assets referencing new table as new_rows
  for each statement execute function assets_sta_inserted();
create trigger assets_sta_update after update on assets referencing old table as old_rows new table as new_rows
  for each statement execute function assets_sta_updated();
create trigger assets_sta_delete after delete on assets referencing old table as old_rows
  for each statement execute function assets_sta_deleted();

-- The registry as it is: every asset, then every zone with its first position since its
-- newest bay was registered (the centroid of these bays exists since then).
select sta_things_sync_assets(coalesce((select array_agg(id) from assets), '{}'), true);
insert into sta_things (key, id, kind, zone, name, label, description, is_public, bays, positioned, latitude_sum, longitude_sum, latitude, longitude)
select 'zone/' || zone, sta_id('Thing/zone/' || zone), 'parking_zone', zone, 'Parking zone ' || zone, 'parking zone ' || zone,
       'Parking zone ' || zone || ': its parking bays together, free and total spaces', true, bays, positioned, latitude_sum, longitude_sum,
       case when positioned > 0 then round(latitude_sum / positioned, 7)::float8 end,
       case when positioned > 0 then round(longitude_sum / positioned, 7)::float8 end
from (
  select zone, count(*)::int as bays, count(*) filter (where latitude is not null and longitude is not null)::int as positioned,
         coalesce(sum(latitude::numeric) filter (where latitude is not null and longitude is not null), 0) as latitude_sum,
         coalesce(sum(longitude::numeric) filter (where latitude is not null and longitude is not null), 0) as longitude_sum
  from assets where kind = 'parking_bay' and decommissioned_at is null and zone is not null group by zone) z;
insert into asset_locations (asset_id, since, latitude, longitude, location_id, historical_location_id, feature_id)
select t.key, s.since, t.latitude, t.longitude,
       sta_id('Location/' || asset_position_key(t.key, t.latitude, t.longitude)),
       sta_id('HistoricalLocation/' || t.key || '/' || (extract(epoch from s.since) * 1000000)::bigint),
       sta_id('FeatureOfInterest/' || asset_position_key(t.key, t.latitude, t.longitude))
from sta_things t
cross join lateral (select max(a.created_at) as since from assets a
                    where a.zone = t.zone and a.kind = 'parking_bay' and a.decommissioned_at is null) s
where t.kind = 'parking_zone' and t.latitude is not null and t.longitude is not null
on conflict do nothing;

alter table asset_locations add constraint asset_locations_thing foreign key (asset_id) references sta_things (key) on delete cascade;

-- Occupancy of each parking zone over time, sampled by the service (api/sta/zone-sampler.ts)
-- from its bays' latest `occupied` readings, counted as /api/v1/open/parking/zones counts
-- them. `time` is the start of the sampling interval on the database's clock, so two
-- service instances, or one restarted within an interval, write the same key and the
-- second write does nothing: history starts when a service first sampled and has a gap
-- wherever none was running.
create table zone_occupancy_samples (
  zone          text not null,
  time          timestamptz not null,
  bays          integer not null,
  free          integer not null,
  occupied      integer not null,
  unknown       integer not null,
  primary key (zone, time)
);
