/**
 * OpenID Connect sign-in in a real browser against a real provider (test/oidc-provider.ts):
 * the authorization code flow with PKCE through the provider's own pages, group → role
 * mapping, a user without a mapped group refused with a message, a tampered state and a
 * tampered nonce refused, a replayed callback refused, a disabled user refused.
 */
import { existsSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../api/app.js';
import { loadConfig } from '../config.js';
import { freePort } from '../bench/free-port.js';
import { startOidcProvider, type RunningProvider } from './oidc-provider.js';
import { createTestDatabase, testLog, type TestDatabase } from './helpers.js';

const CHROMIUM = '/usr/bin/chromium';
const hasBrowser = existsSync(CHROMIUM);
if (!hasBrowser) console.warn(`SKIPPED OpenID Connect browser tests: ${CHROMIUM} is not installed (apt-get install chromium)`);

describe.skipIf(!hasBrowser)('OpenID Connect sign-in in Chromium against oidc-provider', () => {
  let db: TestDatabase;
  let app: FastifyInstance;
  let idp: RunningProvider;
  let browser: Browser;
  let base: string;

  beforeAll(async () => {
    db = await createTestDatabase();
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    idp = await startOidcProvider({
      redirectUri: `${base}/api/v1/auth/oidc/callback`,
      accounts: {
        anna: { name: 'Anna Beispiel', preferred_username: 'anna.beispiel', email: 'anna@stadt.example', groups: ['everyone', '/stadtfunk/technik'] },
        lea: { name: 'Lea Leitstelle', preferred_username: 'lea', email: 'lea@stadt.example', groups: ['/stadtfunk/leitstelle', '/stadtfunk/admins'] },
        otto: { name: 'Otto Other', preferred_username: 'otto', email: 'otto@stadt.example', groups: ['everyone', 'kaemmerei'] },
      },
    });
    const config = loadConfig({
      OIDC_ISSUER_URL: idp.issuer, OIDC_CLIENT_ID: idp.clientId, OIDC_CLIENT_SECRET: idp.clientSecret,
      OIDC_REDIRECT_URL: `${base}/api/v1/auth/oidc/callback`, OIDC_SCOPES: 'openid profile email groups',
      OIDC_ROLE_MAP: '/stadtfunk/admins=admin,/stadtfunk/technik=technician,/stadtfunk/leitstelle=operator', OIDC_DISPLAY_NAME: 'Stadt-Login',
    });
    app = await buildApp({ pool: db.pool, log: testLog, version: 'test', auth: config.auth, status: async () => ({ database: { ok: true, embedded: false, timescale: false }, broker: { ok: true, embedded: false } }) });
    await app.listen({ host: '127.0.0.1', port });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'] });
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await app?.close();
    await idp?.close();
    await db?.drop();
  });

  async function auditOf(reason: string): Promise<Record<string, unknown>[]> {
    await app.inject({ method: 'GET', url: '/api/v1/session' });
    await new Promise((r) => setTimeout(r, 250)); // the audit log writes in batches of 100 ms
    const { rows } = await db.pool.query(`select actor, action, detail from audit_log where detail->>'reason' = $1 or ($1 = 'success' and action = 'session.sign_in') order by id`, [reason]);
    return rows;
  }

  /** Starts sign-in and walks through the provider's login and consent pages as `login`. */
  async function signInAtProvider(page: Page, login: string, returnTo = '/app/#/tech'): Promise<void> {
    await page.goto(`${base}/api/v1/auth/oidc/start?returnTo=${encodeURIComponent(returnTo)}`);
    await loginAndConsent(page, login);
  }

  async function loginAndConsent(page: Page, login: string): Promise<void> {
    await page.waitForURL((u) => u.host === new URL(idp.issuer).host);
    await page.fill('input[name="login"]', login);
    await page.fill('input[name="password"]', 'any password the dev login accepts');
    await page.click('button[type="submit"]');
    // Consent on the first sign-in of this account in this browser.
    const consent = page.locator('button[type="submit"]', { hasText: /continue/i });
    await Promise.race([page.waitForURL((u) => u.origin === base), consent.waitFor().then(() => consent.click())]);
    await page.waitForURL((u) => u.origin === base);
  }

  const session = async (context: BrowserContext) => (await context.request.get(`${base}/api/v1/session`)).json();

  it('signs a technician in through the provider and maps the group to the role; the session holds in a new tab', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await signInAtProvider(page, 'anna');
    expect(page.url()).toBe(`${base}/app/#/tech`);
    const cookies = await context.cookies(base);
    const cookie = cookies.find((c) => c.name === '__Host-stadtfunk-session')!;
    expect(cookie).toMatchObject({ httpOnly: true, secure: true, sameSite: 'Strict', path: '/' });
    expect(cookies.find((c) => c.name === '__Host-stadtfunk-oidc')).toBeUndefined(); // the flow cookie is gone
    const tab = await context.newPage();
    await tab.goto(`${base}/app/`);
    expect(await session(context)).toMatchObject({ user: { name: 'anna.beispiel', displayName: 'Anna Beispiel', role: 'technician', via: 'oidc' } });
    expect((await context.request.get(`${base}/api/v1/device-models`)).status()).toBe(200);
    expect((await context.request.get(`${base}/api/v1/users`)).status()).toBe(403);
    const { rows } = await db.pool.query(`select role, oidc_username, oidc_issuer, display_name from users where oidc_subject = 'anna'`);
    expect(rows).toEqual([{ role: 'technician', oidc_username: 'anna.beispiel', oidc_issuer: idp.issuer, display_name: 'Anna Beispiel' }]);
    expect((await auditOf('success')).map((r) => r.actor)).toContain('anna.beispiel');
    await context.close();
  });

  it('gives the first mapped group\'s role (admin before operator)', async () => {
    const context = await browser.newContext();
    await signInAtProvider(await context.newPage(), 'lea');
    expect(await session(context)).toMatchObject({ user: { name: 'lea', role: 'admin', via: 'oidc' } });
    await context.close();
  });

  it('refuses a user in no mapped group: no session, no user row, a reason for the page, an audit entry with the groups', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await signInAtProvider(page, 'otto');
    expect(page.url()).toBe(`${base}/app/#/signin?error=oidc_no_role`);
    expect((await session(context)).user).toBeNull();
    expect((await db.pool.query(`select 1 from users where oidc_subject = 'otto'`)).rowCount).toBe(0);
    const [entry] = await auditOf('no_mapped_group');
    expect(entry).toMatchObject({ actor: 'otto', action: 'session.sign_in_failed', detail: { groups: ['everyone', 'kaemmerei'] } });
    await context.close();
  });

  it('refuses a callback whose state was changed on the way back', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    // The provider answers the consent form with a chain of redirects ending at the callback;
    // Playwright routes only the first, so the chain is followed by hand (with the browser's
    // cookies) and its end handed to the browser with another state.
    await page.route((u) => u.origin === idp.issuer && u.pathname.startsWith('/interaction/'), async (route) => {
      if (route.request().method() !== 'POST' || !/prompt=consent/.test(route.request().postData() ?? '')) return route.continue();
      let response = await route.fetch({ maxRedirects: 0 });
      let next = new URL(response.headers().location!, idp.issuer);
      while (next.origin === idp.issuer) {
        response = await context.request.get(next.href, { maxRedirects: 0 });
        next = new URL(response.headers().location!, idp.issuer);
      }
      expect(next.pathname).toBe('/api/v1/auth/oidc/callback');
      next.searchParams.set('state', `${next.searchParams.get('state')}x`);
      return route.fulfill({ status: 303, headers: { location: next.href } });
    });
    await signInAtProvider(page, 'anna');
    expect(page.url()).toBe(`${base}/app/#/signin?error=oidc_failed`);
    expect((await session(context)).user).toBeNull();
    const entries = await auditOf('invalid_response');
    expect(entries.at(-1)!.detail).toMatchObject({ message: expect.stringMatching(/state/) });
    await context.close();
  });

  it('refuses an ID token whose nonce is not the one this browser\'s sign-in sent', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    // Playwright routes only the first request of a redirect chain, so the start's redirect is
    // taken by hand (with the browser's cookies) and the authorization request reaches the
    // provider with another nonce: the ID token then carries that one.
    const start = await context.request.get(`${base}/api/v1/auth/oidc/start?returnTo=${encodeURIComponent('/app/#/tech')}`, { maxRedirects: 0 });
    expect(start.status()).toBe(303);
    expect((await context.cookies(base)).map((c) => c.name)).toContain('__Host-stadtfunk-oidc');
    const authorize = new URL(start.headers().location!);
    expect(authorize.searchParams.get('code_challenge_method')).toBe('S256');
    authorize.searchParams.set('nonce', 'a-nonce-an-attacker-chose');
    await page.goto(authorize.href);
    await loginAndConsent(page, 'anna');
    expect(page.url()).toBe(`${base}/app/#/signin?error=oidc_failed`);
    expect((await session(context)).user).toBeNull();
    expect((await auditOf('invalid_response')).at(-1)!.detail).toMatchObject({ message: expect.stringMatching(/nonce/) });
    await context.close();
  });

  it('completes a callback only once, and only in the browser that started it', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    let callback = '';
    page.on('request', (r) => {
      if (r.url().startsWith(`${base}/api/v1/auth/oidc/callback`)) callback = r.url();
    });
    await signInAtProvider(page, 'anna');
    expect((await session(context)).user).not.toBeNull();
    const other = await browser.newContext();
    const stolen = await other.newPage();
    await stolen.goto(callback);
    expect(stolen.url()).toBe(`${base}/app/#/signin?error=oidc_expired`);
    expect((await session(other)).user).toBeNull();
    await other.close();
    await context.close();
  });

  it('refuses a user an admin disabled, even though the provider still vouches for them', async () => {
    await db.pool.query(`update users set disabled_at = now() where oidc_subject = 'anna'`);
    const context = await browser.newContext();
    const page = await context.newPage();
    await signInAtProvider(page, 'anna');
    expect(page.url()).toBe(`${base}/app/#/signin?error=oidc_disabled`);
    expect((await session(context)).user).toBeNull();
    await db.pool.query(`update users set disabled_at = null where oidc_subject = 'anna'`);
    await context.close();
  });
});
