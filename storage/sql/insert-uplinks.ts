import type pg from 'pg';
import type { UplinkRow } from '../rows.js';
import { byteaArray, jsonArray, numberArray, textArray, timeArray } from './pg-array.js';

/** Inserts uplinks not yet stored; returns the identities that were new. One round trip. */
export async function insertUplinks(db: pg.ClientBase, rows: UplinkRow[]): Promise<Set<string>> {
  if (rows.length === 0) return new Set();
  const result = await db.query<{ id: string }>(
    `insert into uplinks (received_at, id, dev_eui, f_cnt, f_port, payload, decoded, decode_error, source, radio)
     select * from unnest($1::timestamptz[], $2::text[], $3::text[], $4::int8[], $5::int4[], $6::bytea[],
                          $7::jsonb[], $8::text[], $9::text[], $10::jsonb[])
     on conflict do nothing
     returning id`,
    [
      timeArray(rows.map((r) => r.receivedAt)),
      textArray(rows.map((r) => r.id)),
      textArray(rows.map((r) => r.devEui)),
      numberArray(rows.map((r) => r.fCnt)),
      numberArray(rows.map((r) => r.fPort)),
      byteaArray(rows.map((r) => r.payload)),
      jsonArray(rows.map((r) => r.decoded)),
      textArray(rows.map((r) => r.decodeError)),
      textArray(rows.map((r) => r.source)),
      jsonArray(rows.map((r) => r.radio)),
    ],
  );
  return new Set(result.rows.map((r) => r.id));
}
