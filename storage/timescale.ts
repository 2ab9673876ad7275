import type pg from 'pg';

/**
 * TimescaleDB is used when its extension is installed in the database, or can be
 * (available and preloaded). Detected, never configured by hand.
 */
export async function detectTimescale(client: pg.ClientBase | pg.Pool): Promise<boolean> {
  const { rows } = await client.query<{ installed: boolean; available: boolean; preloaded: boolean }>(`
    select
      exists (select 1 from pg_extension where extname = 'timescaledb') as installed,
      exists (select 1 from pg_available_extensions where name = 'timescaledb') as available,
      coalesce(current_setting('shared_preload_libraries', true), '') like '%timescaledb%' as preloaded`);
  const row = rows[0];
  return row !== undefined && (row.installed || (row.available && row.preloaded));
}
