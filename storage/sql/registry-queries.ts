import type pg from 'pg';

type Db = pg.Pool | pg.ClientBase;

export interface AssetRow {
  id: string;
  kind: string;
  name: string | null;
  latitude: number | null;
  longitude: number | null;
  zone: string | null;
  isPublic: boolean;
  capacity: number | null;
  attributes: Record<string, unknown>;
  notes: string | null;
  decommissionedAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
}

const ASSET_COLUMNS = `id, kind, name, latitude, longitude, zone, is_public as "isPublic", capacity, attributes, notes,
  decommissioned_at as "decommissionedAt", created_at as "createdAt", updated_at as "updatedAt"`;

/** Named: every open-data series request looks its asset up first; planned once per connection. */
export async function selectAsset(db: Db, id: string): Promise<AssetRow | null> {
  const { rows } = await db.query<AssetRow>({ name: 'select-asset', text: `select ${ASSET_COLUMNS} from assets where id = $1`, values: [id] });
  return rows[0] ?? null;
}

export async function selectAssets(db: Db, q: { kind: string | null; zone: string | null; after: string | null; limit: number }): Promise<AssetRow[]> {
  const { rows } = await db.query<AssetRow>(
    `select ${ASSET_COLUMNS} from assets
     where ($1::text is null or kind = $1) and ($2::text is null or zone = $2) and ($3::text is null or id > $3)
     order by id limit $4`,
    [q.kind, q.zone, q.after, q.limit],
  );
  return rows;
}

export async function decommissionAsset(db: Db, id: string): Promise<boolean> {
  const r = await db.query('update assets set decommissioned_at = now(), updated_at = now() where id = $1 and decommissioned_at is null', [id]);
  return (r.rowCount ?? 0) > 0;
}

export interface DeviceModelRow {
  id: string;
  name: string;
  decoderKind: 'builtin' | 'codec';
  builtinName: string | null;
  codecScript: string | null;
  mapping: unknown[];
  examples: unknown[];
  expectedIntervalS: number | null;
  batteryLowVolts: number | null;
  batteryLowPercent: number | null;
  category: string | null;
  mappingNotes: unknown[];
  source: Record<string, unknown> | null;
}

const MODEL_COLUMNS = `id, name, decoder_kind as "decoderKind", builtin_name as "builtinName", codec_script as "codecScript",
  mapping, examples, expected_interval_s as "expectedIntervalS", battery_low_volts as "batteryLowVolts", battery_low_percent as "batteryLowPercent",
  category, mapping_notes as "mappingNotes", source`;

export async function selectDeviceModel(db: Db, id: string): Promise<DeviceModelRow | null> {
  const { rows } = await db.query<DeviceModelRow>(`select ${MODEL_COLUMNS} from device_models where id = $1`, [id]);
  return rows[0] ?? null;
}

export async function selectDeviceModels(db: Db): Promise<DeviceModelRow[]> {
  const { rows } = await db.query<DeviceModelRow>(`select ${MODEL_COLUMNS} from device_models order by id`);
  return rows;
}

/** A device as the registry shows it: whether keys are set, never the keys. */
export interface DeviceRow {
  devEui: string;
  name: string | null;
  modelId: string;
  assetId: string | null;
  joinEui: string | null;
  devAddr: string | null;
  nwkSKeySet: boolean;
  appSKeySet: boolean;
  appKeySet: boolean;
  macVersion: string;
  joinPending: boolean;
  allowCounterReset: boolean;
  fCntUp: number | null;
  expectedIntervalS: number | null;
  lastSeenAt: Date | null;
  notes: string | null;
  decommissionedAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
}

const DEVICE_COLUMNS = `dev_eui as "devEui", name, model_id as "modelId", asset_id as "assetId", join_eui as "joinEui",
  dev_addr as "devAddr", nwk_s_key is not null as "nwkSKeySet", app_s_key is not null as "appSKeySet",
  app_key is not null as "appKeySet", mac_version as "macVersion", pending_dev_addr is not null as "joinPending",
  allow_counter_reset as "allowCounterReset", f_cnt_up as "fCntUp", expected_interval_s as "expectedIntervalS",
  (select l.last_seen_at from latest_state l where l.dev_eui = devices.dev_eui) as "lastSeenAt", notes, decommissioned_at as "decommissionedAt", created_at as "createdAt", updated_at as "updatedAt"`;

export async function selectDevice(db: Db, devEui: string): Promise<DeviceRow | null> {
  const { rows } = await db.query<DeviceRow>(`select ${DEVICE_COLUMNS} from devices where dev_eui = $1`, [devEui]);
  return rows[0] ?? null;
}

export async function selectDevices(db: Db, q: { assetId: string | null; modelId: string | null; after: string | null; limit: number }): Promise<DeviceRow[]> {
  const { rows } = await db.query<DeviceRow>(
    `select ${DEVICE_COLUMNS} from devices
     where ($1::text is null or asset_id = $1) and ($2::text is null or model_id = $2) and ($3::text is null or dev_eui > $3)
     order by dev_eui limit $4`,
    [q.assetId, q.modelId, q.after, q.limit],
  );
  return rows;
}

/** Moves a device to another asset, closing the open mount and opening a new one. */
export async function moveDevice(db: pg.ClientBase, devEui: string, assetId: string): Promise<void> {
  await db.query('update device_mounts set unmounted_at = now() where dev_eui = $1 and unmounted_at is null', [devEui]);
  await db.query('update devices set asset_id = $2, updated_at = now() where dev_eui = $1', [devEui, assetId]);
  await db.query('insert into device_mounts (dev_eui, asset_id) values ($1, $2)', [devEui, assetId]);
}

export async function decommissionDevice(db: pg.ClientBase, devEui: string): Promise<boolean> {
  const r = await db.query('update devices set decommissioned_at = now(), updated_at = now() where dev_eui = $1 and decommissioned_at is null', [devEui]);
  await db.query('update device_mounts set unmounted_at = now() where dev_eui = $1 and unmounted_at is null', [devEui]);
  return (r.rowCount ?? 0) > 0;
}

export async function selectDeviceMounts(db: Db, devEui: string): Promise<{ assetId: string; mountedAt: Date; unmountedAt: Date | null }[]> {
  const { rows } = await db.query<{ assetId: string; mountedAt: Date; unmountedAt: Date | null }>(
    `select asset_id as "assetId", mounted_at as "mountedAt", unmounted_at as "unmountedAt" from device_mounts where dev_eui = $1 order by mounted_at`,
    [devEui],
  );
  return rows;
}
