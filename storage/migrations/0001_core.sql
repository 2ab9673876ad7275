-- Core schema: registry, raw uplinks, readings, latest state, health, dead letters, audit.
-- Forward-only. The same tables on PostgreSQL and TimescaleDB; 0002 adds the
-- TimescaleDB parts (hypertables, compression, retention, aggregates) where present.

create table device_models (
  id            text primary key check (id ~ '^[a-z0-9][a-z0-9._-]{0,63}$'),
  name          text not null,
  decoder_kind  text not null check (decoder_kind in ('builtin', 'codec')),
  builtin_name  text,
  codec_script  text,
  mapping       jsonb not null default '[]',
  examples      jsonb not null default '[]',
  -- how often a healthy device of this model reports; silence past 3x marks it silent
  expected_interval_s integer check (expected_interval_s > 0),
  created_at    timestamptz not null default now(),
  updated_at    timestamptz not null default now(),
  check ((decoder_kind = 'builtin') = (builtin_name is not null)),
  check ((decoder_kind = 'codec') = (codec_script is not null))
);

create table assets (
  id            text primary key check (id ~ '^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$'),
  kind          text not null check (kind in ('street_lamp', 'parking_bay', 'garage', 'traffic_site', 'water_gauge')),
  name          text,
  latitude      double precision check (latitude between -90 and 90),
  longitude     double precision check (longitude between -180 and 180),
  zone          text,
  is_public     boolean not null default false,
  -- garages: number of spaces
  capacity      integer check (capacity >= 0),
  -- traffic sites: lanes and directions; anything kind-specific
  attributes    jsonb not null default '{}',
  -- internal notes; never in open data
  notes         text,
  decommissioned_at timestamptz,
  created_at    timestamptz not null default now(),
  updated_at    timestamptz not null default now()
);
create index assets_zone_kind on assets (zone, kind) where decommissioned_at is null;

create table devices (
  dev_eui       text primary key check (dev_eui ~ '^[0-9a-f]{16}$'),
  name          text,
  model_id      text not null references device_models (id),
  asset_id      text references assets (id),
  join_eui      text check (join_eui ~ '^[0-9a-f]{16}$'),
  -- ABP session for the raw-frame layer; keys sealed with AES-256-GCM under MASTER_KEY
  dev_addr      text check (dev_addr ~ '^[0-9a-f]{8}$'),
  nwk_s_key     text,
  app_s_key     text,
  app_key       text,
  allow_counter_reset boolean not null default false,
  -- last accepted 32-bit uplink frame counter (raw-frame layer), updated with the uplink
  f_cnt_up      bigint,
  expected_interval_s integer check (expected_interval_s > 0),
  last_seen_at  timestamptz,
  notes         text,
  decommissioned_at timestamptz,
  created_at    timestamptz not null default now(),
  updated_at    timestamptz not null default now()
);
create index devices_dev_addr on devices (dev_addr) where dev_addr is not null;
create index devices_asset on devices (asset_id);

-- Which asset a device was mounted on when: moves keep their history.
create table device_mounts (
  dev_eui       text not null references devices (dev_eui),
  asset_id      text not null references assets (id),
  mounted_at    timestamptz not null default now(),
  unmounted_at  timestamptz,
  primary key (dev_eui, mounted_at)
);

-- One row per radio message. The identity (id) is deterministic per message; the key
-- includes the time column so the same key works on a TimescaleDB hypertable.
create table uplinks (
  received_at   timestamptz not null,
  id            text not null,
  dev_eui       text not null,
  f_cnt         bigint,
  f_port        integer,
  payload       bytea not null,
  decoded       jsonb,
  decode_error  text,
  source        text not null check (source in ('chirpstack', 'tts', 'concentrator')),
  radio         jsonb not null default '{}',
  primary key (id, received_at)
);
create index uplinks_device_time on uplinks (dev_eui, received_at desc);

create table readings (
  time          timestamptz not null,
  dev_eui       text not null,
  metric        text not null,
  channel       text not null default '',
  value         double precision not null,
  quality       text not null default 'ok' check (quality in ('ok', 'out_of_range')),
  asset_id      text,
  uplink_id     text,
  primary key (dev_eui, metric, channel, time)
);
create index readings_asset_metric_time on readings (asset_id, metric, time desc) where asset_id is not null;

-- Latest value per device, metric and channel, for live queries; never regresses in time.
create table latest_readings (
  dev_eui       text not null,
  metric        text not null,
  channel       text not null default '',
  time          timestamptz not null,
  value         double precision not null,
  quality       text not null,
  asset_id      text,
  primary key (dev_eui, metric, channel)
);
create index latest_readings_asset on latest_readings (asset_id);

create table concentrators (
  gateway_id    text primary key check (gateway_id ~ '^[0-9a-f]{16}$'),
  band          text,
  name          text,
  latitude      double precision,
  longitude     double precision,
  last_seen_at  timestamptz,
  last_stats    jsonb,
  rx_received   bigint not null default 0,
  rx_forwarded  bigint not null default 0,
  created_at    timestamptz not null default now()
);

create table dead_letters (
  id            bigserial primary key,
  received_at   timestamptz not null default now(),
  topic         text not null,
  payload       bytea not null,
  reason        text not null,
  detail        text,
  dev_eui       text,
  -- sha-256 of topic and payload: a redelivered message does not add a second row
  message_hash  bytea not null unique
);
create index dead_letters_reason_time on dead_letters (reason, received_at desc);

create table api_keys (
  id            text primary key,
  name          text not null,
  role          text not null check (role in ('admin', 'technician', 'operator')),
  key_hash      bytea not null unique,
  created_at    timestamptz not null default now(),
  revoked_at    timestamptz
);

create table audit_log (
  id            bigserial primary key,
  at            timestamptz not null default now(),
  actor         text not null,
  role          text,
  action        text not null,
  target        text,
  detail        jsonb,
  remote_addr   text
);
create index audit_log_at on audit_log (at desc);

-- Embedded broker only: QoS 1/2 messages on ingest topics are committed here before the
-- publisher gets its PUBACK, and removed once ingest has acknowledged them.
create table mqtt_inbox (
  id            uuid primary key,
  topic         text not null,
  payload       bytea not null,
  qos           smallint not null,
  received_at   timestamptz not null default now()
);
