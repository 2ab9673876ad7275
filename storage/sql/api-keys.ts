import type pg from 'pg';

export type Role = 'admin' | 'technician' | 'operator';

export interface ApiKeyRow {
  id: string;
  name: string;
  role: Role;
  createdAt: Date;
  revokedAt: Date | null;
}

export async function insertApiKey(db: pg.Pool | pg.ClientBase, key: { id: string; name: string; role: Role; keyHash: Buffer }): Promise<void> {
  await db.query('insert into api_keys (id, name, role, key_hash) values ($1, $2, $3, $4)', [key.id, key.name, key.role, key.keyHash]);
}

/** The active key with this hash, if any. */
export async function selectApiKeyByHash(db: pg.Pool | pg.ClientBase, keyHash: Buffer): Promise<ApiKeyRow | null> {
  const { rows } = await db.query<ApiKeyRow>(
    `select id, name, role, created_at as "createdAt", revoked_at as "revokedAt" from api_keys where key_hash = $1 and revoked_at is null`,
    [keyHash],
  );
  return rows[0] ?? null;
}

export async function selectApiKeys(db: pg.Pool | pg.ClientBase): Promise<ApiKeyRow[]> {
  const { rows } = await db.query<ApiKeyRow>(
    `select id, name, role, created_at as "createdAt", revoked_at as "revokedAt" from api_keys order by created_at`,
  );
  return rows;
}

/** Revokes a key; false when there is no such active key. */
export async function revokeApiKey(db: pg.Pool | pg.ClientBase, id: string): Promise<boolean> {
  const r = await db.query('update api_keys set revoked_at = now() where id = $1 and revoked_at is null', [id]);
  return (r.rowCount ?? 0) > 0;
}
