/** Re-decoding stored uplinks after a mapping fix replaces their readings exactly once. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDecoders, type Decoders } from '../decoders/index.js';
import { redecode } from '../decoders/redecode.js';
import { upsertAsset, upsertDevice, upsertDeviceModel, writeBatch } from '../storage/index.js';
import { createTestDatabase, type TestDatabase } from './helpers.js';

const CODEC = 'function decodeUplink(input) { return { data: { pm: input.bytes[0], t: input.bytes[1] } }; }';
const DEV = '00000000000000f1';

describe('redecode', () => {
  let db: TestDatabase;
  let decoders: Decoders;
  beforeAll(async () => {
    db = await createTestDatabase();
    decoders = await createDecoders();
    // The first mapping has a mistake: the pm field was mapped to pm10 instead of pm2_5.
    await upsertDeviceModel(db.pool, { id: 'vendor', name: 'v', decoderKind: 'codec', codecScript: CODEC, mapping: [{ path: 'pm', metric: 'pm10' }, { path: 't', metric: 'temperature' }] });
    await upsertAsset(db.pool, { id: 'lamp-r', kind: 'street_lamp', latitude: 51, longitude: 6 });
    await upsertDevice(db.pool, { devEui: DEV, modelId: 'vendor', assetId: 'lamp-r' });
    const uplinks = [];
    const readings = [];
    for (let i = 0; i < 2500; i++) {
      const t = new Date(Date.UTC(2026, 10, 1) + i * 60_000);
      uplinks.push({ id: `r-${i}`, receivedAt: t, devEui: DEV, fCnt: i, fPort: 1, payload: Buffer.from([i % 100, 20]), decoded: null, decodeError: null, source: 'chirpstack' as const, radio: { frequencyHz: null, spreadingFactor: null, bandwidthHz: null, dataRate: null, band: null, receptions: [] } });
      readings.push({ time: t, devEui: DEV, metric: 'pm10', channel: '', value: i % 100, quality: 'ok', assetId: 'lamp-r', uplinkId: `r-${i}` });
      readings.push({ time: t, devEui: DEV, metric: 'rssi', channel: '', value: -100, quality: 'ok', assetId: 'lamp-r', uplinkId: `r-${i}` });
    }
    await writeBatch(db.pool, { uplinks, readings, healthReadings: [], deadLetters: [] });
  });
  afterAll(async () => {
    decoders?.close();
    await db?.drop();
  });

  const counts = async () =>
    Object.fromEntries((await db.pool.query<{ metric: string; n: number }>('select metric, count(*)::int as n from readings group by metric order by metric')).rows.map((r) => [r.metric, r.n]));

  it('replaces the readings with the fixed mapping, exactly once, keeping radio readings', async () => {
    await upsertDeviceModel(db.pool, { id: 'vendor', name: 'v', decoderKind: 'codec', codecScript: CODEC, mapping: [{ path: 'pm', metric: 'pm2_5' }, { path: 't', metric: 'temperature' }] });
    const progress: number[] = [];
    const from = new Date(Date.UTC(2026, 10, 1));
    const to = new Date(Date.UTC(2026, 10, 3));
    const done = await redecode(db.pool, decoders, { devEui: DEV, modelId: null, from, to, pageSize: 1000, onProgress: (p) => progress.push(p.uplinks) });
    expect(done).toEqual({ uplinks: 2500, readings: 5000, failed: 0 });
    expect(progress).toEqual([1000, 2000, 2500]);
    expect(await counts()).toEqual({ pm2_5: 2500, rssi: 2500, temperature: 2500 });
    await redecode(db.pool, decoders, { devEui: null, modelId: 'vendor', from, to });
    expect(await counts()).toEqual({ pm2_5: 2500, rssi: 2500, temperature: 2500 });
    const decoded = await db.pool.query("select decoded from uplinks where id = 'r-7'");
    expect(decoded.rows[0].decoded).toEqual({ pm: 7, t: 20 });
    const latest = await db.pool.query("select metric from latest_readings where dev_eui = $1 order by metric", [DEV]);
    expect(latest.rows.map((r) => r.metric)).toContain('pm2_5');
  });
});
