import type pg from 'pg';
import { textArray, timeArray } from './pg-array.js';
import { pgJson } from './pg-text.js';

export interface AbpCandidateRow {
  devEui: string;
  devAddr: string;
  nwkSKey: string | null;
  appSKey: string | null;
  fCntUp: number | null;
  allowCounterReset: boolean;
  /** The session of a join not yet proven by an uplink (its keys are the pending_* columns). */
  pending: boolean;
  /** Last used downlink counter of the current session; null before the first downlink (always null for a pending session). */
  fCntDown: number | null;
  /** The device has application downlinks queued or waiting for its ACK. */
  openDownlinks: boolean;
  /** A DevStatusReq is due (never asked, or asked longer ago than the interval). */
  devStatusDue: boolean;
  /** The next application downlink on the concentrator route, when none is in flight (QUEUE_HEAD below); else null. */
  queueId: number | null;
  queueFPort: number | null;
  queuePayload: Buffer | null;
  queueConfirmed: boolean | null;
}

/**
 * A device's next application downlink on the concentrator route that has none in flight
 * (published and not answered, or confirmed and not yet acknowledged): read with the
 * device's session, so that an uplink's answer waits for no round trip of its own.
 */
const QUEUE_HEAD = `left join lateral (
       select q.id, q.f_port, q.payload, q.confirmed from downlink_queue q
       where q.dev_eui = d.dev_eui and q.state = 'queued' and q.route = 'concentrator'
         and not exists (select 1 from downlink_queue s where s.dev_eui = q.dev_eui and s.state = 'sent' and s.route = 'concentrator'
                         and (s.tx_status is null or s.confirmed))
       order by q.id limit 1) h on true`;

/**
 * Sessions under the given DevAddrs (several devices may share one), sealed keys included:
 * each device's current session and, after a join, its pending one.
 * @param devStatusIntervalS DevStatusReq interval; null never marks one due.
 */
export async function selectAbpCandidates(db: pg.Pool | pg.ClientBase, devAddrs: string[], devStatusIntervalS: number | null = null): Promise<AbpCandidateRow[]> {
  if (devAddrs.length === 0) return [];
  const { rows } = await db.query<AbpCandidateRow>(
    `select dev_eui as "devEui", dev_addr as "devAddr", nwk_s_key as "nwkSKey", app_s_key as "appSKey",
            f_cnt_up as "fCntUp", allow_counter_reset as "allowCounterReset", false as pending, f_cnt_down as "fCntDown",
            exists (select 1 from downlink_queue q where q.dev_eui = d.dev_eui and q.state in ('queued', 'sent')) as "openDownlinks",
            $2::int is not null and coalesce(dev_status_requested_at, created_at) < now() - make_interval(secs => $2::int) as "devStatusDue",
            h.id as "queueId", h.f_port as "queueFPort", h.payload as "queuePayload", h.confirmed as "queueConfirmed"
     from devices d ${QUEUE_HEAD}
     where dev_addr = any($1::text[]) and decommissioned_at is null and nwk_s_key is not null
     union all
     select dev_eui, pending_dev_addr, pending_nwk_s_key, pending_app_s_key, null, false, true, null,
            exists (select 1 from downlink_queue q where q.dev_eui = d.dev_eui and q.state in ('queued', 'sent')),
            false, h.id, h.f_port, h.payload, h.confirmed
     from devices d ${QUEUE_HEAD}
     where pending_dev_addr = any($1::text[]) and decommissioned_at is null`,
    [textArray(devAddrs), devStatusIntervalS],
  );
  return rows;
}

export interface FrameIdRow {
  id: string;
  devEui: string;
  receivedAt: Date;
}

/** Claims frame identities; returns those this transaction claimed first. */
export async function claimFrameIds(db: pg.ClientBase, rows: FrameIdRow[]): Promise<Set<string>> {
  if (rows.length === 0) return new Set();
  const result = await db.query<{ id: string }>(
    `insert into frame_ids (id, dev_eui, received_at)
     select * from unnest($1::text[], $2::text[], $3::timestamptz[])
     on conflict do nothing
     returning id`,
    // Array literals built in one pass (pg-array.ts): node-pg writes each Date as local-time text.
    [textArray(rows.map((r) => r.id)), textArray(rows.map((r) => r.devEui)), timeArray(rows.map((r) => r.receivedAt))],
  );
  return new Set(result.rows.map((r) => r.id));
}

export interface CounterRow {
  devEui: string;
  fCnt: number;
  /** The counter went down on a device allowed to reset: store it even though it is lower. */
  reset: boolean;
}

export interface ReceptionMergeRow {
  uplinkId: string;
  /** JSON array of receptions to add to the stored uplink's radio.receptions. */
  receptions: unknown[];
}

/** What became of the receptions offered to mergeReceptions. */
export interface MergeOutcome {
  /** Receptions added to their uplink. */
  added: number;
  /** Receptions whose gateway the stored uplink already has: nothing to add. */
  gatewayPresent: number;
  /** Receptions of uplinks not stored (any more): nothing to add them to. */
  uplinkMissing: number;
}

/**
 * Adds receptions that arrived late (or on another worker) to the stored uplink, skipping
 * gateways it already has (and repeats among the new ones); says how many were added and
 * why the others were not. The uplinks are locked first (FOR UPDATE reads the newest
 * version), so two workers merging into one uplink add each gateway once.
 */
