import type pg from 'pg';

type Db = pg.Pool | pg.ClientBase;

export interface DeadLetterOut {
  id: number;
  receivedAt: Date;
  topic: string;
  reason: string;
  detail: string | null;
  devEui: string | null;
  payload: Buffer;
}

export async function selectDeadLetters(db: Db, q: { reason: string | null; beforeId: number | null; limit: number }): Promise<DeadLetterOut[]> {
  const { rows } = await db.query<DeadLetterOut>(
    `select id, received_at as "receivedAt", topic, reason, detail, dev_eui as "devEui", payload
     from dead_letters where ($1::text is null or reason = $1) and ($2::bigint is null or id < $2)
     order by id desc limit $3`,
    [q.reason, q.beforeId, q.limit],
  );
  return rows;
}

export async function countDeadLettersByReason(db: Db): Promise<{ reason: string; count: number; last: Date }[]> {
  const { rows } = await db.query<{ reason: string; count: number; last: Date }>(
    `select reason, count(*)::int as count, max(received_at) as last from dead_letters group by reason order by count desc`,
  );
  return rows;
}

export interface ConcentratorOut {
  gatewayId: string;
  band: string | null;
  lastSeenAt: Date | null;
  online: boolean;
  rxReceived: number;
  rxForwarded: number;
  latitude: number | null;
  longitude: number | null;
}

export async function selectConcentrators(db: Db): Promise<ConcentratorOut[]> {
  const { rows } = await db.query<ConcentratorOut>(
    `select gateway_id as "gatewayId", band, last_seen_at as "lastSeenAt",
            coalesce(last_seen_at > now() - make_interval(secs => offline_after_s), false) as online,
            rx_received as "rxReceived", rx_forwarded as "rxForwarded", latitude, longitude
     from concentrators order by gateway_id`,
  );
  return rows;
}

/**
 * Devices silent for more than three times their expected interval (the device's own, else
 * its model's). A device never heard counts from its registration, so a fleet registered a
 * minute ago is not silent yet.
 */
export async function selectSilentDevices(db: Db, limit: number): Promise<{ devEui: string; assetId: string | null; modelId: string; lastSeenAt: Date | null; expectedIntervalS: number }[]> {
  const { rows } = await db.query<{ devEui: string; assetId: string | null; modelId: string; lastSeenAt: Date | null; expectedIntervalS: number }>(
    `select d.dev_eui as "devEui", d.asset_id as "assetId", d.model_id as "modelId", l.last_seen_at as "lastSeenAt",
            coalesce(d.expected_interval_s, m.expected_interval_s) as "expectedIntervalS"
     from devices d join device_models m on m.id = d.model_id left join latest_state l on l.dev_eui = d.dev_eui
     where d.decommissioned_at is null and coalesce(d.expected_interval_s, m.expected_interval_s) is not null
       and coalesce(l.last_seen_at, d.created_at) < now() - make_interval(secs => 3 * coalesce(d.expected_interval_s, m.expected_interval_s))
     order by l.last_seen_at nulls first limit $1`,
    [limit],
  );
  return rows;
}

/**
 * Devices whose latest battery reading is below their model's threshold: battery_voltage
 * below the model's battery_low_volts (not judged without one: the right voltage depends
 * on the cell), battery_level below battery_low_percent, default 20 %.
 */
export async function selectLowBatteries(db: Db, limit: number): Promise<{ devEui: string; modelId: string; metric: string; value: number; threshold: number; time: Date }[]> {
  const { rows } = await db.query<{ devEui: string; modelId: string; metric: string; value: number; threshold: number; time: Date }>(
    `select r.dev_eui as "devEui", d.model_id as "modelId", r.metric, r.value, t.threshold, r.time
     from latest_readings r join devices d on d.dev_eui = r.dev_eui join device_models m on m.id = d.model_id,
          lateral (select case r.metric when 'battery_voltage' then m.battery_low_volts else coalesce(m.battery_low_percent, 20) end as threshold) t
     where r.metric in ('battery_voltage', 'battery_level') and r.channel = '' and d.decommissioned_at is null and r.value < t.threshold
     order by r.value / t.threshold limit $1`,
    [limit],
  );
  return rows;
}

export async function selectDatabaseSize(db: Db): Promise<{ bytes: number; tables: { name: string; bytes: number }[] }> {
  const total = await db.query<{ bytes: number }>('select pg_database_size(current_database())::float8 as bytes');
  const tables = await db.query<{ name: string; bytes: number }>(
    `select c.relname as name, pg_total_relation_size(c.oid)::float8 as bytes from pg_class c join pg_namespace n on n.oid = c.relnamespace
     where n.nspname = 'public' and c.relkind in ('r', 'p') order by 2 desc limit 10`,
  );
  return { bytes: total.rows[0]?.bytes ?? 0, tables: tables.rows };
}

/** Compression per hypertable (TimescaleDB); empty on plain PostgreSQL. */
export async function selectCompressionState(db: Db, timescale: boolean): Promise<{ table: string; chunks: number; compressedChunks: number; beforeBytes: number | null; afterBytes: number | null }[]> {
  if (!timescale) return [];
  const { rows } = await db.query<{ table: string; chunks: number; compressedChunks: number; beforeBytes: number | null; afterBytes: number | null }>(
    `select h.hypertable_name as "table", s.total_chunks::int as chunks, s.number_compressed_chunks::int as "compressedChunks",
            s.before_compression_total_bytes::float8 as "beforeBytes", s.after_compression_total_bytes::float8 as "afterBytes"
     from timescaledb_information.hypertables h, lateral hypertable_compression_stats(format('%I.%I', h.hypertable_schema, h.hypertable_name)::regclass) s
     order by 1`,
  );
  return rows;
}
