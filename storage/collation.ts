import type pg from 'pg';

export interface KeyCollation {
  /** The collation the readings' DevEUI column compares by (the database's if it has none of its own). */
  collation: string;
  /** True when that is byte order, the cheap one (migration 0008). */
  bytewise: boolean;
}

/**
 * How the identifiers of the readings compare. Plain PostgreSQL databases have them in
 * "C" after migration 0008; on TimescaleDB they follow the database's default collation,
 * which the operator chose when creating it.
 *
 * Byte order (memcmp) is what PostgreSQL does for the libc locales C and POSIX and for
 * every collation of the builtin provider (PostgreSQL 17 and later, C.UTF-8 among them,
 * code-point order). Other libc locales, C.UTF-8 of libc included, go through strcoll;
 * ICU collations through ICU.
 */
export async function readingsKeyCollation(db: pg.Pool | pg.ClientBase): Promise<KeyCollation> {
  // The database's locale columns differ between versions (daticulocale up to 16,
  // datlocale from 17): read the row as JSON.
  const { rows } = await db.query<{ collation: Record<string, string | null>; database: Record<string, string | null> }>(`
    select to_jsonb(c) as collation, to_jsonb(d) as database
    from pg_attribute a
    join pg_collation c on c.oid = a.attcollation
    join pg_database d on d.datname = current_database()
    where a.attrelid = 'readings'::regclass and a.attname = 'dev_eui'`);
  const row = rows[0];
  if (!row) return { collation: 'unknown', bytewise: false };
  const c = row.collation;
  if (c.collname !== 'default') {
    const provider = c.collprovider ?? 'c';
    return describe(provider, (provider === 'c' ? c.collcollate : c.colllocale ?? c.colliculocale) ?? c.collname ?? 'unknown');
  }
  return databaseDefaultCollation(row.database);
}

/**
 * The default collation of a database, from its pg_database row as JSON (`to_jsonb(d)`):
 * what text columns without a collation of their own compare by.
 */
export function databaseDefaultCollation(d: Record<string, string | null>): KeyCollation {
  const provider = d.datlocprovider ?? 'c';
  return describe(provider, (provider === 'c' ? d.datcollate : d.datlocale ?? d.daticulocale) ?? 'unknown');
}

function describe(provider: string, name: string): KeyCollation {
  const label = provider === 'i' ? `${name} (ICU)` : provider === 'b' ? `${name} (builtin)` : name;
  return { collation: label, bytewise: provider === 'b' || name === 'C' || name === 'POSIX' };
}
