-- The ops cockpit's pictures over the last 24 hours (issue 25). Ingest adds its totals
-- once a minute (ingest/ops-history.ts), not once per batch: one row per minute, and one
-- per concentrator and minute. Several ingest workers add to the same rows. Rows older
-- than a week are deleted by the workers themselves; the tables stay a few MB.
create table ingest_minutes (
  minute             timestamptz primary key,
  messages           bigint not null default 0,
  uplinks            bigint not null default 0,
  readings           bigint not null default 0,
  dead_letters       bigint not null default 0,
  batches            integer not null default 0,
  -- commit time of the batches in this minute, seconds
  batch_seconds_sum  double precision not null default 0,
  batch_seconds_max  double precision not null default 0
);

-- Per gateway/concentrator and minute: uplinks heard and their signal (sums, so that
-- several workers' rows add up; the average is sum / count).
create table concentrator_minutes (
  gateway_id    text not null,
  minute        timestamptz not null,
  uplinks       integer not null default 0,
  rssi_sum      double precision not null default 0,
  rssi_count    integer not null default 0,
  snr_sum       double precision not null default 0,
  snr_count     integer not null default 0,
  primary key (gateway_id, minute)
);
create index concentrator_minutes_minute on concentrator_minutes (minute);

-- Dead letters per hour of the last day, read by time alone.
create index if not exists dead_letters_received_at on dead_letters (received_at);

-- Low-battery thresholds per device model: a 3.6 V lithium cell and two AA cells are low
-- at different voltages. Null: voltage is not judged, level below 20 %.
alter table device_models
  add column battery_low_volts double precision check (battery_low_volts > 0),
  add column battery_low_percent double precision check (battery_low_percent between 0 and 100);
