import type pg from 'pg';

type Db = pg.Pool | pg.ClientBase;

export interface AuditEntry {
  at: Date;
  actor: string;
  role: string | null;
  action: string;
  target: string | null;
  detail: Record<string, unknown> | null;
  remoteAddr: string | null;
}

export async function insertAuditEntries(db: Db, entries: AuditEntry[]): Promise<void> {
  if (entries.length === 0) return;
  await db.query(
    `insert into audit_log (at, actor, role, action, target, detail, remote_addr)
     select * from unnest($1::timestamptz[], $2::text[], $3::text[], $4::text[], $5::text[], $6::jsonb[], $7::text[])`,
    [
      entries.map((e) => e.at), entries.map((e) => e.actor), entries.map((e) => e.role), entries.map((e) => e.action),
      entries.map((e) => e.target), entries.map((e) => (e.detail ? JSON.stringify(e.detail) : null)), entries.map((e) => e.remoteAddr),
    ],
  );
}

/** Reads of one who and what in one hour, gathered in memory: `count` reads from `firstAt` to `at`. */
export interface AuditRead extends Omit<AuditEntry, 'detail'> {
  firstAt: Date;
  count: number;
  /** sha-256 of who, what and the hour (api/audit-log.ts): the row the reads add to. */
  condenseKey: Buffer;
}

/**
 * Adds condensed reads to their row: a new row for a new key, else the count grows, the
 * last time moves on and the first time stays. One statement for the whole batch; the
 * keys of one batch are distinct (the caller merges them).
 */
export async function upsertAuditReads(db: Db, reads: AuditRead[]): Promise<void> {
  if (reads.length === 0) return;
  await db.query(
    `insert into audit_log (first_at, at, actor, role, action, target, remote_addr, count, condense_key)
     select * from unnest($1::timestamptz[], $2::timestamptz[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::int[], $9::bytea[])
     on conflict (condense_key) where condense_key is not null do update
       set count = audit_log.count + excluded.count, at = greatest(audit_log.at, excluded.at), first_at = least(audit_log.first_at, excluded.first_at)`,
    [
      reads.map((r) => r.firstAt), reads.map((r) => r.at), reads.map((r) => r.actor), reads.map((r) => r.role), reads.map((r) => r.action),
      reads.map((r) => r.target), reads.map((r) => r.remoteAddr), reads.map((r) => r.count), reads.map((r) => r.condenseKey),
    ],
  );
}

export interface AuditRow extends AuditEntry {
  id: number;
  /** First of `count` condensed reads; equal to `at` for a single entry. */
  firstAt: Date;
  count: number;
}

/** Newest first, keyset-paginated by id. */
export async function selectAuditEntries(db: Db, beforeId: number | null, limit: number): Promise<AuditRow[]> {
  const { rows } = await db.query<AuditRow>(
    `select id, coalesce(first_at, at) as "firstAt", at, count, actor, role, action, target, detail, remote_addr as "remoteAddr"
     from audit_log where ($1::bigint is null or id < $1) order by id desc limit $2`,
    [beforeId, limit],
  );
  return rows;
}
