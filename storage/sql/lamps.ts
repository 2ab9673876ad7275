import type pg from 'pg';

export interface LampRow {
  assetId: string;
  name: string | null;
  zone: string | null;
  latitude: number | null;
  longitude: number | null;
  devEui: string;
  modelId: string;
  decoderKind: 'builtin' | 'codec';
  builtinName: string | null;
  /** Latest reported state (readings lamp_on and dim_level of its uplinks). */
  reportedOn: number | null;
  reportedDim: number | null;
  reportedAt: Date | null;
  /** The latest lamp command (a queued downlink whose object has lamp_on). */
  commandId: number | null;
  command: Record<string, unknown> | null;
  commandState: string | null;
  commandTxStatus: string | null;
  commandCreatedAt: Date | null;
  commandSentAt: Date | null;
}

/**
 * Street lamps with a controller that can take commands (the built-in streetlight format
 * or a vendor codec), their reported state and their latest command. In asset order.
 */
export async function selectLamps(db: pg.Pool | pg.ClientBase, q: { zone: string | null; assetId: string | null; limit: number }): Promise<LampRow[]> {
  const { rows } = await db.query<LampRow>(
    `select a.id as "assetId", a.name, a.zone, a.latitude, a.longitude, d.dev_eui as "devEui", d.model_id as "modelId",
            m.decoder_kind as "decoderKind", m.builtin_name as "builtinName",
            (l.metrics -> 'lamp_on' ->> 1)::float8 as "reportedOn", (l.metrics -> 'dim_level' ->> 1)::float8 as "reportedDim",
            to_timestamp(greatest((l.metrics -> 'lamp_on' ->> 0)::float8, (l.metrics -> 'dim_level' ->> 0)::float8) / 1000) as "reportedAt",
            c.id as "commandId", c.object as command, c.state as "commandState", c.tx_status as "commandTxStatus",
            c.created_at as "commandCreatedAt", c.sent_at as "commandSentAt"
     from assets a
     join devices d on d.asset_id = a.id and d.decommissioned_at is null
     join device_models m on m.id = d.model_id
     left join latest_state l on l.dev_eui = d.dev_eui
     left join lateral (select id, object, state, tx_status, created_at, sent_at from downlink_queue q
                        where q.dev_eui = d.dev_eui and q.object ? 'lamp_on' order by q.id desc limit 1) c on true
     where a.kind = 'street_lamp' and a.decommissioned_at is null
       and (m.builtin_name = 'stadtfunk-streetlight' or m.decoder_kind = 'codec')
       and ($1::text is null or a.zone = $1) and ($2::text is null or a.id = $2)
     order by a.id, d.dev_eui
     limit $3`,
    [q.zone, q.assetId, q.limit],
  );
  return rows;
}
