/**
 * The README's k6 scenarios pass against a service with default settings (issue 26:
 * geojson-latest.js got 600 answers and then 46,819 × 429 from the open-data rate
 * limit). k6 cannot be installed here, so each scenario's own script runs in Node with
 * a synchronous stand-in for k6/http (test/fixtures/k6-shim.mjs: a worker thread fetches, the script waits) in a
 * child process (test/fixtures/k6-run.mjs):
 * more iterations than the limit allows in a minute, every check must pass. Without a
 * key the same script fails its rate-limit check: the scenario says why.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { createApiKey } from '../api/auth.js';
import { upsertAsset, upsertDevice, upsertDeviceModel, writeBatch } from '../storage/index.js';
import { useTestService } from './helpers.js';

const root = path.resolve(import.meta.dirname, '..');

interface K6Results {
  checks: Record<string, { passes: number; fails: number }>;
  statuses: Record<string, number>;
}

/** Runs a scenario's default function `iterations` times in a child process (test/fixtures/k6-run.mjs). */
async function runScenario(file: string, env: Record<string, string>, iterations: number): Promise<K6Results> {
  const child = spawn(process.execPath, [path.join(root, 'test', 'fixtures', 'k6-run.mjs'), path.join(root, 'bench', 'k6', file), String(iterations)], {
    env: { PATH: process.env.PATH ?? '', K6_ENV: JSON.stringify(env) }, stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (err += d));
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  if (code !== 0) throw new Error(`${file}: the scenario runner exited with ${code}:\n${err}`);
  return JSON.parse(out) as K6Results;
}

const failed = (r: K6Results): string[] => Object.entries(r.checks).filter(([, c]) => c.fails > 0).map(([name, c]) => `${name}: ${c.fails} failed`);

describe('the k6 scenarios against a default service', () => {
  // Default settings: OPEN_DATA_RATE_LIMIT_PER_MINUTE is not set (600).
  const running = useTestService({}, async (db) => {
    await upsertDeviceModel(db.pool, { id: 'air-v1', name: 'air', decoderKind: 'builtin', builtinName: 'stadtfunk-air' });
    await upsertAsset(db.pool, { id: 'lamp-00001', kind: 'street_lamp', latitude: 51.22, longitude: 6.77, zone: 'altstadt', isPublic: true });
    await upsertDevice(db.pool, { devEui: '00000000000000c1', modelId: 'air-v1', assetId: 'lamp-00001' });
    const time = new Date(Date.now() - 3_600_000);
    await writeBatch(db.pool, {
      uplinks: [{ id: 'k6-1', receivedAt: time, devEui: '00000000000000c1', fCnt: 1, fPort: 10, payload: Buffer.alloc(1), decoded: null, decodeError: null, source: 'chirpstack', radio: { frequencyHz: null, spreadingFactor: null, bandwidthHz: null, dataRate: null, band: null, receptions: [] } }],
      readings: [{ time, devEui: '00000000000000c1', metric: 'pm2_5', channel: '', value: 7, quality: 'ok', assetId: 'lamp-00001', uplinkId: 'k6-1' }],
      healthReadings: [], deadLetters: [],
    });
  });
  const base = () => running.service.httpUrl;

  it('geojson-latest.js with a key: 700 requests, more than the limit allows a minute, every check passes', async () => {
    expect(running.config.api.openDataRateLimitPerMinute).toBe(600);
    const key = (await createApiKey(running.db.pool, 'k6', 'operator')).key;
    const r = await runScenario('geojson-latest.js', { BASE: base(), KEY: key }, 700);
    expect(failed(r)).toEqual([]);
    expect(r.statuses).toEqual({ 200: 700 });
  }, 300_000);

  it('open-data-series.js and live-zones.js with a key: every check passes', async () => {
    const key = (await createApiKey(running.db.pool, 'k6 series', 'operator')).key;
    const series = await runScenario('open-data-series.js', { BASE: base(), KEY: key }, 50);
    expect(failed(series)).toEqual([]);
    const zones = await runScenario('live-zones.js', { BASE: base(), KEY: key }, 50);
    expect(failed(zones)).toEqual([]);
    expect(zones.statuses).toEqual({ 200: 50 });
  }, 300_000);

  it('geojson-latest.js without a key reaches the limit, and its check says what to do', async () => {
    const r = await runScenario('geojson-latest.js', { BASE: base() }, 650);
    expect(r.statuses[429]).toBeGreaterThan(0);
    expect(failed(r)).toContain(`not rate-limited (send -e KEY=… or raise OPEN_DATA_RATE_LIMIT_PER_MINUTE): ${r.statuses[429]} failed`);
  }, 300_000);
});
