/**
 * Downlinks on the raw-frame path: the counters they use, the gw.DownlinkFrames published
 * (`downlinks`), what the gateway bridges answered, and what that means for the
 * application queue (`downlink_queue`, see downlink-queue.ts for the API's side).
 */
import type pg from 'pg';
import { boolArray, numberArray, textArray, timeArray } from './pg-array.js';

export interface DownlinkCounterRow {
  devEui: string;
  /** The counter stored now (null: no downlink in this session yet). */
  previous: number | null;
  next: number;
}

export interface DownlinkRecordRow {
  id: number;
  devEui: string;
  kind: 'join_accept' | 'data';
  gatewayId: string;
  fCntDown: number | null;
  fPort: number | null;
  queueId: number | null;
  confirmed: boolean;
  ack: boolean;
  macCommands: string[];
}

/**
 * The tail of every insert into `downlinks`. downlink_id_seq cycles through the uint32 ids
 * of gw.DownlinkFrame (migration 0031): after 2^32 downlinks an id is given out again, and
 * the row that had it, long settled, becomes the new downlink's (every column from the
 * insert, defaults for those it leaves out, no answer yet) instead of failing the batch.
 */
export const REUSE_WRAPPED_DOWNLINK_ID = `on conflict (id) do update set dev_eui = excluded.dev_eui, kind = excluded.kind, gateway_id = excluded.gateway_id,
       f_cnt_down = excluded.f_cnt_down, f_port = excluded.f_port, queue_id = excluded.queue_id, confirmed = excluded.confirmed,
       ack = excluded.ack, mac_commands = excluded.mac_commands, created_at = now(), tx_status = null, tx_window = null, tx_acked_at = null`;

export interface DataDownlinkRow extends Omit<DownlinkRecordRow, 'id' | 'kind' | 'fCntDown'> {
  /** FCntDown moves from `previous` to `next`, the downlink's; it goes only if it moves. */
  counter: DownlinkCounterRow;
  /** It carries a DevStatusReq: the device's request time moves. */
  devStatusReq: boolean;
}

/**
 * Records data downlinks on the raw-frame path in one statement (one round trip: the
 * downlink waits for every one of its transaction, issue 23): each device's FCntDown
 * moves from `previous` to `next`, guarded by its old value; a device whose counter
 * another worker moved meanwhile is left out (its downlink is not sent, its queued item
 * waits for the next uplink). For those that moved: an id from downlink_id_seq, the
 * `downlinks` row, the application downlink it carries marked sent (one attempt more,
 * waiting for the bridge's ack), and a DevStatusReq's time. Devices in key order.
 * Returns the ids by the rows' positions; a row left out has none.
 */
export async function recordDataDownlinks(db: pg.ClientBase, rows: DataDownlinkRow[]): Promise<Map<number, number>> {
  if (rows.length === 0) return new Map();
  const order = rows.map((_, i) => i).sort((a, b) => (rows[a]!.devEui < rows[b]!.devEui ? -1 : rows[a]!.devEui > rows[b]!.devEui ? 1 : 0));
  const sorted = order.map((i) => rows[i]!);
  const result = await db.query<{ n: string; id: string }>(
    `with input as (
       select * from unnest($1::text[], $2::int8[], $3::int8[], $4::text[], $5::int[], $6::int8[], $7::bool[], $8::bool[], $9::text[], $10::bool[])
         with ordinality as v(dev_eui, previous, next, gateway_id, f_port, queue_id, confirmed, ack, macs, dev_status_req, n)),
     moved as (
       update devices d set f_cnt_down = i.next,
         dev_status_requested_at = case when i.dev_status_req then now() else d.dev_status_requested_at end
       from input i where d.dev_eui = i.dev_eui and d.f_cnt_down is not distinct from i.previous
       returning d.dev_eui, d.f_cnt_down),
     -- A CTE with nextval() is evaluated once: each downlink keeps the id it is recorded with.
     going as (
       select i.*, nextval('downlink_id_seq') as id from input i join moved m on m.dev_eui = i.dev_eui and m.f_cnt_down = i.next),
     recorded as (
       insert into downlinks (id, dev_eui, kind, gateway_id, f_cnt_down, f_port, queue_id, confirmed, ack, mac_commands)
       select id, dev_eui, 'data', gateway_id, next, f_port, queue_id, confirmed, ack, coalesce(string_to_array(nullif(macs, ''), ','), '{}') from going
       ${REUSE_WRAPPED_DOWNLINK_ID}),
     sent as (
       update downlink_queue q set state = 'sent', attempts = q.attempts + 1, downlink_id = g.id, f_cnt_down = g.next,
         tx_status = null, sent_at = now(), updated_at = now()
       from going g where q.id = g.queue_id and q.state = 'queued')
     select n, id from going`,
    [
      textArray(sorted.map((r) => r.devEui)), numberArray(sorted.map((r) => r.counter.previous)), numberArray(sorted.map((r) => r.counter.next)),
      textArray(sorted.map((r) => r.gatewayId)), numberArray(sorted.map((r) => r.fPort)), numberArray(sorted.map((r) => r.queueId)),
      boolArray(sorted.map((r) => r.confirmed)), boolArray(sorted.map((r) => r.ack)), textArray(sorted.map((r) => r.macCommands.join(','))),
      boolArray(sorted.map((r) => r.devStatusReq)),
    ],
  );
  return new Map(result.rows.map((r) => [order[Number(r.n) - 1]!, Number(r.id)]));
}

