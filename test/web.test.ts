/**
 * The web app in a real browser (Debian's chromium via playwright-core): a technician
 * registers a device by typed QR string and sees its uplink arrive; traffic control sees
 * a bay turn occupied without reload; the explorer downloads a CSV; the cockpit shows a
 * dead letter. axe-core on every view; screenshots at phone and desktop width.
 */
import { existsSync } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { createRequire } from 'node:module';
import mqtt, { type MqttClient } from 'mqtt';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { createApiKey } from '../api/auth.js';
import { encodeAir, encodeParking } from '../decoders/index.js';
import { startService, type Service } from '../service.js';
import { upsertAsset, upsertDevice, upsertDeviceModel } from '../storage/index.js';
import { createTestDatabase, testConfig, testLog, uniqueName, type TestDatabase } from './helpers.js';

const CHROMIUM = '/usr/bin/chromium';
const hasBrowser = existsSync(CHROMIUM);
if (!hasBrowser) console.warn(`SKIPPED web app browser tests: ${CHROMIUM} is not installed (apt-get install chromium)`);
const shots = path.resolve(import.meta.dirname, '..', 'test-results', 'screenshots');
const axeSource = createRequire(import.meta.url).resolve('axe-core/axe.min.js');

describe.skipIf(!hasBrowser)('web app in headless Chromium', () => {
  let db: TestDatabase;
  let service: Service;
  let browser: Browser;
  let publisher: MqttClient;
  let prefix: string;
  const keys: Record<string, string> = {};

  beforeAll(async () => {
    db = await createTestDatabase();
    const config = testConfig(db.url);
    prefix = config.ingest.chirpstackPrefix!;
    service = await startService(config, testLog);
    for (const role of ['admin', 'technician', 'operator'] as const) keys[role] = (await createApiKey(db.pool, `${role} web`, role)).key;
    await upsertDeviceModel(db.pool, { id: 'air-v1', name: 'Lamp air sensor', decoderKind: 'builtin', builtinName: 'stadtfunk-air' });
    await upsertDeviceModel(db.pool, { id: 'bay-v1', name: 'Parking bay sensor', decoderKind: 'builtin', builtinName: 'stadtfunk-parking' });
    await upsertAsset(db.pool, { id: 'lamp-0815', kind: 'street_lamp', latitude: 51.2262, longitude: 6.7737, zone: 'altstadt', isPublic: true });
    await upsertAsset(db.pool, { id: 'bay-001', kind: 'parking_bay', latitude: 51.2264, longitude: 6.774, zone: 'altstadt' });
    await upsertDevice(db.pool, { devEui: '00000000000000e2', modelId: 'bay-v1', assetId: 'bay-001' });
    await upsertAsset(db.pool, { id: 'lamp-0900', kind: 'street_lamp', latitude: 51.227, longitude: 6.776, zone: 'altstadt', isPublic: true });
    await upsertDevice(db.pool, { devEui: '00000000000000e3', modelId: 'air-v1', assetId: 'lamp-0900' });
    publisher = await mqtt.connectAsync(inject('mqttUrl'), { clientId: uniqueName('web-pub-'), protocolVersion: inject('mqttProtocolVersion') });
    await fs.mkdir(shots, { recursive: true });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'] });
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await publisher?.endAsync();
    await service?.stop();
    await db?.drop();
  });

  const uplink = (devEui: string, n: number, payload: Buffer, fPort: number) =>
    publisher.publishAsync(`${prefix}/app/device/${devEui}/event/up`, JSON.stringify({ deduplicationId: uniqueName('web-'), time: new Date(Date.now() - 1000 + n).toISOString(), deviceInfo: { devEui }, fCnt: n, fPort, data: payload.toString('base64') }), { qos: 1 });
  const airPayload = () => encodeAir({ pm1: 5, pm2_5: 8.5, pm10: 14, no2: 20, co2: 420, temperature: 6.5, relative_humidity: 80, pressure: 1012, noise: 50, battery_voltage: 3.6 });

  async function open(view: string, role: string | null, width = 1280): Promise<Page> {
    const page = await browser.newPage({ viewport: { width, height: width < 600 ? 844 : 800 }, acceptDownloads: true });
    if (role) await page.addInitScript((k) => sessionStorage.setItem('stadtfunk.key', k), keys[role]!);
    await page.goto(`${service.httpUrl}/app/#/${view}`);
    return page;
  }

  async function axe(page: Page): Promise<{ id: string; impact: string; help: string }[]> {
    await page.addScriptTag({ path: axeSource });
    const result = await page.evaluate(async () => (globalThis as unknown as { axe: { run(): Promise<{ violations: { id: string; impact: string; help: string }[] }> } }).axe.run());
    return result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => ({ id: v.id, impact: v.impact, help: v.help }));
  }

  async function screenshots(view: string, role: string | null, ready: string): Promise<void> {
    for (const [name, width] of [['phone', 390], ['desktop', 1280]] as const) {
      const page = await open(view, role, width);
      await page.locator(ready).first().waitFor();
      await page.screenshot({ path: path.join(shots, `${view}-${name}.png`), fullPage: true });
      await page.close();
    }
  }

  it('technician registers a device by typed QR string and sees its first uplink arrive', async () => {
    const page = await open('tech', 'technician', 390);
    await page.fill('#qr', 'LW:D0:0016C001FFFE0001:0016C001FF1000AB:A1B20002:SSN-4711');
    await page.selectOption('#model', 'air-v1');
    await page.fill('#existing', 'lamp-0815');
    await page.getByRole('button', { name: /Speichern|Save/ }).click();
    await page.getByRole('heading', { name: /0016c001ff1000ab/ }).waitFor();
    expect(await page.getByTestId('last-seen').textContent()).toMatch(/noch nie|never/);
    await uplink('0016c001ff1000ab', 1, airPayload(), 10);
    await page.getByTestId('last-seen').filter({ hasNotText: /noch nie|never/ }).waitFor({ timeout: 15_000 });
    expect(await page.locator('th', { hasText: 'pm2_5' }).count()).toBe(1);
    expect(await axe(page)).toEqual([]);
    await page.close();
    await screenshots('tech', 'technician', '#qr');
  });

  it('traffic control sees a bay turn occupied without reloading', async () => {
    await uplink('00000000000000e2', 1, encodeParking({ kind: 'bay', occupied: false, fault: false, battery_voltage: 3.5 }), 11);
    await new Promise((r) => setTimeout(r, 500));
    const page = await open('control', 'operator');
    await page.getByText('● live').waitFor({ timeout: 15_000 });
    await page.getByRole('button', { name: /Liste|List/ }).click();
    await page.locator('[data-asset="bay-001"] [data-state="free"]').waitFor();
    const navigations: string[] = [];
    page.on('framenavigated', (f) => navigations.push(f.url()));
    await uplink('00000000000000e2', 2, encodeParking({ kind: 'bay', occupied: true, fault: false, battery_voltage: 3.5 }), 11);
    await page.locator('[data-asset="bay-001"] [data-state="occupied"]').waitFor({ timeout: 10_000 });
    expect(navigations).toEqual([]);
    expect(await axe(page)).toEqual([]);
    await page.close();
    await screenshots('control', 'operator', 'table');
  });

  it('the explorer shows a chart and downloads a CSV, with licence and the API URL', async () => {
    await uplink('00000000000000e3', 1, airPayload(), 10);
    await new Promise((r) => setTimeout(r, 500));
    const page = await open('explore', null);
    await page.getByRole('button', { name: 'lamp-0900' }).click();
    await page.locator('svg.chart').waitFor();
    expect(await page.getByText('dl-de/by-2-0').count()).toBeGreaterThan(0);
    expect(await page.locator('code', { hasText: '/api/v1/open/assets/lamp-0900/series' }).count()).toBe(1);
    const [download] = await Promise.all([page.waitForEvent('download'), page.locator('a[data-format="csv"]').click()]);
    const file = await download.path();
    const csv = await fs.readFile(file!, 'utf8');
    expect(csv.split('\r\n')[0]).toBe('time,asset,metric,channel,unit,value,min,max,count');
    expect(csv).toContain('lamp-0900,pm1');
    expect(await axe(page)).toEqual([]);
    await page.close();
    await screenshots('explore', null, 'svg.chart, ul.sensors li');
  });

  it('the cockpit shows a dead letter with the start of its raw message and downloads the whole', async () => {
    await publisher.publishAsync(`${prefix}/app/device/00000000000000e3/event/up`, '{broken', { qos: 1 });
    await new Promise((r) => setTimeout(r, 500));
    const page = await open('ops', 'admin');
    const row = page.getByTestId('dead-letters').locator('tr', { hasText: 'invalid_json' });
    await row.waitFor({ timeout: 15_000 });
    await row.getByRole('button').click();
    await page.locator('pre', { hasText: '{broken' }).waitFor();
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: /download the whole message|ganze nachricht/i }).first().click()]);
    expect(download.suggestedFilename()).toMatch(/^dead-letter-\d+\.bin$/);
    expect(await fs.readFile((await download.path())!, 'utf8')).toBe('{broken');
    expect(await axe(page)).toEqual([]);
    await page.close();
    await screenshots('ops', 'admin', '[data-testid="dead-letters"]');
  });

  it('keeps the technician view under 300 KB of JavaScript on first load', async () => {
    const page = await browser.newPage();
    let bytes = 0;
    page.on('response', async (res) => {
      if (res.request().resourceType() === 'script') bytes += (await res.body()).length;
    });
    await page.addInitScript((k) => sessionStorage.setItem('stadtfunk.key', k), keys.technician!);
    await page.goto(`${service.httpUrl}/app/#/tech`);
    await page.locator('#qr').waitFor();
    await page.waitForLoadState('networkidle');
    expect(bytes).toBeGreaterThan(10_000);
    expect(bytes).toBeLessThan(300 * 1024);
    await page.close();
  });
});
