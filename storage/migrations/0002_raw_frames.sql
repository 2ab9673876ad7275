-- Raw-frame layer (stadtfunk as network server for concentrators without one).
-- frame_ids enforces one uplink per radio frame across workers, independent of the time
-- each worker first saw a copy (the uplinks key must include time for hypertables).
create table frame_ids (
  id            text primary key,
  dev_eui       text not null,
  received_at   timestamptz not null
);
create index frame_ids_received_at on frame_ids (received_at);

-- Band label per concentrator (e.g. 450MHz, EU868), from configuration or registration.
alter table concentrators add column if not exists offline_after_s integer not null default 300;
