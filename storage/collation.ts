import type pg from 'pg';

/** Collations under which PostgreSQL compares text with memcmp, not through the C library. */
const BYTEWISE = new Set(['C', 'POSIX', 'ucs_basic']);

export interface KeyCollation {
  /** The collation the readings' DevEUI column compares by (the database's if it has none of its own). */
  collation: string;
  /** True when that is byte order, the cheap one (migration 0008). */
  bytewise: boolean;
}

/**
 * How the identifiers of the readings compare. Plain PostgreSQL databases have them in
 * "C" after migration 0008; on TimescaleDB they follow the database's LC_COLLATE, which
 * the operator chose when creating it.
 */
export async function readingsKeyCollation(db: pg.Pool | pg.ClientBase): Promise<KeyCollation> {
  const { rows } = await db.query<{ collation: string }>(`
    select case when c.collname = 'default' then d.datcollate else c.collname end as collation
    from pg_attribute a
    join pg_collation c on c.oid = a.attcollation
    join pg_database d on d.datname = current_database()
    where a.attrelid = 'readings'::regclass and a.attname = 'dev_eui'`);
  const collation = rows[0]?.collation ?? 'unknown';
  return { collation, bytewise: BYTEWISE.has(collation) };
}
