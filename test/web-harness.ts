/**
 * What the browser tests share: the service with a local tile server, API keys per role,
 * Debian's Chromium through playwright-core (never a downloaded browser), pages at phone
 * (390×844) and desktop (1440×900) size that record console errors, uncaught errors and
 * failed requests, axe-core with every rule, and screenshots.
 */
import { existsSync } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { createRequire } from 'node:module';
import mqtt, { type MqttClient } from 'mqtt';
import { chromium, type Browser, type BrowserContextOptions, type Page } from 'playwright-core';
import { inject } from 'vitest';
import { createApiKey } from '../api/auth.js';
import { startService, type Service } from '../service.js';
import { createTestDatabase, testConfig, testLog, uniqueName, type TestDatabase } from './helpers.js';
import { startTileServer, type TileServer } from './tile-server.js';

export const CHROMIUM = '/usr/bin/chromium';
export const hasBrowser = existsSync(CHROMIUM);
export const shots = path.resolve(import.meta.dirname, '..', 'test-results', 'screenshots');
const axeSource = createRequire(import.meta.url).resolve('axe-core/axe.min.js');
export const PHONE = { width: 390, height: 844 };
export const DESKTOP = { width: 1440, height: 900 };

export type Role = 'admin' | 'technician' | 'operator';

/** A page and what went wrong on it. */
export interface WatchedPage {
  page: Page;
  /** Console errors, uncaught exceptions and HTTP answers ≥ 400, minus those the test expects. */
  problems(): string[];
}

export class WebHarness {
  db!: TestDatabase;
  service!: Service;
  browser!: Browser;
  publisher!: MqttClient;
  tiles!: TileServer;
  prefix!: string;
  readonly keys: Partial<Record<Role, string>> = {};
  /** Contexts of closed pages, closing. */
  private readonly closing: Promise<unknown>[] = [];

  async start(prepare: (h: WebHarness) => Promise<void>): Promise<void> {
    this.db = await createTestDatabase();
    this.tiles = await startTileServer();
    const config = testConfig(this.db.url, { CITY_TILE_URL: `${this.tiles.url}/{z}/{x}/{y}.png`, CITY_TILE_ATTRIBUTION: 'test tiles' });
    this.prefix = config.ingest.chirpstackPrefix!;
    this.service = await startService(config, testLog);
    for (const role of ['admin', 'technician', 'operator'] as const) this.keys[role] = (await createApiKey(this.db.pool, `${role} web`, role)).key;
    this.publisher = await mqtt.connectAsync(inject('mqttUrl'), { clientId: uniqueName('web-pub-'), protocolVersion: inject('mqttProtocolVersion') });
    await fs.mkdir(shots, { recursive: true });
    this.browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'] });
    await prepare(this);
  }

  async stop(): Promise<void> {
    await Promise.all(this.closing);
    await this.browser?.close();
    await this.publisher?.endAsync();
    await this.service?.stop();
    await this.tiles?.close();
    await this.db?.drop();
  }

  /** Publishes a ChirpStack uplink as a network server would. */
  uplink(devEui: string, n: number, payload: Buffer, fPort: number, time = new Date(Date.now() - 1000 + n)): Promise<unknown> {
    return this.publisher.publishAsync(`${this.prefix}/app/device/${devEui}/event/up`, JSON.stringify({
      deduplicationId: uniqueName('web-'), time: time.toISOString(), deviceInfo: { devEui }, fCnt: n, fPort, data: payload.toString('base64'),
      rxInfo: [{ gatewayId: '0016c001f1500001', rssi: -97, snr: 4.5 }],
    }), { qos: 1 });
  }

  /**
   * Opens a view. `expect` lists the problems this test provokes on purpose (e.g. a 403
   * it asserts is shown): anything else on the console fails the test via problems().
   */
  async open(view: string, role: Role | null, size = DESKTOP, options: { lang?: 'de' | 'en'; expect?: RegExp[]; context?: BrowserContextOptions; init?: () => void } = {}): Promise<WatchedPage> {
    const context = await this.browser.newContext({ viewport: size, acceptDownloads: true, locale: options.lang === 'de' ? 'de-DE' : 'en-GB', ...options.context });
    const page = await context.newPage();
    const problems: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error') problems.push(`console: ${m.text()}`);
    });
    page.on('pageerror', (e) => problems.push(`uncaught: ${e.message}`));
    page.on('response', (r) => {
      if (r.status() >= 400) problems.push(`HTTP ${r.status()} ${r.url()}`);
    });
    // Leaflet cancels the tiles it no longer needs when the map moves (net::ERR_ABORTED): not a failure.
    page.on('requestfailed', (r) => {
      if (r.failure()?.errorText !== 'net::ERR_ABORTED') problems.push(`failed: ${r.url()} ${r.failure()?.errorText ?? ''}`);
    });
    // Awaited in stop(): a context still closing when the browser closes rejects "Target page, context or browser has been closed", unhandled.
    page.on('close', () => this.closing.push(context.close().catch(() => undefined)));
    await page.addInitScript(({ key, lang }) => {
      if (key) sessionStorage.setItem('stadtfunk.key', key);
      if (lang) localStorage.setItem('stadtfunk.lang', lang);
    }, { key: role ? this.keys[role]! : null, lang: options.lang ?? null });
    if (options.init) await page.addInitScript(options.init);
    await page.goto(`${this.service.httpUrl}/app/#/${view}`);
    const expected = options.expect ?? [];
    return { page, problems: () => problems.filter((p) => !expected.some((e) => e.test(p))) };
  }

  /** axe-core, every rule (link-in-text-block included); the violations' ids and where. */
  async axe(page: Page): Promise<string[]> {
    await page.addScriptTag({ path: axeSource });
    const result = await page.evaluate(async () => (globalThis as unknown as { axe: { run(): Promise<{ violations: { id: string; nodes: { target: string[] }[] }[] }> } }).axe.run());
    return result.violations.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).slice(0, 3).join(', ')}`);
  }

  async screenshot(page: Page, name: string): Promise<void> {
    await page.screenshot({ path: path.join(shots, `${name}.png`), fullPage: true });
  }
}
