/**
 * Sign-in in the web app, in Debian's Chromium: a local account on a view that needs it
 * (and the session in a new tab), the identity provider's button (a real oidc-provider),
 * the message for a user in no mapped group, the lockout message, sign-out and sign-out
 * everywhere, the admin's users view. The sign-in page, the open user menu and the users
 * view are checked with axe-core (every rule, link-in-text-block included) at 390×844 and
 * 1440×900, photographed, and must log no console error.
 */
import { existsSync } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { createRequire } from 'node:module';
import type { FastifyInstance } from 'fastify';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { buildApp } from '../api/app.js';
import { createUser } from '../api/accounts.js';
import { loadConfig } from '../config.js';
import { freePort } from '../bench/free-port.js';
import { startOidcProvider, type RunningProvider } from './oidc-provider.js';
import { createTestDatabase, testLog, type TestDatabase } from './helpers.js';

const CHROMIUM = '/usr/bin/chromium';
const hasBrowser = existsSync(CHROMIUM);
if (!hasBrowser) console.warn(`SKIPPED sign-in browser tests: ${CHROMIUM} is not installed (apt-get install chromium)`);
const shots = path.resolve(import.meta.dirname, '..', 'test-results', 'screenshots');
const axeSource = createRequire(import.meta.url).resolve('axe-core/axe.min.js');
const PASSWORD = 'Pflaster-Strand-1848';
const SIZES = [['phone', 390, 844], ['desktop', 1440, 900]] as const;
/** A 1×1 transparent PNG. */
const BLANK_TILE = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==', 'base64');

