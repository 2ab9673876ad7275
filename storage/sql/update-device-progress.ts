import type pg from 'pg';
import { boolArray, numberArray, textArray } from './pg-array.js';

export interface DeviceProgressRow {
  devEui: string;
  /** Raw frames: last accepted 32-bit uplink counter. */
  fCnt: number;
  /** The counter went down on a device allowed to reset: store it even though it is lower. */
  reset: boolean;
}

/**
 * Raw frames: one update per device per batch moving the frame counter forward (or back
 * after an allowed reset), in the uplinks' transaction. Rows must be unique per device.
 * (Last seen lives in latest_state: see upsertLatestState.)
 */
export async function updateDeviceProgress(db: pg.ClientBase, rows: DeviceProgressRow[]): Promise<void> {
  if (rows.length === 0) return;
  // Sorted: concurrent writers lock device rows in the same order and cannot deadlock.
  rows = [...rows].sort((a, b) => (a.devEui < b.devEui ? -1 : a.devEui > b.devEui ? 1 : 0));
  await db.query(
    `update devices d set
       f_cnt_up = case when v.reset then v.f_cnt else greatest(coalesce(d.f_cnt_up, -1), v.f_cnt) end
     from unnest($1::text[], $2::int8[], $3::bool[]) as v(dev_eui, f_cnt, reset)
     where d.dev_eui = v.dev_eui`,
    [textArray(rows.map((r) => r.devEui)), numberArray(rows.map((r) => r.fCnt)), boolArray(rows.map((r) => r.reset))],
  );
}
