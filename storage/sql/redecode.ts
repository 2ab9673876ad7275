import type pg from 'pg';
import { pgJson, pgTextOrNull } from './pg-text.js';

export interface StoredUplink {
  id: string;
  receivedAt: Date;
  devEui: string;
  fPort: number | null;
  payload: Buffer;
  assetId: string | null;
}

/** One page of stored uplinks of a device or a model in [from, to), oldest first, after the cursor. */
export async function selectUplinksForRedecode(
  db: pg.Pool | pg.ClientBase,
  q: { devEui: string | null; modelId: string | null; from: Date; to: Date; after: { receivedAt: Date; id: string } | null; limit: number },
): Promise<StoredUplink[]> {
  const { rows } = await db.query<StoredUplink>(
    `select u.id, u.received_at as "receivedAt", u.dev_eui as "devEui", u.f_port as "fPort", u.payload, d.asset_id as "assetId"
     from uplinks u join devices d on d.dev_eui = u.dev_eui
     where ($1::text is null or u.dev_eui = $1) and ($2::text is null or d.model_id = $2)
       and u.received_at >= $3 and u.received_at < $4
       and ($5::timestamptz is null or (u.received_at, u.id) > ($5, $6))
     order by u.received_at, u.id limit $7`,
    [q.devEui, q.modelId, q.from, q.to, q.after?.receivedAt ?? null, q.after?.id ?? '', q.limit],
  );
  return rows;
}

/**
 * Removes the decoded readings of these uplinks (the caller inserts the new ones in the same
 * transaction); readings not from the decoder (radio signal) are kept.
 */
export async function deleteReadingsOfUplinks(db: pg.ClientBase, uplinkIds: string[], keepMetrics: string[]): Promise<number> {
  if (uplinkIds.length === 0) return 0;
  const r = await db.query('delete from readings where uplink_id = any($1::text[]) and metric <> all($2::text[])', [uplinkIds, keepMetrics]);
  return r.rowCount ?? 0;
}

export async function updateDecoded(db: pg.ClientBase, rows: { id: string; receivedAt: Date; decoded: unknown; decodeError: string | null }[]): Promise<void> {
  if (rows.length === 0) return;
  await db.query(
    `update uplinks u set decoded = v.decoded, decode_error = v.decode_error
     from unnest($1::text[], $2::timestamptz[], $3::jsonb[], $4::text[]) as v(id, received_at, decoded, decode_error)
     where u.id = v.id and u.received_at = v.received_at`,
    [rows.map((r) => r.id), rows.map((r) => r.receivedAt), rows.map((r) => pgJson(r.decoded ?? null)), rows.map((r) => pgTextOrNull(r.decodeError))],
  );
}
