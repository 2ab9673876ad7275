/**
 * Lamps and OTAA in a real browser (Debian's chromium via playwright-core): an operator
 * dims a street lamp from the ops view and sees the command confirmed once the lamp
 * reports the new level; a technician registers an OTAA device from its QR code with an
 * AppKey. axe-core on both; screenshots at phone and desktop width.
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
import { encodeStreetlight } from '../decoders/index.js';
import { buildUplinkFrame, createKeyVault, decodeGatewayDownlink, encodeGatewayTxAck, keyAad } from '../ingest/lorawan/index.js';
import { startService, type Service } from '../service.js';
import { gatewayUplinkMessage } from '../simulators/messages.js';
import { upsertAsset, upsertDevice, upsertDeviceModel } from '../storage/index.js';
import { createTestDatabase, eventually, TEST_MASTER_KEY, testConfig, testLog, uniqueName, type TestDatabase } from './helpers.js';

const CHROMIUM = '/usr/bin/chromium';
const hasBrowser = existsSync(CHROMIUM);
if (!hasBrowser) console.warn(`SKIPPED lamp and OTAA browser tests: ${CHROMIUM} is not installed (apt-get install chromium)`);
const shots = path.resolve(import.meta.dirname, '..', 'test-results', 'screenshots');
const axeSource = createRequire(import.meta.url).resolve('axe-core/axe.min.js');
const LAMP = '70b3d57ed0007a01';
const GW = '0016c001f1500001';

describe.skipIf(!hasBrowser)('lamps and OTAA in the web app', () => {
  let db: TestDatabase;
  let service: Service;
  let browser: Browser;
  let client: MqttClient;
  let prefix: string;
  let fCnt = 0;
  const keys: Record<string, string> = {};
  const nwkSKey = Buffer.alloc(16, 0x31);
  const appSKey = Buffer.alloc(16, 0x32);

  beforeAll(async () => {
    db = await createTestDatabase();
    prefix = `${uniqueName('t')}/eu868`;
    service = await startService(testConfig(db.url, { INGEST_CONCENTRATOR_PREFIXES: prefix, INGEST_CONCENTRATOR_BANDS: `${prefix}=EU868` }), testLog);
    for (const role of ['technician', 'operator'] as const) keys[role] = (await createApiKey(db.pool, `${role} web`, role)).key;
    const vault = createKeyVault(TEST_MASTER_KEY);
    await upsertDeviceModel(db.pool, { id: 'light-v1', name: 'Streetlight controller', decoderKind: 'builtin', builtinName: 'stadtfunk-streetlight' });
    await upsertDeviceModel(db.pool, { id: 'lpp', name: 'LPP sensor', decoderKind: 'builtin', builtinName: 'cayenne-lpp' });
    await upsertAsset(db.pool, { id: 'lamp-0815', kind: 'street_lamp', latitude: 51.2262, longitude: 6.7737, zone: 'altstadt' });
    await upsertDevice(db.pool, { devEui: LAMP, modelId: 'light-v1', assetId: 'lamp-0815', devAddr: '26007a01', nwkSKeySealed: vault.sealKey(nwkSKey, keyAad(LAMP, 'nwkSKey')), appSKeySealed: vault.sealKey(appSKey, keyAad(LAMP, 'appSKey')) });
    client = await mqtt.connectAsync(inject('mqttUrl'), { clientId: uniqueName('gw-'), protocolVersion: inject('mqttProtocolVersion') });
    // The concentrator: every command goes out in RX1.
    client.on('message', (_topic, payload) => {
      const frame = decodeGatewayDownlink(payload);
      client.publish(`${prefix}/gateway/${GW}/event/ack`, encodeGatewayTxAck({ gatewayId: GW, downlinkId: frame.downlinkId, statuses: ['OK'] }, 'protobuf'), { qos: 1 });
    });
    await client.subscribeAsync(`${prefix}/gateway/${GW}/command/down`, { qos: 1 });
    await lampReports(100);
    await fs.mkdir(shots, { recursive: true });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'] });
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await client?.endAsync();
    await service?.stop();
    await db?.drop();
  });

  async function lampReports(dim: number): Promise<void> {
    const n = fCnt++;
    const phy = buildUplinkFrame({ devAddr: '26007a01', fCnt32: n, fPort: 12, payload: encodeStreetlight({ lamp_on: dim > 0, dim_level: dim, power: dim * 0.38, energy: 100 + n, voltage: 230 }), nwkSKey, appSKey });
    const m = gatewayUplinkMessage({ prefix, gatewayId: GW, phyPayload: phy, frequencyHz: 868_100_000, spreadingFactor: 7, rssiDbm: -80, snrDb: 8, context: Buffer.from([0, 0, 0, n]) });
    await client.publishAsync(m.topic, m.payload, { qos: 1 });
    await eventually(async () => ((await db.pool.query('select 1 from uplinks where dev_eui = $1 and f_cnt = $2', [LAMP, n])).rowCount === 1 ? true : undefined));
  }

  async function open(view: string, role: string, width = 1280): Promise<Page> {
    const page = await browser.newPage({ viewport: { width, height: width < 600 ? 844 : 800 } });
    await page.addInitScript((k) => sessionStorage.setItem('stadtfunk.key', k), keys[role]!);
    await page.goto(`${service.httpUrl}/app/#/${view}`);
    return page;
  }

  async function axe(page: Page): Promise<{ id: string; impact: string; help: string }[]> {
    await page.addScriptTag({ path: axeSource });
    const result = await page.evaluate(async () => (globalThis as unknown as { axe: { run(): Promise<{ violations: { id: string; impact: string; help: string }[] }> } }).axe.run());
    return result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => ({ id: v.id, impact: v.impact, help: v.help }));
  }

  it('an operator dims a lamp from the ops view and sees the lamp confirm it', async () => {
    const page = await open('ops', 'operator');
    const row = page.getByTestId('lamps').locator('tr[data-asset="lamp-0815"]');
    await row.waitFor({ timeout: 15_000 });
    // The cockpit above the lamps is the admin's: an operator gets one quiet line, no error, nothing left loading.
    await page.getByTestId('cockpit-admin-only').waitFor({ timeout: 10_000 });
    expect(await page.locator('main [role="alert"]:not(:empty)').count()).toBe(0);
    expect(await page.locator('main').innerText()).not.toMatch(/Loading|Lädt/);
    await page.fill('#lamp-level', '40');
    await row.getByRole('button', { name: /(Dimmen|Dim): lamp-0815/ }).click();
    await row.locator('[data-confirmation="pending"]').waitFor({ timeout: 10_000 });
    expect((await db.pool.query('select payload from downlink_queue where dev_eui = $1', [LAMP])).rows[0].payload).toEqual(Buffer.from([1, 1, 40]));
    // The lamp's next uplink takes the command; the one after reports 40 %.
    await lampReports(100);
    await eventually(async () => ((await db.pool.query("select 1 from downlink_queue where dev_eui = $1 and state = 'sent' and tx_status = 'OK'", [LAMP])).rowCount === 1 ? true : undefined));
    await lampReports(40);
    await row.locator('[data-confirmation="confirmed"]').waitFor({ timeout: 15_000 });
    await page.getByTestId('downlinks').locator('[data-state="sent"]').first().waitFor({ timeout: 10_000 });
    expect(await axe(page)).toEqual([]);
    await page.screenshot({ path: path.join(shots, 'lamps-desktop.png'), fullPage: true });
    await page.close();
    const phone = await open('ops', 'operator', 390);
    await phone.getByTestId('lamps').waitFor();
    // On a phone the lamps are cards: nothing wider than the screen, both buttons in reach.
    expect(await phone.evaluate(() => (globalThis as unknown as { document: { documentElement: { scrollWidth: number } } }).document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    for (const name of [/(Dimmen|Dim): lamp-0815/, /(Ausschalten|Switch off): lamp-0815/]) {
      const box = (await phone.getByRole('button', { name }).boundingBox())!;
      expect(box.x + box.width).toBeLessThanOrEqual(390);
    }
    await phone.screenshot({ path: path.join(shots, 'lamps-phone.png'), fullPage: true });
    await phone.close();
  });

  it('a technician registers an OTAA device from its QR code with an AppKey', async () => {
    const page = await open('tech', 'technician', 390);
    await page.fill('#qr', 'LW:D0:70B3D57ED0000001:70B3D57ED00000C1:A1B20002:SSN-1');
    await page.selectOption('#model', 'lpp');
    await page.getByText(/OTAA/).click();
    await page.fill('#appkey', '00112233445566778899aabbccddeeff');
    await page.selectOption('#macversion', '1.0.4');
    await page.getByRole('button', { name: /Speichern|Save/ }).click();
    await page.getByRole('heading', { name: /70b3d57ed00000c1/ }).waitFor();
    expect(await page.inputValue('#appkey')).toBe('');
    const device = (await db.pool.query('select join_eui, app_key, mac_version from devices where dev_eui = $1', ['70b3d57ed00000c1'])).rows[0];
    expect(device).toMatchObject({ join_eui: '70b3d57ed0000001', mac_version: '1.0.4' });
    expect(device.app_key).toMatch(/^v1:/);
    expect(await axe(page)).toEqual([]);
    await page.screenshot({ path: path.join(shots, 'tech-otaa-phone.png'), fullPage: true });
    await page.close();
  });
});
