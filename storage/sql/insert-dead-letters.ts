import type pg from 'pg';
import type { DeadLetterRow } from '../rows.js';
import { pgText, pgTextOrNull } from './pg-text.js';

/** Stores dead letters; the same message (topic and bytes) delivered again adds no row. */
export async function insertDeadLetters(db: pg.ClientBase, rows: DeadLetterRow[]): Promise<void> {
  if (rows.length === 0) return;
  await db.query(
    `insert into dead_letters (received_at, topic, payload, reason, detail, dev_eui, message_hash)
     select r.received_at, r.topic, r.payload, r.reason, r.detail, r.dev_eui,
            sha256(convert_to(r.topic, 'UTF8') || '\\x00'::bytea || r.payload)
     from unnest($1::timestamptz[], $2::text[], $3::bytea[], $4::text[], $5::text[], $6::text[])
          as r(received_at, topic, payload, reason, detail, dev_eui)
     on conflict (message_hash) do nothing`,
    [
      rows.map((r) => r.receivedAt),
      // Dead letters hold what was wrong, NUL included: stored as U+FFFD (see pg-text.ts); the bytes stay exact.
      rows.map((r) => pgText(r.topic)),
      rows.map((r) => r.payload),
      rows.map((r) => pgText(r.reason)),
      rows.map((r) => pgTextOrNull(r.detail)),
      rows.map((r) => pgTextOrNull(r.devEui)),
    ],
  );
}
