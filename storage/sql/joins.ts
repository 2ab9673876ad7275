import type pg from 'pg';
import { REUSE_WRAPPED_DOWNLINK_ID } from './downlinks.js';
import { numberArray, textArray, timeArray } from './pg-array.js';

export interface OtaaDeviceRow {
  devEui: string;
  joinEui: string | null;
  /** Sealed AppKey; null for a device registered without one (ABP). */
  appKey: string | null;
  macVersion: string;
  /** The DevNonce asked about. */
  devNonce: number;
  /** The stored join with this DevNonce, if any: its request MIC and when it came. */
  usedMic: string | null;
  usedAt: Date | null;
  lastDevNonce: number | null;
  lastJoinNonce: number | null;
}

/** What the join-requests of one batch need to know, read in one round trip (selectOtaaDevices). */
export interface OtaaJoinContext {
  devices: OtaaDeviceRow[];
  /** The DevAddr candidates that a device uses now or was given by a join not yet proven. */
  devAddrsInUse: Set<string>;
}

/**
 * Registered devices behind join-requests, with what the DevNonce and JoinNonce rules
 * need: whether the request's DevNonce was used (and by which request), the highest
 * DevNonce and the last JoinNonce. Decommissioned devices are left out (unknown). In the
 * same statement, which of `devAddrCandidates` are taken: a join-accept waits for every
 * round trip of its batch. (With no device found there is no join to give a DevAddr.)
 */
export async function selectOtaaDevices(db: pg.Pool | pg.ClientBase, requests: { devEui: string; devNonce: number }[], devAddrCandidates: string[]): Promise<OtaaJoinContext> {
  if (requests.length === 0) return { devices: [], devAddrsInUse: new Set() };
  const { rows } = await db.query<OtaaDeviceRow & { inUse: string[] }>(
    `select d.dev_eui as "devEui", d.join_eui as "joinEui", d.app_key as "appKey", d.mac_version as "macVersion", r.dev_nonce as "devNonce",
            u.request_mic as "usedMic", u.received_at as "usedAt",
            (select max(j.dev_nonce) from otaa_joins j where j.dev_eui = d.dev_eui) as "lastDevNonce",
            (select max(j.join_nonce) from otaa_joins j where j.dev_eui = d.dev_eui) as "lastJoinNonce",
            (select coalesce(array_agg(a), '{}') from (
               select dev_addr as a from devices where dev_addr = any($3::text[])
               union select pending_dev_addr from devices where pending_dev_addr = any($3::text[])) taken) as "inUse"
     from unnest($1::text[], $2::int[]) as r(dev_eui, dev_nonce)
     join devices d on d.dev_eui = r.dev_eui and d.decommissioned_at is null
     left join otaa_joins u on u.dev_eui = r.dev_eui and u.dev_nonce = r.dev_nonce`,
    [textArray(requests.map((r) => r.devEui)), numberArray(requests.map((r) => r.devNonce)), textArray(devAddrCandidates)],
  );
  const devAddrsInUse = new Set<string>(rows[0]?.inUse ?? []);
  const devices = rows.map(({ inUse: _inUse, ...device }) => device);
  return { devices, devAddrsInUse };
}

export interface JoinRow {
  devEui: string;
  devNonce: number;
  joinNonce: number;
  requestMic: string;
  devAddr: string;
  receivedAt: Date;
  /** The new session's keys, sealed. */
  nwkSKeySealed: string;
  appSKeySealed: string;
}

export const joinKey = (j: { devEui: string; devNonce: number }): string => `${j.devEui}:${j.devNonce}`;

/** A join to claim, with the concentrator its join-accept goes to (null: none is recorded). */
export interface JoinClaimRow extends JoinRow {
  acceptGatewayId: string | null;
}

/**
 * Records accepted joins, gives each device the session of its newest one recorded here
 * as pending (the current session stays until an uplink proves the new one), and records
 * the join-accept of each join recorded here with an id from the downlink sequence: one
 * statement, one round trip (a join storm's batches are mostly joins). Returns the joins
 * this transaction recorded first, by `joinKey`, with their accept's downlink id: a
 * DevNonce or JoinNonce another worker (or an earlier delivery) recorded is skipped, that
 * join gets no accept here, and it is answered by whoever recorded it. Devices are
 * updated in key order.
 */
