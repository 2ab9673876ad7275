/**
 * The technician view's model picker (issue 24): imported models offered first, and a
 * codec without examples marked unverified. A real browser (Debian's chromium via
 * playwright-core) against the API with a real database.
 */
import { existsSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../api/app.js';
import { createApiKey } from '../api/auth.js';
import { upsertDeviceModel } from '../storage/index.js';
import { createTestDatabase, testLog, type TestDatabase } from './helpers.js';

const CHROMIUM = '/usr/bin/chromium';
const hasBrowser = existsSync(CHROMIUM);
if (!hasBrowser) console.warn(`SKIPPED model picker browser test: ${CHROMIUM} is not installed (apt-get install chromium)`);

describe.skipIf(!hasBrowser)('technician model picker', () => {
  let db: TestDatabase;
  let app: FastifyInstance;
  let browser: Browser;
  let url = '';
  let key = '';

  beforeAll(async () => {
    db = await createTestDatabase();
    app = await buildApp({ pool: db.pool, log: testLog, version: 'test', status: async () => ({ database: { ok: true, embedded: false, timescale: db.timescale }, broker: { ok: true, embedded: false } }) });
    url = await app.listen({ host: '127.0.0.1', port: 0 });
    key = (await createApiKey(db.pool, 'tech', 'technician')).key;
    const script = 'function decodeUplink(input) { return { data: { n: input.bytes.length } }; }';
    await upsertDeviceModel(db.pool, { id: 'air-v1', name: 'Lamp air sensor', decoderKind: 'builtin', builtinName: 'stadtfunk-air' });
    await upsertDeviceModel(db.pool, { id: 'bare-codec', name: 'Bare codec', decoderKind: 'codec', codecScript: script });
    await upsertDeviceModel(db.pool, {
      id: 'dingtek-dc500', name: 'Dingtek DC500', decoderKind: 'codec', codecScript: script, category: 'people',
      examples: [{ description: 'x', input: { fPort: 1, bytes: [1] }, output: { data: { n: 1 } } }], source: { repository: 'lorawan-devices', vendor: 'dingtek', device: 'dc500' },
    });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'] });
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await app?.close();
    await db?.drop();
  });

  it('offers imported models first and marks a codec without examples unverified', async () => {
    const page = await browser.newPage({ locale: 'en-US' });
    await page.addInitScript((k) => sessionStorage.setItem('stadtfunk.key', k), key);
    await page.goto(`${url}/app/#/tech`);
    await page.waitForSelector('#model option', { state: 'attached' });
    const options = await page.$$eval('#model option', (os) => os.map((o) => ({ value: o.getAttribute('value'), text: o.textContent, unverified: o.getAttribute('data-unverified') })));
    expect(options[0]).toMatchObject({ value: 'dingtek-dc500', text: expect.stringContaining('from the device repository'), unverified: null });
    expect(options.find((o) => o.value === 'bare-codec')).toMatchObject({ text: expect.stringContaining('unverified: codec without examples'), unverified: 'true' });
    expect(options.find((o) => o.value === 'air-v1')!.text).not.toMatch(/unverified/);
    await page.close();
  }, 60_000);
});
