/**
 * Routes that need the database answer 503 while it does not answer, as /health does, not
 * 500 (issue 26, item 7). "Does not answer" is a real pool pointed at a port where nothing
 * listens.
 */
import pg from 'pg';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../api/app.js';
import { freePort } from './global-setup.js';
import { testLog } from './helpers.js';

describe('the API while the database does not answer', () => {
  let pool: pg.Pool;
  let app: FastifyInstance;
  beforeAll(async () => {
    pool = new pg.Pool({ connectionString: `postgres://postgres@127.0.0.1:${await freePort()}/postgres`, connectionTimeoutMillis: 2_000 });
    app = await buildApp({
      pool, log: testLog, version: 'test',
      status: async () => ({ database: { ok: false, embedded: false, timescale: false, reason: 'connect ECONNREFUSED' }, broker: { ok: true, embedded: false } }),
    });
  });
  afterAll(async () => {
    await app?.close();
    await pool?.end();
  });

  it('answers 503 STADTFUNK_ERR_DATABASE_UNAVAILABLE on open and on authenticated routes', async () => {
    for (const [url, headers] of [['/api/v1/open/parking/zones', {}], ['/api/v1/devices', { authorization: 'Bearer sk_not_checked_yet' }]] as const) {
      const res = await app.inject({ url, headers });
      expect(res.statusCode, url).toBe(503);
      expect(res.headers['retry-after'], url).toBe('5');
      expect(res.json(), url).toEqual({ error: 'Service Unavailable', code: 'STADTFUNK_ERR_DATABASE_UNAVAILABLE', message: 'the database does not answer; /health says more' });
    }
  });
});
