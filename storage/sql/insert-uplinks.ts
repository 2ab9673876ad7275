import type pg from 'pg';
import type { UplinkRow } from '../rows.js';
import { pgJson } from './pg-text.js';

/**
 * Inserts uplinks not yet stored; returns the identities that were new. One round trip:
 * the rows travel as one JSON array (decoded values and radio metadata are nested JSON
 * already, so they need no second encoding).
 */
export async function insertUplinks(db: pg.ClientBase, rows: UplinkRow[]): Promise<Set<string>> {
  if (rows.length === 0) return new Set();
  // pgJson: strings in it are stored as text and jsonb, which refuse NUL and lone surrogates.
  const json = pgJson(rows.map((r) => ({
    received_at: r.receivedAt.toISOString(), id: r.id, dev_eui: r.devEui, f_cnt: r.fCnt, f_port: r.fPort,
    payload: r.payload.toString('hex'), decoded: r.decoded, decode_error: r.decodeError, source: r.source, radio: r.radio,
  })));
  const result = await db.query<{ id: string }>(
    `insert into uplinks (received_at, id, dev_eui, f_cnt, f_port, payload, decoded, decode_error, source, radio)
     select received_at, id, dev_eui, f_cnt, f_port, decode(payload, 'hex'), decoded, decode_error, source, radio
     from json_to_recordset($1::json) as x(received_at timestamptz, id text, dev_eui text, f_cnt int8, f_port int4, payload text,
                                          decoded jsonb, decode_error text, source text, radio jsonb)
     on conflict do nothing
     returning id`,
    [json],
  );
  return new Set(result.rows.map((r) => r.id));
}
