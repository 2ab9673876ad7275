/**
 * Issue 25 in the browser: one test per bug the issue lists (each failed against the web
 * app before the fix), in Debian's Chromium at phone or desktop size, with the real
 * service, database and broker. test/web.test.ts has the main flows, axe and screenshots.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { encodeAir, encodeParking } from '../decoders/index.js';
import { upsertAsset, upsertDevice, upsertDeviceModel } from '../storage/index.js';
import { eventually } from './helpers.js';
import { DESKTOP, hasBrowser, PHONE, WebHarness } from './web-harness.js';

const air = () => encodeAir({ pm1: 5, pm2_5: 8.5, pm10: 14, no2: 20, co2: 420, temperature: 6.5, relative_humidity: 80, pressure: 1012, noise: 50, battery_voltage: 3.6 });
/** Requests this file provokes on purpose (validation, 403) show as console errors. */
const REFUSED = [/status of 40[039]/, /^HTTP 40[039] .*\/api\/v1\//];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** The browser's globals inside page.evaluate (the project compiles without the DOM library). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Browser = { document: { querySelector(selector: string): any }; devicePixelRatio: number; getComputedStyle(e: unknown): { color: string }; location: { hash: string } };

async function visible(page: Page, selector: string): Promise<boolean> {
  const box = await page.locator(selector).boundingBox();
  return box !== null && box.width > 20 && box.height > 10;
}

describe.skipIf(!hasBrowser)('issue 25 in the browser', () => {
  const h = new WebHarness();

  beforeAll(async () => {
    await h.start(async ({ db }) => {
      await upsertDeviceModel(db.pool, { id: 'air-v1', name: 'Lamp air sensor', decoderKind: 'builtin', builtinName: 'stadtfunk-air', expectedIntervalS: 300, batteryLowVolts: 3.1 });
      await upsertDeviceModel(db.pool, { id: 'park-v1', name: 'Parking sensor', decoderKind: 'builtin', builtinName: 'stadtfunk-parking', expectedIntervalS: 120 });
      await upsertAsset(db.pool, { id: 'lamp-0815', kind: 'street_lamp', latitude: 51.2262, longitude: 6.7737, zone: 'altstadt', isPublic: true });
      await upsertDevice(db.pool, { devEui: '00000000000000e1', modelId: 'air-v1', assetId: 'lamp-0815' });
      // Far from the map's default centre, inside the city.
      await upsertAsset(db.pool, { id: 'lamp-far', kind: 'street_lamp', latitude: 51.3, longitude: 6.9, zone: 'north', isPublic: true });
      await upsertDevice(db.pool, { devEui: '00000000000000e4', modelId: 'air-v1', assetId: 'lamp-far' });
      await upsertAsset(db.pool, { id: 'garage-01', kind: 'garage', latitude: 51.2215, longitude: 6.776, zone: 'carlstadt', isPublic: true, capacity: 300 });
      await upsertDevice(db.pool, { devEui: '00000000000000e5', modelId: 'park-v1', assetId: 'garage-01' });
    });
    await h.uplink('00000000000000e1', 1, air(), 10);
    await h.uplink('00000000000000e4', 1, air(), 10);
    await h.uplink('00000000000000e5', 1, encodeParking({ kind: 'counter', free_spaces: 120, total_spaces: 300 }), 11);
    await eventually(async () => ((await h.db.pool.query('select 1 from latest_state')).rowCount === 3) || undefined);
  }, 120_000);

  afterAll(() => h.stop());

  const count = async (sql: string) => (await h.db.pool.query(sql)).rowCount;

  it('tech: a new asset with empty coordinates or 0,0 is refused on screen and nothing is saved', async () => {
    const { page, problems } = await h.open('tech', 'technician', PHONE, { expect: REFUSED });
    await page.fill('#qr', '00000000000000a1');
    await page.check('#mode-new');
    await page.fill('#newid', 'lamp-0999');
    await page.getByRole('button', { name: 'Save' }).click();
    await page.locator('#position-error', { hasText: "The position is missing: use the phone's position, tap the map" }).waitFor();
    expect(await visible(page, '#position-error')).toBe(true);
    expect(await page.getAttribute('#lat', 'aria-invalid')).toBe('true');
    await page.fill('#lat', '0');
    await page.fill('#lon', '0');
    await page.getByRole('button', { name: 'Save' }).click();
    await page.locator('#position-error', { hasText: '0,0 is not a position in Düsseldorf' }).waitFor();
    await sleep(300);
    expect(await count("select 1 from assets where id = 'lamp-0999'")).toBe(0);
    expect(await count("select 1 from devices where dev_eui = '00000000000000a1'")).toBe(0);
    expect(problems()).toEqual([]);
    await h.screenshot(page, 'issue25-tech-position-refused-phone');
    await page.close();
  });

  it('tech: fixing a wrong QR code and saving again registers asset and device, without a dead end', async () => {
    const { page, problems } = await h.open('tech', 'technician', PHONE, { expect: REFUSED });
    await page.fill('#qr', 'LW:D0:not-a-label');
    await page.check('#mode-new');
    await page.fill('#newid', 'lamp-1000');
    await page.fill('#lat', '51,2451');
    await page.fill('#lon', '6,8155');
    await page.getByRole('button', { name: 'Save' }).click();
    await page.locator('#form-error', { hasText: 'The QR code is not a LoRa Alliance TR005 device label' }).waitFor();
    expect(await page.getAttribute('#qr', 'aria-invalid')).toBe('true');
    expect(await count("select 1 from assets where id = 'lamp-1000'")).toBe(0);
    await page.fill('#qr', 'LW:D0:0016C001FFFE0001:0016C001FF100ACE:A1B20002');
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByRole('heading', { name: /0016c001ff100ace/ }).waitFor();
    expect(await page.locator('body').textContent()).not.toMatch(/exists already|PATCH/);
    expect((await h.db.pool.query("select latitude, longitude from assets where id = 'lamp-1000'")).rows).toEqual([{ latitude: 51.2451, longitude: 6.8155 }]);
    expect(await count("select 1 from device_mounts where dev_eui = '0016c001ff100ace' and asset_id = 'lamp-1000'")).toBe(1);
    // The same asset id again (a second sensor at the lamp): the answer offers to use it.
    await page.fill('#qr', '00000000000000a2');
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByRole('button', { name: 'Use asset lamp-1000' }).click();
    expect(await page.isChecked('#mode-existing')).toBe(true);
    expect(await page.inputValue('#existing')).toBe('lamp-1000');
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByRole('heading', { name: /00000000000000a2/ }).waitFor();
    expect(problems()).toEqual([]);
    await page.close();
  });

  it('tech: a GPS failure is shown on screen, a GPS fix fills the fields and moves the pin', async () => {
    const denied = await h.open('tech', 'technician', PHONE, { context: { permissions: [] } });
    await denied.page.check('#mode-new');
    await denied.page.click('#gps');
    await denied.page.locator('#gps-error', { hasText: /denied|not available|did not come|cannot determine/ }).waitFor({ timeout: 25_000 });
    expect(await visible(denied.page, '#gps-error')).toBe(true);
    expect(await denied.page.locator('#gps-error').evaluate((e) => (globalThis as unknown as Browser).getComputedStyle(e).color)).toBe('rgb(180, 35, 24)');
    expect(denied.problems()).toEqual([]);
    await h.screenshot(denied.page, 'issue25-tech-gps-error-phone');
    await denied.page.close();

    const granted = await h.open('tech', 'technician', PHONE, { context: { permissions: ['geolocation'], geolocation: { latitude: 51.2301, longitude: 6.7801 } } });
    await granted.page.check('#mode-new');
    await granted.page.click('#gps');
    await granted.page.locator('.leaflet-marker-icon').waitFor();
    expect([await granted.page.inputValue('#lat'), await granted.page.inputValue('#lon')]).toEqual(['51.230100', '6.780100']);
    await granted.page.close();
  });

  it('tech: existing assets and their devices are on the map, and the pin follows typed coordinates', async () => {
    const { page, problems } = await h.open('tech', 'technician', DESKTOP);
    const lamp = page.locator('.leaflet-interactive[data-asset="lamp-0815"]');
    await lamp.waitFor();
    await lamp.hover();
    await page.locator('.leaflet-tooltip', { hasText: /lamp-0815 · Street lamp · altstadt · Devices: 00000000000000e1/ }).waitFor();
    await page.check('#mode-new');
    // Typed at lamp-0815's position, the pin's tip stands on its marker.
    await page.fill('#lat', '51.2262');
    await page.fill('#lon', '6.7737');
    const pinTip = async () => {
      const box = (await page.locator('.leaflet-marker-icon').boundingBox())!;
      return { x: box.x + box.width / 2, y: box.y + box.height };
    };
    const centre = async (selector: string) => {
      const box = (await page.locator(selector).boundingBox())!;
      return { x: box.x + box.width / 2, y: box.y + box.height / 2 };
    };
    let tip = await pinTip();
    let target = await centre('.leaflet-interactive[data-asset="lamp-0815"]');
    expect(Math.hypot(tip.x - target.x, tip.y - target.y)).toBeLessThan(4);
    // Typed far away: the map follows and the pin stands on lamp-far.
    await page.fill('#lat', '51.3');
    await page.fill('#lon', '6.9');
    await sleep(600);
    tip = await pinTip();
    target = await centre('.leaflet-interactive[data-asset="lamp-far"]');
    expect(Math.hypot(tip.x - target.x, tip.y - target.y)).toBeLessThan(4);
    // A tap on the map (beside the pin, where no asset stands) writes the coordinates and moves the pin there.
    await page.mouse.click(tip.x + 40, tip.y + 30);
    expect(await page.inputValue('#lon')).not.toBe('6.9');
    expect(Number(await page.inputValue('#lon'))).toBeGreaterThan(6.9);
    expect(Number(await page.inputValue('#lat'))).toBeLessThan(51.3);
    const moved = await pinTip();
    expect(Math.hypot(moved.x - tip.x - 40, moved.y - tip.y - 30)).toBeLessThan(4);
    expect(problems()).toEqual([]);
    await page.close();
  });

  it('explorer: a series of one value is drawn as a dot on a time axis, with its unit', async () => {
    const { page, problems } = await h.open('explore', null, DESKTOP);
    await page.locator('ul.sensors button', { hasText: 'lamp-0815' }).click();
    await page.locator('[data-testid="chart"] canvas').waitFor();
    const chart = await page.evaluate(() => {
      const u = (globalThis as unknown as Browser).document.querySelector('[data-testid="chart"]').uplot as {
        data: number[][]; scales: Record<string, { time?: boolean }>; axes: { label?: string }[]; valToPos(v: number, scale: string, canvas: boolean): number;
        ctx: { getImageData(x: number, y: number, w: number, h: number): { data: Iterable<number> } };
      };
      const x = u.valToPos(u.data[0]![0]!, 'x', true);
      const y = u.valToPos(u.data[1]![0]!, 'y0', true);
      const pixel = [...u.ctx.getImageData(Math.round(x), Math.round(y), 1, 1).data];
      return { points: u.data[0]!.length, time: u.scales.x!.time, unit: u.axes[1]!.label, pixel };
    });
    expect(chart.points).toBe(1);
    expect(chart.time).toBe(true);
    expect(chart.unit).toBe('µg/m³');
    // The dot's centre is painted in the series colour #0b5cad.
    expect(chart.pixel).toEqual([11, 92, 173, 255]);
    // Over the dot, the legend says its time and value in words.
    const dot = await page.evaluate(() => {
      const u = (globalThis as unknown as Browser).document.querySelector('[data-testid="chart"]').uplot as { data: number[][]; valToPos(v: number, scale: string): number; over: { getBoundingClientRect(): { x: number; y: number } } };
      const r = u.over.getBoundingClientRect();
      return { x: r.x + u.valToPos(u.data[0]![0]!, 'x'), y: r.y + u.valToPos(u.data[1]![0]!, 'y0') };
    });
    await page.mouse.move(dot.x, dot.y);
    await page.locator('.u-legend .u-series', { hasText: /Particulate matter PM2\.5:?\s*8\.5 µg\/m³/ }).waitFor();
    expect(await page.locator('.u-legend .u-series').first().textContent()).toMatch(/Time:?\s*\d{1,2} \w{3} 20\d\d, \d\d:\d\d/);
    expect(problems()).toEqual([]);
    await page.close();
  });

  it('explorer on a phone: a tapped marker brings its chart into view, with labels at their real size', async () => {
    const { page, problems } = await h.open('explore', null, PHONE);
    await page.locator('path.leaflet-interactive[data-asset="lamp-0815"]').click();
    await page.locator('[data-testid="chart"] canvas').waitFor();
    await sleep(300);
    const heading = (await page.getByRole('heading', { name: /History: lamp-0815/ }).boundingBox())!;
    expect(heading.y).toBeGreaterThan(-2);
    expect(heading.y).toBeLessThan(100);
    const canvas = await page.evaluate(() => {
      const w = globalThis as unknown as Browser;
      const c = w.document.querySelector('[data-testid="chart"] canvas') as { width: number; getBoundingClientRect(): { width: number } };
      const u = w.document.querySelector('[data-testid="chart"]').uplot as { axes: { font: string[] }[] };
      return { css: c.getBoundingClientRect().width, pixels: c.width / w.devicePixelRatio, font: u.axes[0]!.font[0] };
    });
    // Drawn at its CSS size (not a wide drawing scaled down): 13 px labels stay 13 px.
    expect(Math.abs(canvas.css - canvas.pixels)).toBeLessThan(2);
    expect(canvas.css).toBeLessThanOrEqual(PHONE.width);
    expect(canvas.font).toMatch(/^13px /);
    expect(problems()).toEqual([]);
    await h.screenshot(page, 'issue25-explore-chart-phone');
    await page.close();
  });

  it('explorer: switching to parking shows the parking legend and no stale chart; maps are fitted to their points', async () => {
    const { page, problems } = await h.open('explore', null, PHONE);
    const mapBox = async () => (await page.locator('.leaflet-container').boundingBox())!;
    for (const asset of ['lamp-0815', 'lamp-far']) {
      const m = (await page.locator(`path.leaflet-interactive[data-asset="${asset}"]`).boundingBox())!;
      const b = await mapBox();
      expect(m.x >= b.x && m.x + m.width <= b.x + b.width && m.y >= b.y && m.y + m.height <= b.y + b.height, `${asset} inside the map`).toBe(true);
    }
    await page.locator('ul.sensors button', { hasText: 'lamp-0815' }).click();
    await page.locator('[data-testid="chart"] canvas').waitFor();
    await page.selectOption('#dataset', 'parking');
    await page.locator('path.leaflet-interactive[data-asset="garage-01"]').waitFor();
    expect(await page.locator('[data-testid="chart"]').count()).toBe(0);
    expect(await page.locator('#chart-section').textContent()).toBe('Pick a sensor on the map or in the list');
    const legend = await page.getByTestId('legend').textContent();
    expect(legend).toMatch(/Garage: more than 20 % free/);
    expect(legend).not.toMatch(/Environment Agency|very good/);
    expect(await page.locator('path.leaflet-interactive[data-asset="lamp-0815"]').count()).toBe(0);
    expect(problems()).toEqual([]);
    await page.close();
  });

  it('traffic control as a technician says "no access" instead of waiting for ever; its map has a legend', async () => {
    const denied = await h.open('control', 'technician', PHONE, { expect: REFUSED });
    await denied.page.getByTestId('view-error').filter({ hasText: 'No access: your role may not open this view' }).waitFor({ timeout: 10_000 });
    expect(await denied.page.getByText('…', { exact: true }).count()).toBe(0);
    expect(denied.problems()).toEqual([]);
    await denied.page.close();
    const { page, problems } = await h.open('control', 'operator', DESKTOP);
    const legend = page.getByTestId('legend');
    await legend.waitFor();
    expect(await legend.textContent()).toMatch(/Bay free.*Bay occupied.*Bay unknown.*Garage.*Counting site/);
    await page.locator('path.leaflet-interactive[data-asset="garage-01"]').waitFor();
    expect(problems()).toEqual([]);
    await page.close();
  });

  it('ops: empty lists say "none"', async () => {
    const { page, problems } = await h.open('ops', 'admin', DESKTOP);
    for (const title of ['Silent devices', 'Low batteries']) {
      await page.locator('.card', { has: page.getByRole('heading', { name: title }) }).locator('.none', { hasText: 'none' }).waitFor();
    }
    expect(problems()).toEqual([]);
    await page.close();
  });

  it('German: names, units, numbers and API errors in German only', async () => {
    const { page, problems } = await h.open('explore', null, DESKTOP, { lang: 'de', expect: REFUSED });
    await page.locator('ul.sensors li').first().waitFor();
    const text = (await page.locator('main').textContent())!;
    expect(text).toContain('Luftqualität an Straßenlaternen');
    expect(text).toContain('Feinstaub PM2,5: 8,5 µg/m³');
    expect(text).toContain('sehr gut');
    expect(text).not.toMatch(/ \/ |good|ug\/m3|pm2_5|Particulate/);
    await page.goto(`${h.service.httpUrl}/app/#/tech`);
    await page.evaluate((k) => sessionStorage.setItem('stadtfunk.key', k), h.keys.technician!);
    await page.reload();
    await page.fill('#qr', '00000000000000a3');
    await page.check('#mode-new');
    await page.fill('#newid', 'lamp-0815');
    await page.fill('#lat', '51,2262');
    await page.fill('#lon', '6,7737');
    await page.getByRole('button', { name: 'Speichern' }).click();
    await page.locator('#form-error', { hasText: 'Den Ort lamp-0815 gibt es schon. Ihn als vorhandenen Ort wählen' }).waitFor();
    await page.getByRole('button', { name: 'Ort lamp-0815 verwenden' }).waitFor();
    await page.goto(`${h.service.httpUrl}/app/#/ops`);
    await page.evaluate((k) => sessionStorage.setItem('stadtfunk.key', k), h.keys.admin!);
    await page.reload();
    await page.getByText('TimescaleDB: nein').or(page.getByText('TimescaleDB: ja')).waitFor();
    expect(await page.locator('main').textContent()).not.toMatch(/nein\/no|ja\/yes|Uplinks per second/);
    expect(problems()).toEqual([]);
    await page.close();
  });

  it('phone: the header takes one row and opens its menu on demand; no favicon 404', async () => {
    const { page, problems } = await h.open('explore', null, PHONE);
    await page.locator('ul.sensors li').first().waitFor();
    expect((await page.locator('header').boundingBox())!.height).toBeLessThanOrEqual(72);
    expect(await page.getByRole('link', { name: 'Operations' }).isVisible()).toBe(false);
    await page.getByRole('button', { name: 'Menu' }).click();
    await page.getByRole('link', { name: 'Operations' }).click();
    await page.getByRole('heading', { name: 'Status overview' }).waitFor();
    expect(await page.getByRole('link', { name: 'Operations' }).isVisible()).toBe(false);
    const icon = await page.evaluate(async () => (await fetch((globalThis as unknown as Browser).document.querySelector('link[rel="icon"]').href)).status);
    expect(icon).toBe(200);
    expect(problems()).toEqual([]);
    await page.close();
  });

  it('no uncaught error from the tile handler after leaving a view while it loads', async () => {
    const tiles = `${h.tiles.url}/slow-fail/{z}/{x}/{y}.png`;
    const { page, problems } = await h.open('control', 'operator', PHONE, {
      expect: [/slow-fail/, /status of 404/],
      init: new Function(`localStorage.setItem('stadtfunk.tiles', ${JSON.stringify(tiles)})`) as () => void,
    });
    // The view is left while its data is still on the way; its tiles fail 1.5 s later.
    await page.route('**/api/v1/live/zones', async (route) => {
      await sleep(2500);
      await route.continue().catch(() => undefined);
    });
    await page.reload();
    await page.locator('.leaflet-tile').first().waitFor({ state: 'attached' });
    await page.evaluate(() => ((globalThis as unknown as Browser).location.hash = '#/explore'));
    await page.locator('ul.sensors li').first().waitFor();
    await sleep(3500);
    expect(problems()).toEqual([]);
    // A handler may still be sleeping on a later poll of the view: closing under it made
    // Playwright reject "Target page, context or browser has been closed" unhandled.
    await page.unrouteAll({ behavior: 'ignoreErrors' });
    await page.close();
  });

  it('traffic control on a 360 px phone: the zones table fits the screen', async () => {
    // Last in the file: its bays would change what the tests above count.
    for (const [id, zone] of [['bay-ue1', 'unterbilk'], ['bay-ue2', 'unterbilk'], ['bay-pf1', 'pempelfort']] as const) {
      await upsertAsset(h.db.pool, { id, kind: 'parking_bay', latitude: 51.21, longitude: 6.77, zone });
    }
    const { page, problems } = await h.open('control', 'operator', { width: 360, height: 800 });
    await page.locator('tr[data-zone="unterbilk"]').waitFor({ timeout: 10_000 });
    expect(await page.locator('thead').first().textContent()).toContain('unknown');
    expect(await page.evaluate(() => (globalThis as unknown as { document: { documentElement: { scrollWidth: number } } }).document.documentElement.scrollWidth)).toBeLessThanOrEqual(360);
    await h.screenshot(page, 'issue25-control-zones-360');
    expect(problems()).toEqual([]);
    await page.close();
  });
});
