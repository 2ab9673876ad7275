import type pg from 'pg';

export interface TimescalePolicies {
  /** Chunks older than this are compressed. Default 7 days. */
  compressAfterDays: number;
  /** Raw uplinks older than this are dropped (readings are kept). Default 90 days. */
  uplinkRetentionDays: number;
}

/**
 * Sets compression and retention policies to the configured ages (at every start:
 * changing the configuration changes the policies). Only on TimescaleDB.
 */
export async function applyTimescalePolicies(pool: pg.Pool, p: TimescalePolicies): Promise<void> {
  for (const table of ['readings', 'uplinks']) {
    await pool.query(`select remove_compression_policy($1, if_exists => true)`, [table]);
    await pool.query(`select add_compression_policy($1, make_interval(days => $2))`, [table, p.compressAfterDays]);
  }
  await pool.query(`select remove_retention_policy('uplinks', if_exists => true)`);
  await pool.query(`select add_retention_policy('uplinks', make_interval(days => $1))`, [p.uplinkRetentionDays]);
}
