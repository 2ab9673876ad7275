import type pg from 'pg';

export interface DeviceModelInput {
  id: string;
  name: string;
  decoderKind: 'builtin' | 'codec';
  builtinName?: string | null;
  codecScript?: string | null;
  mapping?: unknown[];
  examples?: unknown[];
  expectedIntervalS?: number | null;
  /** Battery voltage below which a device of this model counts as low, V; null: not judged by voltage. */
  batteryLowVolts?: number | null;
  /** Battery level below which a device counts as low, %; null: 20 %. */
  batteryLowPercent?: number | null;
  category?: string | null;
  mappingNotes?: unknown[];
  source?: Record<string, unknown> | null;
}

export async function upsertDeviceModel(db: pg.Pool | pg.ClientBase, m: DeviceModelInput): Promise<void> {
  await db.query(
    `insert into device_models (id, name, decoder_kind, builtin_name, codec_script, mapping, examples, expected_interval_s, category, mapping_notes, source,
       battery_low_volts, battery_low_percent)
     values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
     on conflict (id) do update set name = excluded.name, decoder_kind = excluded.decoder_kind,
       builtin_name = excluded.builtin_name, codec_script = excluded.codec_script, mapping = excluded.mapping,
       examples = excluded.examples, expected_interval_s = excluded.expected_interval_s, category = excluded.category,
       mapping_notes = excluded.mapping_notes, source = excluded.source,
       battery_low_volts = excluded.battery_low_volts, battery_low_percent = excluded.battery_low_percent, updated_at = now()`,
    [m.id, m.name, m.decoderKind, m.builtinName ?? null, m.codecScript ?? null, JSON.stringify(m.mapping ?? []),
     JSON.stringify(m.examples ?? []), m.expectedIntervalS ?? null, m.category ?? null, JSON.stringify(m.mappingNotes ?? []),
     m.source ? JSON.stringify(m.source) : null, m.batteryLowVolts ?? null, m.batteryLowPercent ?? null],
  );
}

export interface AssetInput {
  id: string;
  kind: 'street_lamp' | 'parking_bay' | 'garage' | 'traffic_site' | 'water_gauge';
  name?: string | null;
  latitude?: number | null;
  longitude?: number | null;
  zone?: string | null;
  isPublic?: boolean;
  capacity?: number | null;
  attributes?: Record<string, unknown>;
  notes?: string | null;
}

export async function upsertAsset(db: pg.Pool | pg.ClientBase, a: AssetInput): Promise<void> {
  await db.query(
    `insert into assets (id, kind, name, latitude, longitude, zone, is_public, capacity, attributes, notes)
     values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
     on conflict (id) do update set kind = excluded.kind, name = excluded.name, latitude = excluded.latitude,
       longitude = excluded.longitude, zone = excluded.zone, is_public = excluded.is_public, capacity = excluded.capacity,
       attributes = excluded.attributes, notes = excluded.notes, updated_at = now()`,
    [a.id, a.kind, a.name ?? null, a.latitude ?? null, a.longitude ?? null, a.zone ?? null, a.isPublic ?? false,
     a.capacity ?? null, JSON.stringify(a.attributes ?? {}), a.notes ?? null],
  );
}

export interface DeviceInput {
  devEui: string;
  modelId: string;
  assetId?: string | null;
  name?: string | null;
  joinEui?: string | null;
  devAddr?: string | null;
  /** Keys already sealed by the key vault; never plain key material. */
  nwkSKeySealed?: string | null;
  appSKeySealed?: string | null;
  /** OTAA root key, already sealed by the key vault. */
  appKeySealed?: string | null;
  /** LoRaWAN version (DevNonce rule of OTAA joins). Default 1.0.3. */
  macVersion?: string | null;
  allowCounterReset?: boolean;
  expectedIntervalS?: number | null;
}

/** Registers a device (or updates it) and records its mount on the asset. */
export async function upsertDevice(db: pg.Pool | pg.ClientBase, d: DeviceInput): Promise<void> {
  await db.query(
    `with d as (
       insert into devices (dev_eui, model_id, asset_id, name, join_eui, dev_addr, nwk_s_key, app_s_key, allow_counter_reset, expected_interval_s, app_key, mac_version)
       values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, coalesce($12, '1.0.3'))
       on conflict (dev_eui) do update set model_id = excluded.model_id, asset_id = excluded.asset_id, name = excluded.name,
         join_eui = excluded.join_eui, dev_addr = coalesce(excluded.dev_addr, devices.dev_addr),
         nwk_s_key = coalesce(excluded.nwk_s_key, devices.nwk_s_key), app_s_key = coalesce(excluded.app_s_key, devices.app_s_key),
         app_key = coalesce(excluded.app_key, devices.app_key), mac_version = coalesce($12, devices.mac_version),
         allow_counter_reset = excluded.allow_counter_reset, expected_interval_s = excluded.expected_interval_s, updated_at = now()
       returning dev_eui, asset_id)
     insert into device_mounts (dev_eui, asset_id)
     select dev_eui, asset_id from d
     where asset_id is not null and not exists (
       select 1 from device_mounts m where m.dev_eui = d.dev_eui and m.asset_id = d.asset_id and m.unmounted_at is null)`,
    [d.devEui.toLowerCase(), d.modelId, d.assetId ?? null, d.name ?? null, d.joinEui?.toLowerCase() ?? null,
     d.devAddr?.toLowerCase() ?? null, d.nwkSKeySealed ?? null, d.appSKeySealed ?? null, d.allowCounterReset ?? false,
     d.expectedIntervalS ?? null, d.appKeySealed ?? null, d.macVersion ?? null],
  );
}
