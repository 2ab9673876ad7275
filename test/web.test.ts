/**
 * The web app in a real browser (Debian's chromium via playwright-core): a technician
 * registers a device by typed QR string and sees its uplink arrive; traffic control sees
 * a bay turn occupied without reload; the explorer downloads a CSV; the cockpit shows a
 * dead letter and its history. Every view at phone (390×844) and desktop (1440×900) width:
 * axe-core with no violation at all, no console error, a screenshot. test/web-issue25.test.ts
 * has one test per bug of issue 25.
 */
import fs from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeAir, encodeParking } from '../decoders/index.js';
import { upsertAsset, upsertDevice, upsertDeviceModel } from '../storage/index.js';
import { eventually } from './helpers.js';
import { DESKTOP, hasBrowser, PHONE, WebHarness, CHROMIUM, type Role } from './web-harness.js';

if (!hasBrowser) console.warn(`SKIPPED web app browser tests: ${CHROMIUM} is not installed (apt-get install chromium)`);

export const airPayload = (battery = 3.6) => encodeAir({ pm1: 5, pm2_5: 8.5, pm10: 14, no2: 20, co2: 420, temperature: 6.5, relative_humidity: 80, pressure: 1012, noise: 50, battery_voltage: battery });

describe.skipIf(!hasBrowser)('web app in headless Chromium', () => {
  const h = new WebHarness();

  beforeAll(async () => {
    await h.start(async ({ db }) => {
      await upsertDeviceModel(db.pool, { id: 'air-v1', name: 'Lamp air sensor', decoderKind: 'builtin', builtinName: 'stadtfunk-air', expectedIntervalS: 300, batteryLowVolts: 3.1 });
      await upsertDeviceModel(db.pool, { id: 'bay-v1', name: 'Parking bay sensor', decoderKind: 'builtin', builtinName: 'stadtfunk-parking', expectedIntervalS: 120 });
      await upsertAsset(db.pool, { id: 'lamp-0815', kind: 'street_lamp', latitude: 51.2262, longitude: 6.7737, zone: 'altstadt', isPublic: true });
      await upsertAsset(db.pool, { id: 'bay-001', kind: 'parking_bay', latitude: 51.2264, longitude: 6.774, zone: 'altstadt' });
      await upsertDevice(db.pool, { devEui: '00000000000000e2', modelId: 'bay-v1', assetId: 'bay-001' });
      await upsertAsset(db.pool, { id: 'lamp-0900', kind: 'street_lamp', latitude: 51.227, longitude: 6.776, zone: 'altstadt', isPublic: true });
      await upsertDevice(db.pool, { devEui: '00000000000000e3', modelId: 'air-v1', assetId: 'lamp-0900' });
    });
  }, 120_000);

  afterAll(() => h.stop());

  /** Both widths: axe clean, nothing on the console, a screenshot to look at. */
  async function everyWidth(view: string, role: Role | null, ready: string, act?: (page: import('playwright-core').Page) => Promise<void>): Promise<void> {
    for (const [name, size] of [['phone', PHONE], ['desktop', DESKTOP]] as const) {
      const { page, problems } = await h.open(view, role, size);
      await page.locator(ready).first().waitFor();
      await act?.(page);
      // Not 'networkidle': traffic control keeps its event stream open.
      if (view !== 'ops') await page.locator('.leaflet-tile-loaded').first().waitFor();
      expect(await h.axe(page), `${view} at ${name}`).toEqual([]);
      await h.screenshot(page, `${view}-${name}`);
      expect(problems(), `${view} at ${name}`).toEqual([]);
      await page.close();
    }
  }

  it('technician registers a device by typed QR string and sees its first uplink arrive', async () => {
    const { page, problems } = await h.open('tech', 'technician', PHONE);
    await page.fill('#qr', 'LW:D0:0016C001FFFE0001:0016C001FF1000AB:A1B20002:SSN-4711');
    await page.selectOption('#model', 'air-v1');
    await page.fill('#existing', 'lamp-0815');
    await page.getByRole('button', { name: /Speichern|Save/ }).click();
    await page.getByRole('heading', { name: /0016c001ff1000ab/ }).waitFor();
    expect(await page.getByTestId('last-seen').textContent()).toMatch(/noch nie|never/);
    await h.uplink('0016c001ff1000ab', 1, airPayload(), 10);
    await page.getByTestId('last-seen').filter({ hasNotText: /noch nie|never/ }).waitFor({ timeout: 15_000 });
    expect(await page.locator('tr[data-metric="pm2_5"] th').textContent()).toBe('Particulate matter PM2.5');
    expect(await page.locator('tr[data-metric="pm2_5"] td').textContent()).toBe('8.5 µg/m³');
    expect(await h.axe(page)).toEqual([]);
    expect(problems()).toEqual([]);
    await page.close();
    await everyWidth('tech', 'technician', '#qr', async (page) => {
      await page.locator('.leaflet-interactive[data-asset="lamp-0815"]').waitFor();
    });
  });

  it('traffic control sees a bay turn occupied without reloading', async () => {
    await h.uplink('00000000000000e2', 1, encodeParking({ kind: 'bay', occupied: false, fault: false, battery_voltage: 3.5 }), 11);
    await eventually(async () => ((await h.db.pool.query("select 1 from latest_state where dev_eui = '00000000000000e2'")).rowCount === 1) || undefined);
    const { page, problems } = await h.open('control', 'operator');
    await page.getByText('● live').waitFor({ timeout: 15_000 });
    await page.getByRole('button', { name: /Liste|List/ }).click();
    await page.locator('[data-asset="bay-001"] [data-state="free"]').waitFor();
    const navigations: string[] = [];
    page.on('framenavigated', (f) => navigations.push(f.url()));
    await h.uplink('00000000000000e2', 2, encodeParking({ kind: 'bay', occupied: true, fault: false, battery_voltage: 3.5 }), 11);
    await page.locator('[data-asset="bay-001"] [data-state="occupied"]').waitFor({ timeout: 10_000 });
    expect(navigations).toEqual([]);
    expect(await h.axe(page)).toEqual([]);
    expect(problems()).toEqual([]);
    await page.close();
    await everyWidth('control', 'operator', '[data-testid="legend"]', async (page) => {
      await page.getByText('● live').waitFor({ timeout: 15_000 });
    });
  });

  it('the explorer shows a chart and downloads a CSV, with licence and the API URL', async () => {
    await h.uplink('00000000000000e3', 1, airPayload(), 10);
    await eventually(async () => ((await h.db.pool.query("select 1 from latest_state where dev_eui = '00000000000000e3'")).rowCount === 1) || undefined);
    const { page, problems } = await h.open('explore', null);
    await page.getByRole('button', { name: 'lamp-0900' }).click();
    await page.locator('[data-testid="chart"] canvas').waitFor();
    expect(await page.getByText('dl-de/by-2-0').count()).toBeGreaterThan(0);
    expect(await page.locator('code', { hasText: '/api/v1/open/assets/lamp-0900/series' }).count()).toBe(1);
    const [download] = await Promise.all([page.waitForEvent('download'), page.locator('a[data-format="csv"]').click()]);
    const csv = await fs.readFile((await download.path())!, 'utf8');
    expect(csv.split('\r\n')[0]).toBe('time,asset,metric,channel,unit,value,min,max,count');
    expect(csv).toContain('lamp-0900,pm2_5,,ug/m3,8.5');
    expect(await h.axe(page)).toEqual([]);
    expect(problems()).toEqual([]);
    await page.close();
    await everyWidth('explore', null, 'ul.sensors li', async (page) => {
      await page.locator('ul.sensors button', { hasText: 'lamp-0900' }).click();
      await page.locator('[data-testid="chart"] canvas').waitFor();
    });
  });

  it('the cockpit shows a dead letter with its raw message, and its history as charts', async () => {
    await h.publisher.publishAsync(`${h.prefix}/app/device/00000000000000e3/event/up`, '{broken', { qos: 1 });
    await eventually(async () => ((await h.db.pool.query('select 1 from dead_letters')).rowCount! > 0) || undefined);
    await h.service.ingest.flushHistory();
    const { page, problems } = await h.open('ops', 'admin');
    const row = page.getByTestId('dead-letters').locator('tr', { hasText: 'invalid_json' });
    await row.waitFor({ timeout: 15_000 });
    await row.getByRole('button').click();
    await page.locator('pre', { hasText: Buffer.from('{broken').toString('base64') }).waitFor();
    for (const chart of ['chart-rate', 'chart-batch', 'chart-dead']) await page.locator(`[data-testid="${chart}"] canvas`).waitFor();
    await page.locator('[data-gateway="0016c001f1500001"] [data-testid^="chart-gw-signal"] canvas').waitFor();
    expect(await h.axe(page)).toEqual([]);
    expect(problems()).toEqual([]);
    await page.close();
    await everyWidth('ops', 'admin', '[data-testid="chart-rate"] canvas');
  });

  it('keeps the technician view under 300 KB of JavaScript on first load', async () => {
    const context = await h.browser.newContext({ viewport: PHONE });
    const page = await context.newPage();
    const bodies: Promise<{ url: string; bytes: number }>[] = [];
    page.on('response', (res) => {
      if (res.request().resourceType() === 'script') bodies.push(res.body().then((b) => ({ url: res.url(), bytes: b.length })));
    });
    await page.addInitScript((k) => sessionStorage.setItem('stadtfunk.key', k), h.keys.technician!);
    await page.goto(`${h.service.httpUrl}/app/#/tech`);
    await page.locator('#qr').waitFor();
    await page.locator('.leaflet-interactive[data-asset="lamp-0815"]').waitFor();
    await page.waitForLoadState('networkidle');
    const scripts = await Promise.all(bodies);
    const bytes = scripts.reduce((sum, s) => sum + s.bytes, 0);
    const list = scripts.map((s) => `${s.bytes} ${s.url}`).join('\n');
    console.log(`technician view: ${bytes} bytes of JavaScript in ${scripts.length} files`);
    expect(bytes, list).toBeGreaterThan(10_000);
    expect(bytes, list).toBeLessThan(300 * 1024);
    // Charts are not loaded where nothing is charted.
    expect(list).not.toMatch(/uPlot/);
    await context.close();
  });
});
