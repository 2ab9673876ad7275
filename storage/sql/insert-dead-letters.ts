import type pg from 'pg';
import type { DeadLetterRow } from '../rows.js';
import { pgText, pgTextOrNull } from './pg-text.js';

/**
 * Stores dead letters; the same message (topic and bytes) delivered again adds no row.
 * Of an oversize message only a prefix is stored: its identity is then its topic with
 * the whole payload's SHA-256 and length, so two messages that share a prefix stay two.
 */
export async function insertDeadLetters(db: pg.ClientBase, rows: DeadLetterRow[]): Promise<void> {
  if (rows.length === 0) return;
  await db.query(
    `insert into dead_letters (received_at, topic, payload, reason, detail, dev_eui, payload_length, payload_sha256, message_hash)
     select r.received_at, r.topic, r.payload, r.reason, r.detail, r.dev_eui, r.payload_length, r.payload_sha256,
            case when r.payload_sha256 is null then sha256(convert_to(r.topic, 'UTF8') || '\\x00'::bytea || r.payload)
                 else sha256(convert_to(r.topic, 'UTF8') || '\\x00'::bytea || r.payload_sha256 || int8send(r.payload_length)) end
     from unnest($1::timestamptz[], $2::text[], $3::bytea[], $4::text[], $5::text[], $6::text[], $7::int8[], $8::bytea[])
          as r(received_at, topic, payload, reason, detail, dev_eui, payload_length, payload_sha256)
     on conflict (message_hash) do nothing`,
    [
      rows.map((r) => r.receivedAt),
      // Dead letters hold what was wrong, NUL included: stored as U+FFFD (see pg-text.ts); the bytes stay exact.
      rows.map((r) => pgText(r.topic)),
      rows.map((r) => r.payload),
      rows.map((r) => pgText(r.reason)),
      rows.map((r) => pgTextOrNull(r.detail)),
      rows.map((r) => pgTextOrNull(r.devEui)),
      rows.map((r) => r.payloadLength ?? null),
      rows.map((r) => r.payloadSha256 ?? null),
    ],
  );
}