export async function claimJoins(db: pg.ClientBase, rows: JoinClaimRow[]): Promise<Map<string, number | null>> {
  if (rows.length === 0) return new Map();
  // Key order: concurrent batches lock device rows in the same order.
  rows = [...rows].sort((a, b) => (a.devEui < b.devEui ? -1 : a.devEui > b.devEui ? 1 : a.devNonce - b.devNonce));
  const result = await db.query<{ dev_eui: string; dev_nonce: number; downlink_id: number | null }>(
    `with input as (
       select * from unnest($1::text[], $2::int[], $3::int[], $4::text[], $5::text[], $6::timestamptz[], $7::text[], $8::text[], $9::text[])
         as v(dev_eui, dev_nonce, join_nonce, request_mic, dev_addr, received_at, nwk, app, gateway_id)),
     claimed as (
       insert into otaa_joins (dev_eui, dev_nonce, join_nonce, request_mic, dev_addr, received_at)
       select dev_eui, dev_nonce, join_nonce, request_mic, dev_addr, received_at from input
       on conflict do nothing
       returning dev_eui, dev_nonce),
     newest as (
       select distinct on (i.dev_eui) i.* from input i join claimed c using (dev_eui, dev_nonce)
       order by i.dev_eui, i.join_nonce desc),
     pending as (
       update devices d set pending_dev_addr = n.dev_addr, pending_nwk_s_key = n.nwk, pending_app_s_key = n.app,
         pending_since = n.received_at, updated_at = now()
       from newest n where d.dev_eui = n.dev_eui),
     -- A CTE with nextval() is evaluated once: each accept keeps the id it is recorded with.
     accepts as (
       select i.dev_eui, i.dev_nonce, i.gateway_id, nextval('downlink_id_seq') as id
       from input i join claimed c using (dev_eui, dev_nonce) where i.gateway_id is not null),
     recorded as (
       insert into downlinks (id, dev_eui, kind, gateway_id)
       select id, dev_eui, 'join_accept', gateway_id from accepts
       ${REUSE_WRAPPED_DOWNLINK_ID})
     select c.dev_eui, c.dev_nonce, a.id as downlink_id from claimed c left join accepts a using (dev_eui, dev_nonce)`,
    [
      textArray(rows.map((r) => r.devEui)), numberArray(rows.map((r) => r.devNonce)), numberArray(rows.map((r) => r.joinNonce)),
      textArray(rows.map((r) => r.requestMic)), textArray(rows.map((r) => r.devAddr)), timeArray(rows.map((r) => r.receivedAt)),
      textArray(rows.map((r) => r.nwkSKeySealed)), textArray(rows.map((r) => r.appSKeySealed)), textArray(rows.map((r) => r.acceptGatewayId)),
    ],
  );
  return new Map(result.rows.map((r) => [joinKey({ devEui: r.dev_eui, devNonce: r.dev_nonce }), r.downlink_id]));
}

export interface SessionPromotionRow {
  devEui: string;
  /** The pending NwkSKey the uplink verified with (sealed): the promotion applies only if it is still the pending one. */
  pendingNwkSKeySealed: string;
}

/**
 * An uplink verified with a device's pending session: it becomes the current session,
 * its counters start afresh (the uplink's counter is written by updateDeviceProgress as a
 * reset) and the old session is gone. In key order.
 */
export async function promoteSessions(db: pg.ClientBase, rows: SessionPromotionRow[]): Promise<void> {
  if (rows.length === 0) return;
  const sorted = [...rows].sort((a, b) => (a.devEui < b.devEui ? -1 : 1));
  await db.query(
    `update devices d set dev_addr = d.pending_dev_addr, nwk_s_key = d.pending_nwk_s_key, app_s_key = d.pending_app_s_key,
       f_cnt_up = null, f_cnt_down = null, pending_dev_addr = null, pending_nwk_s_key = null, pending_app_s_key = null,
       pending_since = null, updated_at = now()
     from unnest($1::text[], $2::text[]) as v(dev_eui, pending_key)
     where d.dev_eui = v.dev_eui and d.pending_nwk_s_key = v.pending_key`,
    [textArray(sorted.map((r) => r.devEui)), textArray(sorted.map((r) => r.pendingNwkSKeySealed))],
  );
}
