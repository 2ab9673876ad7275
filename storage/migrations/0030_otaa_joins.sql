-- OTAA joins (issue 23). devices.join_eui and devices.app_key (sealed with MASTER_KEY
-- like the session keys) exist since 0001.

-- The device's LoRaWAN version decides its DevNonce rule (1.0.0–1.0.3: never reused;
-- 1.0.4: strictly increasing).
alter table devices add column mac_version text not null default '1.0.3'
  check (mac_version in ('1.0.0', '1.0.1', '1.0.2', '1.0.3', '1.0.4'));

-- The session of the newest accepted join, kept beside the current one (dev_addr,
-- nwk_s_key, app_s_key) until an uplink verifies with it; then it replaces the current
-- one in that uplink's transaction. Keys sealed under the same names as the current
-- ones, so promoting them is a copy.
alter table devices add column pending_dev_addr text check (pending_dev_addr ~ '^[0-9a-f]{8}$');
alter table devices add column pending_nwk_s_key text;
alter table devices add column pending_app_s_key text;
alter table devices add column pending_since timestamptz;
create index devices_pending_dev_addr on devices (pending_dev_addr) where pending_dev_addr is not null;

-- Every accepted join. The primary key keeps a DevNonce from being answered twice (two
-- workers, a replay); the second key keeps a JoinNonce from being given twice. Rows stay:
-- they are the DevNonce history LoRaWAN 1.0.3 asks the network server to keep.
create table otaa_joins (
  dev_eui       text not null,
  dev_nonce     integer not null check (dev_nonce between 0 and 65535),
  join_nonce    integer not null check (join_nonce between 0 and 16777215),
  -- the join-request's MIC: a copy of the same request has the same one
  request_mic   text not null,
  dev_addr      text not null,
  received_at   timestamptz not null,
  primary key (dev_eui, dev_nonce),
  unique (dev_eui, join_nonce)
);
