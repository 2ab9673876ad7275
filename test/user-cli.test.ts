/**
 * `stadtfunk user`, run as a user runs it (bin/stadtfunk.js in a child process) against a
 * real database: the first admin, who can then sign in; a short password refused; lockout
 * lifted; disabling ends the sessions.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../api/app.js';
import { createTestDatabase, testLog, type TestDatabase } from './helpers.js';

const bin = path.resolve(import.meta.dirname, '..', 'bin', 'stadtfunk.js');
let db: TestDatabase;
let app: FastifyInstance;

function stadtfunk(args: string[], stdin = ''): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bin, ...args], { env: { ...process.env, DATABASE_URL: db.url, LOG_LEVEL: 'error' }, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
    child.stdin.end(stdin);
  });
}

const signIn = (username: string, password: string) =>
  app.inject({ method: 'POST', url: '/api/v1/session', headers: { 'content-type': 'application/json' }, payload: JSON.stringify({ username, password }) });

beforeAll(async () => {
  db = await createTestDatabase();
  app = await buildApp({ pool: db.pool, log: testLog, version: 'test', status: async () => ({ database: { ok: true, embedded: false, timescale: false }, broker: { ok: true, embedded: false } }) });
});

afterAll(async () => {
  await app?.close();
  await db?.drop();
});

describe('stadtfunk user', () => {
  it('creates the first admin from a password on standard input, who can then sign in', async () => {
    const created = await stadtfunk(['user', 'create', '--username', 'Root', '--role', 'admin', '--name', 'Rita Root', '--password-stdin'], 'a long enough first password\nignored second line\n');
    expect(created.stderr).toBe('');
    expect(created.code).toBe(0);
    expect(created.stdout).toMatch(/^created user root \(admin, id [0-9a-f]{12}\)/);
    expect(created.stdout).not.toContain('a long enough first password');
    const res = await signIn('root', 'a long enough first password');
    expect(res.statusCode).toBe(200);
    expect(res.json().user).toMatchObject({ name: 'root', displayName: 'Rita Root', role: 'admin' });
    const list = await stadtfunk(['user', 'list']);
    expect(list.stdout).toMatch(/root\s+admin\s+Rita Root\s+\(local\)/);
  });

  it('refuses a short password and a password given as an option, creating nobody', async () => {
    const short = await stadtfunk(['user', 'create', '--username', 'kurt', '--role', 'technician', '--password-stdin'], 'short\n');
    expect(short.code).toBe(2);
    expect(short.stderr).toContain('at least 12 characters');
    const option = await stadtfunk(['user', 'create', '--username', 'kurt', '--role', 'technician', '--password', 'a long enough password']);
    expect(option.code).toBe(2);
    expect(option.stderr).toContain('unknown option --password');
    const noTerminal = await stadtfunk(['user', 'create', '--username', 'kurt', '--role', 'technician']);
    expect(noTerminal.code).toBe(2);
    expect(noTerminal.stderr).toContain('use --password-stdin');
    expect((await db.pool.query(`select 1 from users where username = 'kurt'`)).rowCount).toBe(0);
  });

  it('lifts a lockout, sets a new password, and disables a user, ending their sessions', async () => {
    await db.pool.query(`update users set failed_sign_ins = 7, locked_until = now() + interval '15 minutes' where username = 'root'`);
    expect((await signIn('root', 'a long enough first password')).statusCode).toBe(429);
    expect((await stadtfunk(['user', 'unlock', 'root'])).code).toBe(0);
    expect((await signIn('root', 'a long enough first password')).statusCode).toBe(200);
    const changed = await stadtfunk(['user', 'password', 'root', '--password-stdin'], 'the second long password\n');
    expect(changed.code).toBe(0);
    expect((await db.pool.query(`select count(*)::int as n from user_sessions`)).rows[0].n).toBe(0);
    expect((await signIn('root', 'a long enough first password')).statusCode).toBe(401);
    expect((await signIn('root', 'the second long password')).statusCode).toBe(200);
    expect((await stadtfunk(['user', 'disable', 'root'])).code).toBe(0);
    expect((await db.pool.query(`select count(*)::int as n from user_sessions`)).rows[0].n).toBe(0);
    expect((await signIn('root', 'the second long password')).statusCode).toBe(403);
  });
});
