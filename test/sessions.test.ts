/**
 * Accounts and sessions through the HTTP API against a real database: password sign-in,
 * the cookie's attributes, idle and absolute expiry, CSRF, lockout per account, per
 * known browser and per client address, sign-out (everywhere), disabling, the admin
 * routes and the audit trail.
 */
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../api/app.js';
import { createUser } from '../api/accounts.js';
import { createApiKey } from '../api/auth.js';
import { hashToken } from '../api/sessions.js';
import { createTestDatabase, testLog, type TestDatabase } from './helpers.js';

let db: TestDatabase;
let app: FastifyInstance;
let adminKey: string;
const PASSWORD = 'correct horse battery staple';

/** A browser: keeps the cookies the service sets, sends them back, and its CSRF token. */
class Browser {
  cookies = new Map<string, string>();
  csrf: string | null = null;
  constructor(readonly address = '127.0.0.1', readonly host = '127.0.0.1:3000') {}

  async call(method: string, url: string, body?: unknown, headers: Record<string, string> = {}): Promise<LightMyRequestResponse> {
    const res = await app.inject({
      method: method as 'GET', url, remoteAddress: this.address,
      headers: {
        host: this.host,
        ...(this.cookies.size ? { cookie: [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ') } : {}),
        ...(this.csrf && method !== 'GET' ? { 'x-csrf-token': this.csrf } : {}),
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...headers,
      },
      ...(body === undefined ? {} : { payload: JSON.stringify(body) }),
    });
    for (const c of res.cookies as { name: string; value: string; maxAge?: number }[]) {
      if (c.value === '' || c.maxAge === 0) this.cookies.delete(c.name);
      else this.cookies.set(c.name, c.value);
    }
    return res;
  }

  async signIn(username: string, password = PASSWORD): Promise<LightMyRequestResponse> {
    const res = await this.call('POST', '/api/v1/session', { username, password });
    if (res.statusCode === 200) this.csrf = res.json().csrfToken;
    return res;
  }
}

async function auditActions(target: string): Promise<string[]> {
  await app.inject({ method: 'GET', url: '/api/v1/audit?limit=1', headers: { authorization: `Bearer ${adminKey}` } }); // flushes the batch
  const { rows } = await db.pool.query<{ action: string }>('select action from audit_log where target = $1 order by id', [target]);
  return rows.map((r) => r.action);
}

beforeAll(async () => {
  db = await createTestDatabase();
  app = await buildApp({ pool: db.pool, log: testLog, version: 'test', status: async () => ({ database: { ok: true, embedded: false, timescale: false }, broker: { ok: true, embedded: false } }) });
  adminKey = (await createApiKey(db.pool, 'admin key', 'admin')).key;
});

afterAll(async () => {
  await app?.close();
  await db?.drop();
});

describe('password sign-in and sessions', () => {
  it('signs in and sets a __Host- session cookie that is HttpOnly, Secure and SameSite=Strict; the database holds only its hash', async () => {
    const user = await createUser(db.pool, { username: 'Anna', displayName: 'Anna Beispiel', role: 'technician', password: PASSWORD });
    expect(user.username).toBe('anna');
    const b = new Browser();
    const res = await b.signIn(' ANNA ');
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ user: { id: user.id, name: 'anna', displayName: 'Anna Beispiel', role: 'technician', via: 'password' } });
    const header = ([] as string[]).concat(res.headers['set-cookie'] as string | string[]).find((c) => c.startsWith('__Host-stadtfunk-session='))!;
    expect(header).toMatch(/; HttpOnly/);
    expect(header).toMatch(/; Secure/);
    expect(header).toMatch(/; SameSite=Strict/);
    expect(header).toMatch(/; Path=\//);
    expect(header).not.toMatch(/Domain=/);
    const token = b.cookies.get('__Host-stadtfunk-session')!;
    const { rows } = await db.pool.query<{ token_hash: Buffer }>('select token_hash from user_sessions where user_id = $1', [user.id]);
    expect(rows).toHaveLength(1);
    expect(rows[0]!.token_hash.equals(hashToken(token))).toBe(true);
    const dump = JSON.stringify((await db.pool.query('select * from user_sessions')).rows);
    expect(dump).not.toContain(token);
    // The same cookie in another tab: the session, without signing in again.
    const tab = new Browser();
    tab.cookies = new Map(b.cookies);
    const me = await tab.call('GET', '/api/v1/session');
    expect(me.json()).toMatchObject({ user: { name: 'anna', role: 'technician', via: 'password' }, csrfToken: b.csrf });
    expect((await tab.call('GET', '/api/v1/device-models')).statusCode).toBe(200);
    expect(await auditActions(user.id)).toContain('session.sign_in');
  });

  it('answers a wrong password and an unknown user alike, no sooner than a second, and audits both without the typed name of an unknown user', async () => {
    const b = new Browser('10.0.0.2');
    const t0 = Date.now();
    const wrong = await b.signIn('anna', 'not the password at all');
    const t1 = Date.now();
    const unknown = await b.signIn('my-secret-password-typed-in-the-name-field', PASSWORD);
    const t2 = Date.now();
    expect(wrong.statusCode).toBe(401);
    expect(unknown.statusCode).toBe(401);
    expect(wrong.json()).toEqual(unknown.json());
    expect(wrong.json().code).toBe('STADTFUNK_ERR_SIGN_IN_FAILED');
    expect(t1 - t0).toBeGreaterThanOrEqual(990);
    expect(t2 - t1).toBeGreaterThanOrEqual(990);
    await auditActions('x');
    const { rows } = await db.pool.query<{ actor: string; detail: { reason: string } }>(`select actor, detail from audit_log where action = 'session.sign_in_failed' order by id`);
    expect(rows.map((r) => [r.actor, r.detail.reason])).toEqual([['anna', 'wrong_password'], ['anonymous', 'unknown_user']]);
    expect(JSON.stringify((await db.pool.query('select * from audit_log')).rows)).not.toContain('my-secret-password');
    // A failure at the account is reset by the next correct password.
    expect((await b.signIn('anna')).statusCode).toBe(200);
    expect((await db.pool.query('select failed_sign_ins from users where username = $1', ['anna'])).rows[0].failed_sign_ins).toBe(0);
  });

  it('ends a session idle for longer than SESSION_IDLE_TIMEOUT_S, and one past its absolute age even if used', async () => {
    const b = new Browser();
    await b.signIn('anna');
    const hash = hashToken(b.cookies.get('__Host-stadtfunk-session')!);
    await db.pool.query(`update user_sessions set last_seen_at = now() - interval '59 minutes' where token_hash = $1`, [hash]);
    expect((await b.call('GET', '/api/v1/session')).json().user).not.toBeNull();
    // That use refreshed it (older than a minute): another 59 minutes later it still lives.
    const seen = (await db.pool.query(`select extract(epoch from now() - last_seen_at) as idle from user_sessions where token_hash = $1`, [hash])).rows[0].idle;
    expect(Number(seen)).toBeLessThan(5);
    await db.pool.query(`update user_sessions set last_seen_at = now() - interval '61 minutes' where token_hash = $1`, [hash]);
    const idle = await b.call('GET', '/api/v1/session');
    expect(idle.json().user).toBeNull();
    expect(b.cookies.has('__Host-stadtfunk-session')).toBe(false); // the dead cookie was cleared
    expect((await b.call('GET', '/api/v1/device-models')).statusCode).toBe(401);

    const c = new Browser();
    await c.signIn('anna');
    const hashC = hashToken(c.cookies.get('__Host-stadtfunk-session')!);
    const { rows } = await db.pool.query(`select extract(epoch from expires_at - created_at) as s from user_sessions where token_hash = $1`, [hashC]);
    expect(Math.round(Number(rows[0].s))).toBe(43_200);
    await db.pool.query(`update user_sessions set expires_at = now() - interval '1 second' where token_hash = $1`, [hashC]);
    expect((await c.call('GET', '/api/v1/device-models')).statusCode).toBe(401);
  });

  it('refuses a signed-in change without the CSRF token or from another origin; an API key needs neither', async () => {
    const b = new Browser();
    await b.signIn('anna');
    const asset = { id: 'lamp-csrf', kind: 'street_lamp', latitude: 51.2262, longitude: 6.7737 };
    const csrf = b.csrf;
    b.csrf = null;
    const missing = await b.call('POST', '/api/v1/assets', asset);
    expect(missing.statusCode).toBe(403);
    expect(missing.json().code).toBe('STADTFUNK_ERR_CSRF');
    b.csrf = 'A'.repeat(43);
    expect((await b.call('POST', '/api/v1/assets', asset)).json().code).toBe('STADTFUNK_ERR_CSRF');
    b.csrf = csrf;
    const foreign = await b.call('POST', '/api/v1/assets', asset, { origin: 'https://evil.example' });
    expect(foreign.statusCode).toBe(403);
    expect(foreign.json().code).toBe('STADTFUNK_ERR_CROSS_ORIGIN');
    expect((await b.call('POST', '/api/v1/assets', asset, { 'sec-fetch-site': 'cross-site' })).statusCode).toBe(403);
    expect(await db.pool.query(`select 1 from assets where id = 'lamp-csrf'`).then((r) => r.rowCount)).toBe(0);
    const ok = await b.call('POST', '/api/v1/assets', asset, { origin: 'http://127.0.0.1:3000', 'sec-fetch-site': 'same-origin' });
    expect(ok.statusCode).toBe(201);
    // An API key: no cookie, no token, no Origin check.
    const key = await app.inject({ method: 'POST', url: '/api/v1/assets', headers: { authorization: `Bearer ${adminKey}`, 'content-type': 'application/json', origin: 'https://script.example' }, payload: JSON.stringify({ ...asset, id: 'lamp-key' }) });
    expect(key.statusCode).toBe(201);
    // Sign-in itself is refused from another origin (login CSRF).
    const login = await new Browser().call('POST', '/api/v1/session', { username: 'anna', password: PASSWORD }, { origin: 'https://evil.example' });
    expect(login.statusCode).toBe(403);
  });

  it('works behind a TLS proxy (X-Forwarded-Proto) and refuses plain http elsewhere with a message that says why', async () => {
    const plain = await new Browser('192.0.2.10', 'stadtfunk.stadt.example').signIn('anna');
    expect(plain.statusCode).toBe(400);
    expect(plain.json()).toMatchObject({ code: 'STADTFUNK_ERR_NEEDS_HTTPS' });
    expect(plain.json().message).toMatch(/https/);
    const proxied = new Browser('192.0.2.10', 'stadtfunk.stadt.example');
    const res = await proxied.call('POST', '/api/v1/session', { username: 'anna', password: PASSWORD }, { 'x-forwarded-proto': 'https', origin: 'https://stadtfunk.stadt.example' });
    expect(res.statusCode).toBe(200);
    proxied.csrf = res.json().csrfToken;
    const change = await proxied.call('POST', '/api/v1/assets', { id: 'lamp-proxy', kind: 'street_lamp', latitude: 51.2262, longitude: 6.7737 }, { 'x-forwarded-proto': 'https', origin: 'https://stadtfunk.stadt.example' });
    expect(change.statusCode).toBe(201);
  });
});

describe('lockout', () => {
  it('locks an account after five wrong passwords for a minute, refuses even the right one meanwhile, and lets it in when the lock is over', async () => {
    const user = await createUser(db.pool, { username: 'bernd', role: 'operator', password: PASSWORD });
    const attacker = new Browser('203.0.113.7');
    const answers = await Promise.all(Array.from({ length: 5 }, (_, i) => attacker.signIn('bernd', `wrong password ${i}`)));
    // Taken before the check, even five at once: four plain failures and the one that locked.
    expect(answers.map((a) => a.statusCode).sort()).toEqual([401, 401, 401, 401, 429]);
    const locking = answers.find((a) => a.statusCode === 429)!;
    expect(locking.json().code).toBe('STADTFUNK_ERR_ACCOUNT_LOCKED');
    expect(Number(locking.headers['retry-after'])).toBeGreaterThan(50);
    expect(Number(locking.headers['retry-after'])).toBeLessThanOrEqual(60);
    const owner = new Browser('198.51.100.1');
    const refused = await owner.signIn('bernd');
    expect(refused.statusCode).toBe(429);
    expect(refused.json().message).toMatch(/locked for 1 minute/);
    expect(await auditActions(user.id)).toEqual(expect.arrayContaining(['session.sign_in_failed', 'session.locked']));
    // One more failure after the lock: the next lock is twice as long.
    await db.pool.query(`update users set locked_until = now() - interval '1 second' where id = $1`, [user.id]);
    const again = await attacker.signIn('bernd', 'still wrong');
    expect(again.statusCode).toBe(429);
    expect(Number(again.headers['retry-after'])).toBeGreaterThan(110);
    await db.pool.query(`update users set locked_until = now() - interval '1 second' where id = $1`, [user.id]);
    expect((await owner.signIn('bernd')).statusCode).toBe(200);
    expect((await db.pool.query('select failed_sign_ins, locked_until from users where id = $1', [user.id])).rows[0]).toEqual({ failed_sign_ins: 0, locked_until: null });
  });

  it('never locks a user out of a browser they signed in with before, until that browser fails five times itself', async () => {
    const user = await createUser(db.pool, { username: 'carla', role: 'technician', password: PASSWORD });
    const own = new Browser('198.51.100.2');
    expect((await own.signIn('carla')).statusCode).toBe(200);
    expect(own.cookies.get('__Host-stadtfunk-device')).toBeTruthy();
    const attacker = new Browser('203.0.113.8');
    for (let i = 0; i < 5; i++) await attacker.signIn('carla', `guess ${i}`);
    expect((await attacker.signIn('carla')).statusCode).toBe(429);
    expect((await own.signIn('carla')).statusCode).toBe(200);
    // ...which leaves the lock against the guesser where it was.
    const after = (await db.pool.query('select failed_sign_ins, locked_until > now() as locked from users where id = $1', [user.id])).rows[0];
    expect(after).toEqual({ failed_sign_ins: 5, locked: true });
    expect((await attacker.signIn('carla')).statusCode).toBe(429);
    // The known browser's own failures end its exemption: then the account's lock applies to it too
    // (made longer here so that a slow machine cannot outlast it while the five typos are hashed).
    for (let i = 0; i < 5; i++) expect((await own.signIn('carla', `typo ${i}`)).statusCode).toBe(401);
    await db.pool.query(`update users set locked_until = now() + interval '10 minutes' where id = $1`, [user.id]);
    expect((await own.signIn('carla')).statusCode).toBe(429);
    await db.pool.query(`update users set locked_until = null, failed_sign_ins = 0 where id = $1`, [user.id]);
  });

  it('refuses password sign-ins from a client address with 30 failures in 15 minutes, but not from a known browser there', async () => {
    await createUser(db.pool, { username: 'dora', role: 'technician', password: PASSWORD });
    const known = new Browser('192.0.2.99');
    expect((await known.signIn('dora')).statusCode).toBe(200);
    const stranger = new Browser('192.0.2.99');
    await stranger.signIn('nobody-here', 'x');
    await stranger.signIn('nobody-here', 'y');
    expect((await db.pool.query(`select failures from sign_in_failures where remote_addr = '192.0.2.99'`)).rows[0].failures).toBe(2);
    await db.pool.query(`update sign_in_failures set failures = 30 where remote_addr = '192.0.2.99'`);
    const blocked = await stranger.signIn('dora');
    expect(blocked.statusCode).toBe(429);
    expect(blocked.json().code).toBe('STADTFUNK_ERR_TOO_MANY_SIGN_INS');
    expect(Number(blocked.headers['retry-after'])).toBeGreaterThan(800);
    expect((await known.signIn('dora')).statusCode).toBe(200);
    // Another address is not affected; a new window starts when the old one is over.
    expect((await new Browser('192.0.2.100').signIn('dora')).statusCode).toBe(200);
    await db.pool.query(`update sign_in_failures set window_started_at = now() - interval '16 minutes' where remote_addr = '192.0.2.99'`);
    expect((await stranger.signIn('dora')).statusCode).toBe(200);
  });
});

describe('sign-out, disabling and the admin routes', () => {
  it('signs out one browser, and everywhere', async () => {
    const user = await createUser(db.pool, { username: 'emil', role: 'operator', password: PASSWORD });
    const [phone, desk, laptop] = [new Browser(), new Browser(), new Browser()];
    for (const b of [phone, desk, laptop]) expect((await b.signIn('emil')).statusCode).toBe(200);
    const csrf = phone.csrf;
    phone.csrf = null;
    expect((await phone.call('DELETE', '/api/v1/session')).statusCode).toBe(403); // sign-out needs the token too
    phone.csrf = csrf;
    expect((await phone.call('DELETE', '/api/v1/session')).statusCode).toBe(204);
    expect(phone.cookies.has('__Host-stadtfunk-session')).toBe(false);
    expect((await desk.call('GET', '/api/v1/session')).json().user).not.toBeNull();
    const everywhere = await desk.call('DELETE', '/api/v1/sessions');
    expect(everywhere.json()).toEqual({ ended: 2 });
    expect((await laptop.call('GET', '/api/v1/session')).json().user).toBeNull();
    expect((await laptop.call('GET', '/api/v1/live/zones')).statusCode).toBe(401);
    expect(await auditActions(user.id)).toEqual(expect.arrayContaining(['session.sign_in', 'session.sign_out', 'session.sign_out_everywhere']));
  });

  it('lets only admins manage users, never returns a password hash, ends the sessions of a disabled user and refuses their sign-in', async () => {
    const tech = new Browser();
    await tech.signIn('anna');
    expect((await tech.call('GET', '/api/v1/users')).statusCode).toBe(403);
    await createUser(db.pool, { username: 'root', role: 'admin', password: PASSWORD });
    const admin = new Browser();
    await admin.signIn('root');
    const weak = await admin.call('POST', '/api/v1/users', { username: 'fritz', role: 'technician', password: 'short' });
    expect(weak.statusCode).toBe(400);
    expect(weak.json().code).toBe('STADTFUNK_ERR_WEAK_PASSWORD');
    const created = await admin.call('POST', '/api/v1/users', { username: 'fritz', displayName: 'Fritz Feld', role: 'technician', password: PASSWORD });
    expect(created.statusCode).toBe(201);
    expect((await admin.call('POST', '/api/v1/users', { username: 'FRITZ', role: 'operator', password: PASSWORD })).statusCode).toBe(409);
    const list = await admin.call('GET', '/api/v1/users');
    expect(list.body).not.toMatch(/scrypt|password/i);
    expect(list.json().items.find((u: { username: string }) => u.username === 'fritz')).toMatchObject({ displayName: 'Fritz Feld', role: 'technician', source: 'local', disabled: false });
    const fritz = new Browser();
    expect((await fritz.signIn('fritz')).statusCode).toBe(200);
    const id = created.json().id;
    const disabled = await admin.call('PATCH', `/api/v1/users/${id}`, { disabled: true });
    expect(disabled.json()).toMatchObject({ disabled: true, sessions: 0 });
    expect((await fritz.call('GET', '/api/v1/session')).json().user).toBeNull();
    const refused = await new Browser().signIn('fritz');
    expect(refused.statusCode).toBe(403);
    expect(refused.json().code).toBe('STADTFUNK_ERR_USER_DISABLED');
    const self = await admin.call('PATCH', `/api/v1/users/${(await admin.call('GET', '/api/v1/session')).json().user.id}`, { disabled: true });
    expect(self.json().code).toBe('STADTFUNK_ERR_SELF_LOCKOUT');
    expect(await auditActions(id)).toEqual(expect.arrayContaining(['user.create', 'user.update', 'session.sign_in_failed']));
  });
});
