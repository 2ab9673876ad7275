/** The application downlink queue as the API and the network-server dispatcher use it. */
import type pg from 'pg';
import { textArray } from './pg-array.js';

type Db = pg.Pool | pg.ClientBase;

export type DownlinkRoute = 'concentrator' | 'chirpstack' | 'tts';

export interface DownlinkRouteRow {
  devEui: string;
  route: DownlinkRoute;
  /** The network server's downlink topic; null for the concentrator route. */
  topic: string | null;
}

/** Records how devices are reached now (ingest calls it only when it changed). In key order. */
export async function updateDownlinkRoutes(db: pg.ClientBase, rows: DownlinkRouteRow[]): Promise<void> {
  if (rows.length === 0) return;
  const newest = new Map(rows.map((r) => [r.devEui, r]));
  const sorted = [...newest.values()].sort((a, b) => (a.devEui < b.devEui ? -1 : 1));
  await db.query(
    `update devices d set downlink_route = v.route, downlink_topic = v.topic
     from unnest($1::text[], $2::text[], $3::text[]) as v(dev_eui, route, topic)
     where d.dev_eui = v.dev_eui and (d.downlink_route is distinct from v.route or d.downlink_topic is distinct from v.topic)`,
    [textArray(sorted.map((r) => r.devEui)), textArray(sorted.map((r) => r.route)), textArray(sorted.map((r) => r.topic))],
  );
}

export interface DownlinkTarget {
  devEui: string;
  modelId: string;
  assetId: string | null;
  decommissioned: boolean;
  /** Learnt from its uplinks; null before the first one. */
  route: DownlinkRoute | null;
  topic: string | null;
  /** The device has keys of its own on the raw-frame path (ABP session or AppKey). */
  hasSession: boolean;
  /** Spreading factor and bandwidth of its latest concentrator uplink, if any (for the size check). */
  lastSpreadingFactor: number | null;
  lastBandwidthHz: number | null;
  lastBand: string | null;
}

/** What the API needs to queue a downlink for a device. */
export async function selectDownlinkTarget(db: Db, devEui: string): Promise<DownlinkTarget | null> {
  const { rows } = await db.query<DownlinkTarget>(
    `select d.dev_eui as "devEui", d.model_id as "modelId", d.asset_id as "assetId", d.decommissioned_at is not null as decommissioned,
            d.downlink_route as route, d.downlink_topic as topic,
            (d.nwk_s_key is not null or d.app_key is not null) as "hasSession",
            (u.radio->>'spreadingFactor')::int as "lastSpreadingFactor", (u.radio->>'bandwidthHz')::int as "lastBandwidthHz", u.radio->>'band' as "lastBand"
     from devices d
     left join lateral (select radio from uplinks where dev_eui = d.dev_eui and source = 'concentrator' order by received_at desc limit 1) u on true
     where d.dev_eui = $1`,
    [devEui],
  );
  return rows[0] ?? null;
}

export interface QueueInsert {
  devEui: string;
  fPort: number;
  payload: Buffer;
  confirmed: boolean;
  object: Record<string, unknown> | null;
  route: DownlinkRoute;
  routeTopic: string | null;
  requestedBy: string;
}

export interface QueueItemRow {
  id: number;
  devEui: string;
  fPort: number;
  payload: Buffer;
  confirmed: boolean;
  object: Record<string, unknown> | null;
  route: DownlinkRoute;
  state: 'queued' | 'sent' | 'acknowledged' | 'failed';
  attempts: number;
  fCntDown: number | null;
  txStatus: string | null;
  error: string | null;
  requestedBy: string | null;
  createdAt: Date;
  sentAt: Date | null;
  acknowledgedAt: Date | null;
  updatedAt: Date;
}

const QUEUE_COLUMNS = `id, dev_eui as "devEui", f_port as "fPort", payload, confirmed, object, route, state, attempts,
  f_cnt_down as "fCntDown", tx_status as "txStatus", error, requested_by as "requestedBy", created_at as "createdAt",
  sent_at as "sentAt", acknowledged_at as "acknowledgedAt", updated_at as "updatedAt"`;

export async function insertQueueItems(db: Db, items: QueueInsert[]): Promise<QueueItemRow[]> {
  if (items.length === 0) return [];
  const { rows } = await db.query<QueueItemRow>(
    `insert into downlink_queue (dev_eui, f_port, payload, confirmed, object, route, route_topic, requested_by)
     select * from unnest($1::text[], $2::int[], $3::bytea[], $4::bool[], $5::jsonb[], $6::text[], $7::text[], $8::text[])
     returning ${QUEUE_COLUMNS}`,
    [
      items.map((i) => i.devEui), items.map((i) => i.fPort), items.map((i) => i.payload), items.map((i) => i.confirmed),
      items.map((i) => (i.object ? JSON.stringify(i.object) : null)), items.map((i) => i.route), items.map((i) => i.routeTopic), items.map((i) => i.requestedBy),
    ],
  );
  return rows;
}

