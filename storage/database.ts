import pg from 'pg';
import type { Logger } from 'pino';

// bigint (int8) and numeric counts come back as JS numbers: our counters stay far below 2^53.
pg.types.setTypeParser(pg.types.builtins.INT8, (v) => Number(v));

export interface PoolOptions {
  url: string;
  log: Logger;
  /** Most connections. Default 10. */
  max?: number;
  applicationName?: string;
}

/** A pool that logs (never throws on) errors of idle connections, e.g. when the server restarts. */
export function createPool(options: PoolOptions): pg.Pool {
  const pool = new pg.Pool({
    connectionString: options.url,
    max: options.max ?? 10,
    application_name: options.applicationName ?? 'stadtfunk',
    connectionTimeoutMillis: 5_000,
    idleTimeoutMillis: 30_000,
  });
  pool.on('error', (error) => options.log.warn({ err: error }, 'idle database connection failed'));
  return pool;
}

/** Round trip to the database; the reason when it fails. */
export async function checkDatabase(pool: pg.Pool): Promise<{ ok: true } | { ok: false; reason: string }> {
  try {
    await pool.query('select 1');
    return { ok: true };
  } catch (error) {
    return { ok: false, reason: (error as Error).message || String(error) };
  }
}