export interface TxAckRow {
  gatewayId: string;
  downlinkId: number;
  /** OK, or the first failure when no item went out (TxAckStatus name). */
  status: string;
  window: 'rx1' | 'rx2' | null;
}

/**
 * What the gateway bridges answered (event/ack). Only a downlink still waiting takes an
 * answer (a repeated ack changes nothing). An application downlink that went out stays
 * `sent` (a confirmed one now waits for the device's ACK); one that did not goes back to
 * the queue, or fails once it had `maxAttempts` transmissions.
 */
export async function applyTxAcks(db: pg.ClientBase, rows: TxAckRow[], maxAttempts: number): Promise<void> {
  if (rows.length === 0) return;
  await db.query(
    `with acked as (
       update downlinks d set tx_status = v.status, tx_window = v.win, tx_acked_at = now()
       from unnest($1::text[], $2::int8[], $3::text[], $4::text[]) as v(gateway_id, id, status, win)
       where d.id = v.id and d.gateway_id = v.gateway_id and d.tx_status is null
       returning d.id, d.queue_id, v.status)
     update downlink_queue q set tx_status = a.status, updated_at = now(),
       state = case when a.status = 'OK' then q.state when q.attempts >= $5 then 'failed' else 'queued' end,
       error = case when a.status <> 'OK' and q.attempts >= $5 then 'gateway did not send it: ' || a.status else q.error end
     from acked a where q.id = a.queue_id and q.downlink_id = a.id and q.state = 'sent'`,
    [textArray(rows.map((r) => r.gatewayId)), numberArray(rows.map((r) => r.downlinkId)), textArray(rows.map((r) => r.status)), textArray(rows.map((r) => r.window)), maxAttempts],
  );
}

/**
 * Downlinks without an answer after `timeoutMs` are lost (NO_ACK): their application
 * downlink goes back to the queue, or fails after `maxAttempts`. Returns how many were lost.
 */
export async function expireDownlinks(db: pg.Pool | pg.ClientBase, timeoutMs: number, maxAttempts: number): Promise<number> {
  const { rows } = await db.query<{ lost: number }>(
    `with lost as (
       update downlinks d set tx_status = 'NO_ACK', tx_acked_at = now()
       where d.tx_status is null and d.created_at < now() - make_interval(secs => $1::float8 / 1000)
       returning d.id, d.queue_id),
     requeued as (
       update downlink_queue q set tx_status = 'NO_ACK', updated_at = now(),
         state = case when q.attempts >= $2 then 'failed' else 'queued' end,
         error = case when q.attempts >= $2 then 'no answer from the gateway bridge (lost)' else q.error end
       from lost l where q.id = l.queue_id and q.downlink_id = l.id and q.state = 'sent'
       returning q.id)
     select (select count(*) from lost)::int as lost`,
    [timeoutMs, maxAttempts],
  );
  return rows[0]?.lost ?? 0;
}

export interface DeviceAckRow {
  devEui: string;
  /** The uplink's ACK bit. */
  ack: boolean;
  /** The uplink's time: only confirmed downlinks sent before it are settled by it. */
  at: Date;
}

/**
 * A device's uplink settles its confirmed downlink that went out: with the ACK bit it is
 * acknowledged, without it goes back to the queue (or fails after `maxAttempts`).
 */
export async function applyDeviceAcks(db: pg.ClientBase, rows: DeviceAckRow[], maxAttempts: number): Promise<void> {
  if (rows.length === 0) return;
  await db.query(
    `update downlink_queue q set updated_at = now(),
       state = case when v.ack then 'acknowledged' when q.attempts >= $4 then 'failed' else 'queued' end,
       acknowledged_at = case when v.ack then v.at else null end,
       error = case when not v.ack and q.attempts >= $4 then 'the device did not acknowledge it' else q.error end
     from unnest($1::text[], $2::bool[], $3::timestamptz[]) as v(dev_eui, ack, at)
     where q.dev_eui = v.dev_eui and q.state = 'sent' and q.confirmed and q.tx_status = 'OK' and q.sent_at < v.at`,
    [textArray(rows.map((r) => r.devEui)), boolArray(rows.map((r) => r.ack)), timeArray(rows.map((r) => r.at)), maxAttempts],
  );
}
