/**
 * TRUSTED_PROXIES (issue 26, item 5): X-Forwarded-For names the client only when the TCP
 * peer is a configured proxy. From anyone else the header is ignored: it can neither
 * open a fresh open-data rate-limit bucket nor choose what the audit log records.
 * Real HTTP on 127.0.0.1 for the untrusted peer; inject with a proxy's address for the
 * trusted one (no second interface to connect from here).
 */
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../api/app.js';
import { createApiKey } from '../api/auth.js';
import { loadConfig } from '../config.js';
import { createTestDatabase, testLog, type TestDatabase } from './helpers.js';

const LIMIT = 5;
let db: TestDatabase;
let app: FastifyInstance;
let base: string;
let operatorKey: string;
let adminKey: string;

beforeAll(async () => {
  db = await createTestDatabase();
  app = await buildApp({
    pool: db.pool, log: testLog, version: 'test', timescale: db.timescale, openDataRateLimitPerMinute: LIMIT,
    trustedProxies: loadConfig({ TRUSTED_PROXIES: '10.9.0.0/16' }).api.trustedProxies,
    status: async () => ({ database: { ok: true, embedded: false, timescale: db.timescale }, broker: { ok: true, embedded: false } }),
  });
  operatorKey = (await createApiKey(db.pool, 'desk 3', 'operator')).key;
  adminKey = (await createApiKey(db.pool, 'auditor', 'admin')).key;
  await app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.server.address();
  base = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
});

afterAll(async () => {
  await app?.close();
  await db?.drop();
});

async function auditAddresses(target: string): Promise<(string | null)[]> {
  const res = await app.inject({ method: 'GET', url: '/api/v1/audit?limit=1000', headers: { authorization: `Bearer ${adminKey}` }, remoteAddress: '10.9.0.1' });
  return (res.json().items as { target: string; remoteAddr: string | null }[]).filter((r) => r.target === target).map((r) => r.remoteAddr);
}

describe('an untrusted peer', () => {
  it('cannot escape the open-data rate limit by changing X-Forwarded-For', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < LIMIT + 3; i++) {
      const res = await fetch(`${base}/api/v1/open/parking/zones`, { headers: { 'x-forwarded-for': `203.0.113.${i + 1}` } });
      statuses.push(res.status);
      await res.arrayBuffer();
    }
    expect(statuses).toEqual([...Array<number>(LIMIT).fill(200), 429, 429, 429]);
  });

  it('is recorded in the audit log by its real address, not the one it claims', async () => {
    const res = await fetch(`${base}/api/v1/live/zones?zone=proxy-test-1`, { headers: { authorization: `Bearer ${operatorKey}`, 'x-forwarded-for': '203.0.113.99' } });
    expect(res.status).toBe(200);
    await res.arrayBuffer();
    expect(await auditAddresses('/api/v1/live/zones?zone=proxy-test-1')).toEqual(['127.0.0.1']);
  });
});

describe('a trusted proxy', () => {
  it('names the client: the rate limit counts each client behind it apart', async () => {
    const from = (client: string) => app.inject({ method: 'GET', url: '/api/v1/open/parking/zones', headers: { 'x-forwarded-for': client }, remoteAddress: '10.9.4.4' });
    for (let i = 0; i < LIMIT; i++) expect((await from('198.51.100.1')).statusCode).toBe(200);
    expect((await from('198.51.100.1')).statusCode).toBe(429);
    expect((await from('198.51.100.2')).statusCode).toBe(200);
    // A client's own forged entry in front of the proxy's does not help it: the proxy appends the real peer last.
    expect((await from('198.51.100.2, 198.51.100.1')).statusCode).toBe(429);
  });

  it('has the client it names recorded in the audit log', async () => {
    const res = await app.inject({ method: 'GET', url: '/api/v1/live/zones?zone=proxy-test-2', headers: { authorization: `Bearer ${operatorKey}`, 'x-forwarded-for': '198.51.100.77' }, remoteAddress: '10.9.4.4' });
    expect(res.statusCode).toBe(200);
    expect(await auditAddresses('/api/v1/live/zones?zone=proxy-test-2')).toEqual(['198.51.100.77']);
  });
});
