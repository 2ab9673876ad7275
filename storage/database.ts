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
    // No JIT compilation: stadtfunk's statements are short, and where the planner's guess
    // of a cost passes jit_above_cost, compiling takes longer than running. Seen with the
    // series query, whose per-device keys it cannot count before it runs: 250 ms of JIT
    // for 20 ms of work on PostgreSQL 15, and p99 5.6 s in bench api at 32 connections.
    options: '-c jit=off',
  });
  // pg-pool hangs the whole client on the error (connection parameters, buffers, queues):
  // serialised it made a line of several kilobytes at every database restart. What failed
  // is in the message and the SQLSTATE code.
  pool.on('error', (error) => options.log.warn({ reason: error.message, code: (error as { code?: string }).code }, 'idle database connection failed'));
  trackConnections(pool);
  return pool;
}

const openConnections = new WeakMap<pg.Pool, Set<pg.PoolClient>>();

/** Keeps count of a pool's connected clients from here on, for {@link closePool}. */
export function trackConnections(pool: pg.Pool): void {
  const open = new Set<pg.PoolClient>();
  openConnections.set(pool, open);
  pool.on('connect', (client) => open.add(client));
  pool.on('remove', (client) => open.delete(client));
}

/**
 * Ends a pool and waits until the server has closed its connections. `pool.end()` alone
 * resolves once it has asked each connection to end, before the server has read that: a
 * database stopped right after it (the embedded one, last in a stop) terminates those
 * connections (57P01), which the pool reports as an error of an idle connection.
 */
export async function closePool(pool: pg.Pool, timeoutMs = 5_000): Promise<void> {
  const open = openConnections.get(pool);
  await pool.end();
  if (!open || open.size === 0) return;
  await new Promise<void>((resolve) => {
    const timer = setTimeout(done, timeoutMs);
    function done(): void {
      clearTimeout(timer);
      pool.off('remove', removed);
      resolve();
    }
    function removed(): void {
      if (open!.size === 0) done();
    }
    pool.on('remove', removed);
  });
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

/**
 * Runs `work` on a checked-out connection. A server shutdown between two statements
 * arrives as an 'error' event on the checked-out client, which would otherwise be
 * unhandled and end the process; the failing statement rejects as well, and that is
 * what callers handle. A connection that failed is discarded, not reused.
 */
export async function withClient<T>(pool: pg.Pool, work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  let failure: Error | undefined;
  const onError = (error: Error): void => {
    failure ??= error;
  };
  client.on('error', onError);
  try {
    return await work(client);
  } catch (error) {
    failure ??= error as Error;
    throw error;
  } finally {
    client.off('error', onError);
    client.release(isConnectionError(failure) ? failure : undefined);
  }
}

/** `work` inside begin … commit; rolled back when it throws. */
export async function inTransaction<T>(pool: pg.Pool, work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  return withClient(pool, async (client) => {
    await client.query('begin');
    try {
      const result = await work(client);
      await client.query('commit');
      return result;
    } catch (error) {
      await client.query('rollback').catch(() => undefined);
      throw error;
    }
  });
}

/** Errors after which the connection itself is not to be trusted (as opposed to a failed statement). */
function isConnectionError(error: Error | undefined): boolean {
  if (!error) return false;
  const code = (error as { code?: string }).code;
  // SQLSTATE class 08 (connection exception), 57P0x (admin shutdown, crash), or a socket error without SQLSTATE.
  return code === undefined || code.startsWith('08') || code.startsWith('57P');
}

/**
 * True when the database refused the rows themselves, so the same statement fails again
 * on every retry: SQLSTATE class 21 (cardinality), 22 (data exception), 23 (integrity
 * constraint), 54 (program limit, such as an index row too large). A JavaScript TypeError
 * or RangeError while writing rows (an invalid date, say) is just as deterministic.
 * Anything else (a lost connection, a deadlock, a full disk, a server shutting down) may
 * pass on its own and is retried.
 */
export function refusedByDatabase(error: unknown): boolean {
  if (error instanceof TypeError || error instanceof RangeError) return true;
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^(21|22|23|54)[0-9A-Z]{3}$/.test(code);
}

/** What a probe of a dependency found: it answers, or why not and whether waiting can help. */
export type ProbeResult = { ok: true } | { ok: false; reason: string; fatal: boolean };

/**
 * One connection to `url`, `select 1`, closed again: does the database answer? A refused
 * login (SQLSTATE class 28) or a database that does not exist (3D000) is `fatal`:
 * waiting does not mend a wrong DATABASE_URL. Anything else (no listener yet, a name that
 * does not resolve yet, 57P03 "the database system is starting up") may pass.
 */
export async function probeDatabase(url: string, timeoutMs = 5_000): Promise<ProbeResult> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: timeoutMs, application_name: 'stadtfunk start-up probe' });
  // An error after connect (the server going away) would otherwise be unhandled.
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.query('select 1');
    return { ok: true };
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    const fatal = typeof code === 'string' && (/^28[0-9A-Z]{3}$/.test(code) || code === '3D000');
    return { ok: false, reason: (error as Error).message || String(code ?? error), fatal };
  } finally {
    await client.end().catch(() => undefined);
  }
}
