import type pg from 'pg';
import { boolArray, numberArray, textArray, timeArray } from './pg-array.js';

export interface DeviceProgressRow {
  devEui: string;
  /** Newest uplink time of the batch; null when only the counter moves. */
  lastSeenAt: Date | null;
  /** Raw frames: last accepted 32-bit uplink counter; null for other sources. */
  fCnt: number | null;
  /** The counter went down on a device allowed to reset: store it even though it is lower. */
  reset: boolean;
}

/**
 * One update per device per batch: last-seen moves forward only, the frame counter
 * forward only (or back after an allowed reset). Rows must be unique per device.
 */
export async function updateDeviceProgress(db: pg.ClientBase, rows: DeviceProgressRow[]): Promise<void> {
  if (rows.length === 0) return;
  // Sorted: concurrent writers lock device rows in the same order and cannot deadlock.
  rows = [...rows].sort((a, b) => (a.devEui < b.devEui ? -1 : a.devEui > b.devEui ? 1 : 0));
  await db.query(
    `update devices d set
       last_seen_at = case when v.seen is not null and (d.last_seen_at is null or d.last_seen_at < v.seen) then v.seen else d.last_seen_at end,
       f_cnt_up = case when v.f_cnt is null then d.f_cnt_up when v.reset then v.f_cnt else greatest(coalesce(d.f_cnt_up, -1), v.f_cnt) end
     from unnest($1::text[], $2::timestamptz[], $3::int8[], $4::bool[]) as v(dev_eui, seen, f_cnt, reset)
     where d.dev_eui = v.dev_eui`,
    [textArray(rows.map((r) => r.devEui)), timeArray(rows.map((r) => r.lastSeenAt)), numberArray(rows.map((r) => r.fCnt)), boolArray(rows.map((r) => r.reset))],
  );
}