describe.skipIf(!hasBrowser)('sign-in in the web app (Chromium)', () => {
  let db: TestDatabase;
  let app: FastifyInstance;
  let idp: RunningProvider;
  let browser: Browser;
  let base: string;
  /** Console errors and uncaught exceptions per page, checked after each test. */
  const problems: string[] = [];

  beforeAll(async () => {
    db = await createTestDatabase();
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    idp = await startOidcProvider({
      redirectUri: `${base}/api/v1/auth/oidc/callback`,
      accounts: {
        anna: { name: 'Anna Beispiel', preferred_username: 'anna.beispiel', email: 'anna@stadt.example', groups: ['/stadtfunk/technik'] },
        otto: { name: 'Otto Other', preferred_username: 'otto', email: 'otto@stadt.example', groups: ['kaemmerei'] },
      },
    });
    const config = loadConfig({
      OIDC_ISSUER_URL: idp.issuer, OIDC_CLIENT_ID: idp.clientId, OIDC_CLIENT_SECRET: idp.clientSecret,
      OIDC_REDIRECT_URL: `${base}/api/v1/auth/oidc/callback`, OIDC_SCOPES: 'openid profile email groups',
      OIDC_ROLE_MAP: '/stadtfunk/admins=admin,/stadtfunk/technik=technician', OIDC_DISPLAY_NAME: 'Stadt-Login',
    });
    app = await buildApp({ pool: db.pool, log: testLog, version: 'test', auth: config.auth, status: async () => ({ database: { ok: true, embedded: false, timescale: false }, broker: { ok: true, embedded: false } }) });
    await app.listen({ host: '127.0.0.1', port });
    await createUser(db.pool, { username: 'tina', displayName: 'Tina Technik', role: 'technician', password: PASSWORD });
    await createUser(db.pool, { username: 'admin', displayName: 'Ada Admin', role: 'admin', password: PASSWORD });
    await createUser(db.pool, { username: 'lars', displayName: 'Lars Leitstelle', role: 'operator', password: PASSWORD });
    await fs.mkdir(shots, { recursive: true });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'] });
  }, 120_000);

  beforeEach(() => {
    problems.length = 0;
  });

  afterAll(async () => {
    await browser?.close();
    await app?.close();
    await idp?.close();
    await db?.drop();
  });

  async function newContext(width = 1440, height = 900, language = 'de'): Promise<BrowserContext> {
    const context = await browser.newContext({ viewport: { width, height }, locale: language === 'de' ? 'de-DE' : 'en-GB' });
    await context.addInitScript((l) => localStorage.setItem('stadtfunk.lang', l), language);
    // The views behind sign-in draw maps; this machine cannot reach the tile server, so tiles come blank from here.
    await context.route((u) => u.hostname.endsWith('tile.openstreetmap.org'), (route) => route.fulfill({ status: 200, contentType: 'image/png', body: BLANK_TILE }));
    // oidc-provider's development login pages import a web font from Google, out of reach here too.
    await context.route((u) => u.hostname === 'fonts.googleapis.com', (route) => route.fulfill({ status: 200, contentType: 'text/css', body: '' }));
    return context;
  }

  /** A page whose console errors and uncaught exceptions are collected; `allow` lists expected failed requests. */
  async function open(context: BrowserContext, hash: string, allow: RegExp | null = null): Promise<Page> {
    const page = await context.newPage();
    page.on('console', (m) => {
      if (m.type() === 'error' && !(allow && allow.test(m.text()))) problems.push(`${hash}: ${m.text()}`);
    });
    page.on('pageerror', (e) => problems.push(`${hash}: uncaught ${e.message}`));
    await page.goto(`${base}/app/${hash}`);
    return page;
  }

  async function axe(page: Page): Promise<{ id: string; impact: string; nodes: string[] }[]> {
    await page.addScriptTag({ path: axeSource });
    const result = await page.evaluate(async () => (globalThis as unknown as { axe: { run(c: unknown, o: unknown): Promise<{ violations: { id: string; impact: string; nodes: { target: string[] }[] }[] }> } })
      .axe.run((globalThis as unknown as { document: unknown }).document, { rules: { 'link-in-text-block': { enabled: true } } }));
    return result.violations.map((v) => ({ id: v.id, impact: v.impact, nodes: v.nodes.map((n) => n.target.join(' ')) }));
  }

  async function signInWithPassword(page: Page, username: string, password = PASSWORD): Promise<void> {
    await page.getByLabel(/^(Benutzername|User name)$/).fill(username);
    await page.getByLabel(/^(Passwort|Password)$/).fill(password);
    await page.getByRole('button', { name: /^(Anmelden|Sign in)$/ }).click();
  }

  it('signs in with user name and password where a view needs it; a new tab keeps the session', async () => {
    const context = await newContext(390, 844);
    const page = await open(context, '#/tech');
    await page.getByText('Für diese Ansicht müssen Sie angemeldet sein.').waitFor();
    await signInWithPassword(page, 'Tina');
    await page.locator('#qr').waitFor();
    await page.getByRole('button', { name: /^Benutzermenü: Tina Technik, Technik$/ }).waitFor();
    const tab = await open(context, '#/tech');
    await tab.locator('#qr').waitFor();
    expect(await tab.getByLabel(/^Benutzername$/).count()).toBe(0);
    expect(await tab.evaluate(() => (globalThis as unknown as { document: { cookie: string } }).document.cookie)).toBe(''); // HttpOnly: no script sees the session
    await context.close();
    expect(problems).toEqual([]);
  });

  it('signs in through the identity provider with the sign-in page\'s button and returns to the view', async () => {
    const context = await newContext();
    const page = await open(context, '#/signin?next=%23%2Ftech');
    await page.getByRole('link', { name: 'Anmelden mit Stadt-Login' }).click();
    await page.waitForURL((u) => u.origin === idp.issuer);
    await page.fill('input[name="login"]', 'anna');
    await page.fill('input[name="password"]', 'any');
    await page.click('button[type="submit"]');
    await page.locator('button[type="submit"]', { hasText: /continue/i }).click();
    await page.waitForURL(`${base}/app/#/tech`);
    await page.locator('#qr').waitFor();
    await page.getByRole('button', { name: /^Benutzermenü: Anna Beispiel, Technik$/ }).waitFor();
    await context.close();
    expect(problems).toEqual([]);
  });

  it('tells a user in no mapped group why the identity provider\'s sign-in did not let them in', async () => {
    for (const [language, text] of [['de', /gehört zu keiner Gruppe, die Zugang zu stadtfunk gibt/], ['en', /is in none of the groups that give access to stadtfunk/]] as const) {
      const context = await newContext(1440, 900, language);
      const page = await open(context, '#/signin');
      await page.getByRole('link', { name: /Stadt-Login/ }).click();
      await page.fill('input[name="login"]', 'otto');
      await page.fill('input[name="password"]', 'any');
      await page.click('button[type="submit"]');
      await page.locator('button[type="submit"]', { hasText: /continue/i }).click();
      await page.waitForURL(`${base}/app/#/signin?error=oidc_no_role`);
      await page.getByRole('alert').filter({ hasText: text }).waitFor();
      expect(await page.getByRole('alert').textContent()).toContain('Stadt-Login');
      await page.screenshot({ path: path.join(shots, `signin-no-role-${language}.png`) });
      await context.close();
    }
    expect(problems).toEqual([]);
  });

  it('shows the lockout message after five wrong passwords', async () => {
    const context = await newContext(390, 844);
    // The wrong passwords' 401 and the lock's 429 are expected answers, which Chromium logs as failed loads.
    const page = await open(context, '#/signin', /the server responded with a status of (401|429)/);
    for (let i = 0; i < 4; i++) {
      await signInWithPassword(page, 'lars', `falsch-${i}-falsch-falsch`);
      await page.getByRole('alert').filter({ hasText: 'Benutzername oder Passwort ist falsch.' }).waitFor();
      await page.getByRole('button', { name: 'Anmelden', exact: true }).and(page.locator(':enabled')).waitFor();
    }
    await signInWithPassword(page, 'lars', 'noch-einmal-falsch');
    await page.getByRole('alert').filter({ hasText: /Zu viele Fehlversuche: Das Konto ist für 1 Min\. gesperrt/ }).waitFor();
    await page.screenshot({ path: path.join(shots, 'signin-locked-phone.png') });
    await signInWithPassword(page, 'lars');
    await page.getByRole('alert').filter({ hasText: /gesperrt/ }).waitFor();
    expect(await page.locator('#qr').count()).toBe(0);
    await db.pool.query(`update users set locked_until = null, failed_sign_ins = 0 where username = 'lars'`);
    await context.close();
    expect(problems).toEqual([]);
  });

  it('signs out one browser from the user menu, and everywhere', async () => {
    const [phone, desk, laptop] = [await newContext(390, 844), await newContext(), await newContext()];
    const pages: Page[] = [];
    for (const context of [phone, desk, laptop]) {
      const page = await open(context, '#/signin?next=%23%2Ftech');
      await signInWithPassword(page, 'tina');
      await page.locator('#qr').waitFor();
      pages.push(page);
    }
    const [phonePage, deskPage, laptopPage] = pages as [Page, Page, Page];
    await phonePage.getByRole('button', { name: /Benutzermenü/ }).click();
    await phonePage.getByRole('button', { name: 'Abmelden', exact: true }).click();
    await phonePage.waitForURL(`${base}/app/#/signin`);
    await phonePage.getByRole('link', { name: 'Anmelden', exact: true }).waitFor();
    await deskPage.reload();
    await deskPage.locator('#qr').waitFor(); // the others stay signed in
    await deskPage.getByRole('button', { name: /Benutzermenü/ }).click();
    await deskPage.getByRole('button', { name: 'Überall abmelden' }).click();
    await deskPage.waitForURL(`${base}/app/#/signin`);
    await laptopPage.reload();
    await laptopPage.getByText('Für diese Ansicht müssen Sie angemeldet sein.').waitFor();
    for (const c of [phone, desk, laptop]) await c.close();
    expect(problems).toEqual([]);
  });

  it('lets an admin create a user and disable them in the users view', async () => {
    const context = await newContext();
    const page = await open(context, '#/users');
    await signInWithPassword(page, 'admin');
    await page.getByRole('heading', { name: 'Benutzer anlegen' }).waitFor();
    await page.getByLabel('Benutzername', { exact: true }).fill('neu.technik');
    await page.getByLabel('Name', { exact: true }).fill('Neu Technik');
    await page.getByLabel('Rolle').selectOption('technician');
    await page.getByLabel('Anfangspasswort').fill('ein-gutes-anfangspasswort');
    await page.getByRole('button', { name: 'Anlegen' }).click();
    await page.getByTestId('users-status').filter({ hasText: 'Benutzer neu.technik angelegt.' }).waitFor();
    const row = page.locator('tr[data-user="neu.technik"]');
    await row.getByRole('button', { name: 'Sperren' }).click();
    await row.locator('[data-state="disabled"]').waitFor();
    expect((await db.pool.query(`select disabled_at is not null as disabled from users where username = 'neu.technik'`)).rows[0].disabled).toBe(true);
    expect(await page.locator('tr[data-user="admin"] button', { hasText: 'Sperren' }).count()).toBe(0); // not oneself
    await context.close();
    expect(problems).toEqual([]);
  });

  it('has no axe violations on the sign-in page, the open user menu and the users view, at phone and desktop width', async () => {
    for (const [name, width, height] of SIZES) {
      const context = await newContext(width, height);
      // The users view has no map: the checks here are about sign-in's own parts.
      const page = await open(context, '#/signin?next=%23%2Fusers');
      await page.getByRole('link', { name: /Stadt-Login/ }).waitFor();
      await page.locator('details.signin-machines summary').click(); // the key field too
      expect(await axe(page)).toEqual([]);
      await page.screenshot({ path: path.join(shots, `signin-${name}.png`), fullPage: true });
      await signInWithPassword(page, 'admin');
      await page.locator('tr[data-user="admin"]').waitFor();
      expect(await axe(page)).toEqual([]);
      await page.screenshot({ path: path.join(shots, `users-${name}.png`), fullPage: true });
      await page.getByRole('button', { name: /Benutzermenü/ }).click();
      await page.getByRole('link', { name: 'Benutzer' }).waitFor();
      expect(await axe(page)).toEqual([]);
      await page.screenshot({ path: path.join(shots, `user-menu-${name}.png`) });
      await context.close();
    }
    expect(problems).toEqual([]);
  });
});
