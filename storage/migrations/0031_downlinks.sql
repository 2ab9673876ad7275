-- Downlinks (issue 23): what stadtfunk sends to devices, and the application queue.

-- Last used 32-bit downlink frame counter of the current session (LoRaWAN 1.0.x has one
-- FCntDown for MAC commands and application data; 1.1 splits it into NFCntDown and
-- AFCntDown). Null: no downlink in this session yet. Moved in the uplink's transaction,
-- guarded by its old value, so two workers never send one counter twice.
alter table devices add column f_cnt_down bigint check (f_cnt_down between 0 and 4294967295);
-- When the device was last asked for battery and margin (DevStatusReq).
alter table devices add column dev_status_requested_at timestamptz;
-- How a downlink reaches the device: learnt from where its uplinks come from (ingest
-- writes it only when it changes). For chirpstack / tts, the network server's MQTT
-- downlink topic, made from the uplink topic's application (and tenant, device id).
alter table devices add column downlink_route text check (downlink_route in ('concentrator', 'chirpstack', 'tts'));
alter table devices add column downlink_topic text;

-- gw.DownlinkFrame.downlink_id is a uint32: one counter for all downlinks, wrapping.
create sequence downlink_id_seq as bigint minvalue 1 maxvalue 4294967295 cycle;

-- One row per gw.DownlinkFrame published to a concentrator (join-accepts, data
-- downlinks), with what the gateway bridge answered on event/ack.
create table downlinks (
  id            bigint primary key default nextval('downlink_id_seq'),
  dev_eui       text not null,
  kind          text not null check (kind in ('join_accept', 'data')),
  gateway_id    text not null,
  f_cnt_down    bigint,
  f_port        integer,
  -- the application downlink it carries, if any
  queue_id      bigint,
  confirmed     boolean not null default false,
  ack           boolean not null default false,
  mac_commands  text[] not null default '{}',
  created_at    timestamptz not null default now(),
  -- null: no event/ack yet; then OK or the bridge's TxAckStatus, or NO_ACK when none came in time (lost)
  tx_status     text,
  tx_window     text check (tx_window in ('rx1', 'rx2')),
  tx_acked_at   timestamptz
);
create index downlinks_dev_eui on downlinks (dev_eui, created_at desc);
create index downlinks_waiting on downlinks (created_at) where tx_status is null;

-- Application downlinks an operator queued, per device (class A: sent in the receive
-- windows after the device's next uplink; for devices behind ChirpStack or The Things
-- Stack, handed to their downlink queue at once).
create table downlink_queue (
  id            bigserial primary key,
  dev_eui       text not null references devices (dev_eui),
  f_port        integer not null check (f_port between 1 and 223),
  payload       bytea not null,
  confirmed     boolean not null default false,
  -- what was asked for when the payload was encoded from an object (TS013 encodeDownlink)
  object        jsonb,
  -- concentrator: stadtfunk sends it; chirpstack / tts: their MQTT downlink topic
  route         text not null check (route in ('concentrator', 'chirpstack', 'tts')),
  -- the network server's topic for chirpstack / tts routes
  route_topic   text,
  state         text not null default 'queued' check (state in ('queued', 'sent', 'acknowledged', 'failed')),
  attempts      integer not null default 0,
  f_cnt_down    bigint,
  downlink_id   bigint,
  tx_status     text,
  error         text,
  requested_by  text,
  created_at    timestamptz not null default now(),
  sent_at       timestamptz,
  acknowledged_at timestamptz,
  updated_at    timestamptz not null default now()
);
create index downlink_queue_device on downlink_queue (dev_eui, id desc);
-- Small: only what is still to send or to confirm. Ingest looks at it for every device in every batch.
create index downlink_queue_open on downlink_queue (dev_eui, id) where state in ('queued', 'sent');
