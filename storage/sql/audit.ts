import type pg from 'pg';

export interface AuditEntry {
  at: Date;
  actor: string;
  role: string | null;
  action: string;
  target: string | null;
  detail: Record<string, unknown> | null;
  remoteAddr: string | null;
}

export async function insertAuditEntries(db: pg.Pool | pg.ClientBase, entries: AuditEntry[]): Promise<void> {
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

export interface AuditRow extends AuditEntry {
  id: number;
}

/** Newest first, keyset-paginated by id. */
export async function selectAuditEntries(db: pg.Pool | pg.ClientBase, beforeId: number | null, limit: number): Promise<AuditRow[]> {
  const { rows } = await db.query<AuditRow>(
    `select id, at, actor, role, action, target, detail, remote_addr as "remoteAddr"
     from audit_log where ($1::bigint is null or id < $1) order by id desc limit $2`,
    [beforeId, limit],
  );
  return rows;
}
