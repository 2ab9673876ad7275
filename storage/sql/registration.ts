/**
 * A technician's registration: a new asset and the device mounted on it, written in one
 * transaction by the caller. Both statements insert only: a row that exists already is
 * left as it is and reported (false), so two technicians racing for one lamp number or
 * one DevEUI cannot overwrite each other, and the caller rolls the whole registration back.
 */
import type pg from 'pg';
import type { AssetInput, DeviceInput } from './registry.js';

/** Inserts the asset unless its id exists; true when it was inserted. */
export async function insertNewAsset(db: pg.ClientBase, a: AssetInput): Promise<boolean> {
  const { rowCount } = await db.query(
    `insert into assets (id, kind, name, latitude, longitude, zone, is_public, capacity, attributes, notes)
     values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
     on conflict (id) do nothing`,
    [a.id, a.kind, a.name ?? null, a.latitude ?? null, a.longitude ?? null, a.zone ?? null, a.isPublic ?? false,
     a.capacity ?? null, JSON.stringify(a.attributes ?? {}), a.notes ?? null],
  );
  return rowCount === 1;
}

/** Inserts the device and its mount unless the DevEUI exists; true when it was inserted. */
export async function insertNewDevice(db: pg.ClientBase, d: DeviceInput): Promise<boolean> {
  const { rows } = await db.query<{ n: number }>(
    `with d as (
       insert into devices (dev_eui, model_id, asset_id, name, join_eui, dev_addr, nwk_s_key, app_s_key, allow_counter_reset, expected_interval_s, app_key, mac_version)
       values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, coalesce($12, '1.0.3'))
       on conflict (dev_eui) do nothing
       returning dev_eui, asset_id),
     m as (insert into device_mounts (dev_eui, asset_id) select dev_eui, asset_id from d where asset_id is not null)
     select count(*)::int as n from d`,
    [d.devEui.toLowerCase(), d.modelId, d.assetId ?? null, d.name ?? null, d.joinEui?.toLowerCase() ?? null,
     d.devAddr?.toLowerCase() ?? null, d.nwkSKeySealed ?? null, d.appSKeySealed ?? null, d.allowCounterReset ?? false,
     d.expectedIntervalS ?? null, d.appKeySealed ?? null, d.macVersion ?? null],
  );
  return rows[0]?.n === 1;
}
