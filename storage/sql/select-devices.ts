import type pg from 'pg';

export interface DeviceContext {
  devEui: string;
  modelId: string;
  assetId: string | null;
  decoderKind: 'builtin' | 'codec';
  builtinName: string | null;
  codecScript: string | null;
  mapping: unknown;
  /** The model's category (decoders' ModelCategory), null when not known. */
  category: string | null;
  decommissioned: boolean;
  /** How downlinks reach the device now (learnt from its uplinks); null before the first. */
  downlinkRoute: string | null;
  downlinkTopic: string | null;
}

/** What ingest needs to know about devices, for many devices in one round trip. */
export async function selectDeviceContexts(db: pg.Pool | pg.ClientBase, devEuis: string[]): Promise<DeviceContext[]> {
  if (devEuis.length === 0) return [];
  const { rows } = await db.query<DeviceContext>(
    `select d.dev_eui as "devEui", d.model_id as "modelId", d.asset_id as "assetId",
            m.decoder_kind as "decoderKind", m.builtin_name as "builtinName", m.codec_script as "codecScript",
            m.mapping, m.category, d.decommissioned_at is not null as decommissioned,
            d.downlink_route as "downlinkRoute", d.downlink_topic as "downlinkTopic"
     from devices d join device_models m on m.id = d.model_id
     where d.dev_eui = any($1::text[])`,
    [devEuis],
  );
  return rows;
}
