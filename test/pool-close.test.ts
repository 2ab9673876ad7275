/**
 * A stop ends the pools before it stops the embedded PostgreSQL. `pool.end()` resolves once
 * it has asked each connection to end, before the server has read that; a database stopped
 * at that moment terminates the connections (57P01) and the service logged "idle database
 * connection failed" on a clean stop (seen once in CI, test/npm-start.test.ts). `closePool`
 * returns only when the server has closed them.
 */
import pg from 'pg';
import { inject, describe, expect, it } from 'vitest';
import { closePool, createPool } from '../storage/index.js';
import { testLog, uniqueName } from './helpers.js';

async function backendsNamed(name: string): Promise<number> {
  const admin = new pg.Client({ connectionString: inject('databaseAdminUrl') });
  await admin.connect();
  try {
    const { rows } = await admin.query<{ n: number }>('select count(*)::int as n from pg_stat_activity where application_name = $1', [name]);
    return rows[0]!.n;
  } finally {
    await admin.end();
  }
}

describe('closePool', () => {
  it('returns when the server has closed every connection, idle or in use at the call', async () => {
    const name = uniqueName('pool_close_');
    const pool = createPool({ url: inject('databaseAdminUrl'), log: testLog, max: 8, applicationName: name });
    const held = await Promise.all(Array.from({ length: 8 }, () => pool.connect()));
    await Promise.all(held.map((client) => client.query('select 1')));
    expect(await backendsNamed(name)).toBe(8);
    let ended = 0;
    for (const client of held) client.on('end', () => ended++);
    // Six idle, two released while the pool ends.
    for (const client of held.slice(0, 6)) client.release();
    const closing = closePool(pool);
    setTimeout(() => held.slice(6).forEach((client) => client.release()), 50);
    await closing;
    expect(ended).toBe(8);
    expect(await backendsNamed(name)).toBe(0);
  });

  it('returns at once for a pool that never connected', async () => {
    const pool = createPool({ url: inject('databaseAdminUrl'), log: testLog });
    const started = Date.now();
    await closePool(pool);
    expect(Date.now() - started).toBeLessThan(1_000);
  });
});