export async function mergeReceptions(db: pg.ClientBase, rows: ReceptionMergeRow[]): Promise<MergeOutcome> {
  const outcome: MergeOutcome = { added: 0, gatewayPresent: 0, uplinkMissing: 0 };
  if (rows.length === 0) return outcome;
  // UPDATE … FROM applies one source row per target row: gather all receptions of an uplink first.
  const byUplink = new Map<string, unknown[]>();
  for (const row of rows) byUplink.set(row.uplinkId, [...(byUplink.get(row.uplinkId) ?? []), ...row.receptions]);
  const ids = [...byUplink.keys()];
  const result = await db.query<{ id: string; added: number }>(
    `with m as (select * from unnest($1::text[], $2::jsonb[]) as m(uplink_id, receptions)),
     target as (
       select u.id, u.received_at,
              coalesce((select jsonb_agg(r) from (
                select distinct on (r->>'gatewayId') r from jsonb_array_elements(m.receptions) with ordinality as x(r, n)
                where not exists (select 1 from jsonb_array_elements(coalesce(u.radio->'receptions', '[]'::jsonb)) e
                                  where e->>'gatewayId' = r->>'gatewayId')
                order by r->>'gatewayId', n) new), '[]'::jsonb) as receptions
       from uplinks u join m on u.id = m.uplink_id
       for update of u
     ),
     updated as (
       update uplinks u set radio = jsonb_set(u.radio, '{receptions}', coalesce(u.radio->'receptions', '[]'::jsonb) || t.receptions)
       from target t
       where u.id = t.id and u.received_at = t.received_at and jsonb_array_length(t.receptions) > 0
     )
     select id, jsonb_array_length(receptions)::int as added from target`,
    [ids, ids.map((id) => pgJson(byUplink.get(id)!.map((x) => ({ ...(x as object), best: false }))))],
  );
  const added = new Map(result.rows.map((r) => [r.id, r.added]));
  for (const [id, receptions] of byUplink) {
    const n = added.get(id);
    if (n === undefined) outcome.uplinkMissing += receptions.length;
    else {
      outcome.added += n;
      outcome.gatewayPresent += receptions.length - n;
    }
  }
  return outcome;
}

export interface ConcentratorStatsRow {
  gatewayId: string;
  band: string | null;
  seenAt: Date;
  stats: Record<string, unknown>;
  latitude: number | null;
  longitude: number | null;
  rxReceived: number;
  rxForwarded: number;
}

/**
 * One row per concentrator, in gateway-id order: the newest report (the later one of equal
 * time), with the position of the newest report that has one and the first band known.
 * One statement may not update a row twice ("ON CONFLICT DO UPDATE command cannot affect
 * row a second time"): two reports of one concentrator in a batch (a redelivery, or a
 * concentrator reporting often under load) would fail the whole batch on every retry. Key
 * order keeps two batches in the database at once from deadlocking on these rows.
 */
export function newestStatsPerConcentrator(rows: ConcentratorStatsRow[]): ConcentratorStatsRow[] {
  const byGateway = new Map<string, ConcentratorStatsRow>();
  for (const row of rows) {
    const seen = byGateway.get(row.gatewayId);
    if (!seen) {
      byGateway.set(row.gatewayId, row);
      continue;
    }
    const [older, newer] = row.seenAt >= seen.seenAt ? [seen, row] : [row, seen];
    const placed = newer.latitude !== null ? newer : older;
    byGateway.set(row.gatewayId, { ...newer, band: seen.band ?? row.band, latitude: placed.latitude, longitude: placed.longitude });
  }
  return [...byGateway.values()].sort((a, b) => (a.gatewayId < b.gatewayId ? -1 : a.gatewayId > b.gatewayId ? 1 : 0));
}

/** Records a concentrator's latest statistics (counts of its last reporting interval); repeating a report changes nothing. */
export async function upsertConcentratorStats(db: pg.ClientBase, reports: ConcentratorStatsRow[]): Promise<void> {
  if (reports.length === 0) return;
  const rows = newestStatsPerConcentrator(reports);
  await db.query(
    `insert into concentrators as c (gateway_id, band, last_seen_at, last_stats, latitude, longitude, rx_received, rx_forwarded)
     select * from unnest($1::text[], $2::text[], $3::timestamptz[], $4::jsonb[], $5::float8[], $6::float8[], $7::int8[], $8::int8[])
     on conflict (gateway_id) do update set
       band = coalesce(c.band, excluded.band),
       last_seen_at = greatest(c.last_seen_at, excluded.last_seen_at),
       last_stats = case when c.last_seen_at is null or excluded.last_seen_at >= c.last_seen_at then excluded.last_stats else c.last_stats end,
       latitude = coalesce(excluded.latitude, c.latitude),
       longitude = coalesce(excluded.longitude, c.longitude),
       rx_received = case when c.last_seen_at is null or excluded.last_seen_at >= c.last_seen_at then excluded.rx_received else c.rx_received end,
       rx_forwarded = case when c.last_seen_at is null or excluded.last_seen_at >= c.last_seen_at then excluded.rx_forwarded else c.rx_forwarded end`,
    [
      rows.map((r) => r.gatewayId), rows.map((r) => r.band), rows.map((r) => r.seenAt), rows.map((r) => pgJson(r.stats)),
      rows.map((r) => r.latitude), rows.map((r) => r.longitude), rows.map((r) => r.rxReceived), rows.map((r) => r.rxForwarded),
    ],
  );
}