/** A device's downlinks, newest first, keyset-paginated by id. */
export async function selectQueueItems(db: Db, devEui: string, beforeId: number | null, limit: number): Promise<QueueItemRow[]> {
  const { rows } = await db.query<QueueItemRow>(
    `select ${QUEUE_COLUMNS} from downlink_queue where dev_eui = $1 and ($2::bigint is null or id < $2) order by id desc limit $3`,
    [devEui, beforeId, limit],
  );
  return rows;
}

export async function selectQueueItem(db: Db, id: number): Promise<QueueItemRow | null> {
  const { rows } = await db.query<QueueItemRow>(`select ${QUEUE_COLUMNS} from downlink_queue where id = $1`, [id]);
  return rows[0] ?? null;
}

/** Recent downlinks of all devices (ops view), newest first. */
export async function selectRecentQueueItems(db: Db, limit: number): Promise<QueueItemRow[]> {
  const { rows } = await db.query<QueueItemRow>(`select ${QUEUE_COLUMNS} from downlink_queue order by id desc limit $1`, [limit]);
  return rows;
}

/** Takes a queued downlink back; false when it was no longer queued. */
export async function cancelQueueItem(db: Db, devEui: string, id: number): Promise<boolean> {
  const r = await db.query(
    `update downlink_queue set state = 'failed', error = 'cancelled', updated_at = now() where id = $1 and dev_eui = $2 and state = 'queued'`,
    [id, devEui],
  );
  return (r.rowCount ?? 0) > 0;
}

export interface NetworkServerItem {
  id: number;
  devEui: string;
  fPort: number;
  payload: Buffer;
  confirmed: boolean;
  route: 'chirpstack' | 'tts';
  topic: string;
}

/**
 * Claims queued downlinks of devices behind ChirpStack or The Things Stack (locked rows
 * are skipped, so several workers never take one twice) and marks them sent: the caller
 * publishes them after commit. A crash in between leaves them sent without a network
 * server report (tx_status null), visible as such.
 */
export async function claimNetworkServerItems(db: pg.ClientBase, limit: number): Promise<NetworkServerItem[]> {
  const { rows } = await db.query<NetworkServerItem>(
    `update downlink_queue q set state = 'sent', attempts = q.attempts + 1, sent_at = now(), updated_at = now()
     where q.id in (select id from downlink_queue where state = 'queued' and route <> 'concentrator' and route_topic is not null
                    order by id for update skip locked limit $1)
     returning q.id, q.dev_eui as "devEui", q.f_port as "fPort", q.payload, q.confirmed, q.route, q.route_topic as topic`,
    [limit],
  );
  return rows;
}

/** Claimed items that could not be handed over go back to the queue. */
export async function releaseQueueItems(db: Db, ids: number[]): Promise<void> {
  if (ids.length === 0) return;
  await db.query(`update downlink_queue set state = 'queued', updated_at = now() where id = any($1::int8[]) and state = 'sent' and tx_status is null`, [ids]);
}

export interface NetworkServerReport {
  queueId: number;
  /** txack: the gateway sent it; ack/nack: the device acknowledged a confirmed one or not; failed: the network server gave up. */
  event: 'txack' | 'ack' | 'nack' | 'failed';
  detail: string | null;
}

/** ChirpStack / The Things Stack reports about downlinks they took from us; the last report per item counts. */
export async function applyNetworkServerReports(db: pg.ClientBase, reports: NetworkServerReport[]): Promise<void> {
  if (reports.length === 0) return;
  const last = [...new Map(reports.map((r) => [r.queueId, r])).values()].sort((a, b) => a.queueId - b.queueId);
  await db.query(
    `update downlink_queue q set updated_at = now(),
       tx_status = case when v.event = 'txack' then 'OK' else q.tx_status end,
       state = case v.event when 'ack' then 'acknowledged' when 'nack' then 'failed' when 'failed' then 'failed' else q.state end,
       acknowledged_at = case when v.event = 'ack' then now() else q.acknowledged_at end,
       error = case when v.event in ('nack', 'failed') then v.detail else q.error end
     from unnest($1::int8[], $2::text[], $3::text[]) as v(id, event, detail)
     where q.id = v.id and q.route <> 'concentrator' and q.state = 'sent'`,
    [last.map((r) => r.queueId), last.map((r) => r.event), last.map((r) => r.detail)],
  );
}
