/**
 * The ops cockpit's data (issue 25, item 4) on the real service: ingest records its history
 * per minute (not per batch) and the cockpit reads it back in buckets, with per-gateway
 * RSSI and SNR; low batteries follow each model's threshold and a freshly registered fleet
 * is not silent; /metrics has the standard process and Node.js metrics and request
 * durations by route, and the Grafana dashboard in docs/ names only metrics that exist.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { createApiKey } from '../api/auth.js';
import { encodeAir } from '../decoders/index.js';
import { upsertAsset, upsertDevice, upsertDeviceModel } from '../storage/index.js';
import { eventually, uniqueName, useTestService } from './helpers.js';

const run = useTestService({}, async (db) => {
  await upsertDeviceModel(db.pool, { id: 'cell-36', name: '3.6 V cell', decoderKind: 'builtin', builtinName: 'stadtfunk-air', expectedIntervalS: 300, batteryLowVolts: 3.1 });
  await upsertDeviceModel(db.pool, { id: 'two-aa', name: '2 AA cells', decoderKind: 'builtin', builtinName: 'stadtfunk-air', expectedIntervalS: 300, batteryLowVolts: 2.4 });
  await upsertDeviceModel(db.pool, { id: 'no-threshold', name: 'unknown cell', decoderKind: 'builtin', builtinName: 'stadtfunk-air', expectedIntervalS: 300 });
  await upsertAsset(db.pool, { id: 'lamp-1', kind: 'street_lamp', latitude: 51.2262, longitude: 6.7737 });
  for (const [devEui, model] of [['00000000000000b1', 'cell-36'], ['00000000000000b2', 'cell-36'], ['00000000000000b3', 'two-aa'], ['00000000000000b4', 'no-threshold']] as const) {
    await upsertDevice(db.pool, { devEui, modelId: model, assetId: 'lamp-1' });
  }
  // Registered long ago and never heard: silent. The others were registered just now.
  await upsertDevice(db.pool, { devEui: '00000000000000b5', modelId: 'cell-36', assetId: 'lamp-1' });
  await db.pool.query("update devices set created_at = now() - interval '1 hour' where dev_eui = '00000000000000b5'");
  // Registered just now and not heard yet: not silent.
  await upsertDevice(db.pool, { devEui: '00000000000000b6', modelId: 'cell-36', assetId: 'lamp-1' });
});

const air = (battery: number) => encodeAir({ pm1: 5, pm2_5: 8, pm10: 12, no2: 20, co2: 420, temperature: 6.5, relative_humidity: 80, pressure: 1012, noise: 50, battery_voltage: battery });

async function get(path: string, key: string) {
  const res = await fetch(`${run.service.httpUrl}${path}`, { headers: { authorization: `Bearer ${key}` } });
  return { status: res.status, text: await res.text() };
}

describe('ops cockpit data', () => {
  it('records ingest per minute and per gateway, and reads it back over the last day', async () => {
    const key = (await createApiKey(run.db.pool, 'ops', 'admin')).key;
    const prefix = run.config.ingest.chirpstackPrefix!;
    const send = (devEui: string, n: number, battery: number, gateways: { id: string; rssi: number; snr: number }[]) => run.publisher.publishAsync(
      `${prefix}/app/device/${devEui}/event/up`,
      JSON.stringify({ deduplicationId: uniqueName('ops-'), time: new Date().toISOString(), deviceInfo: { devEui }, fCnt: n, fPort: 10, data: air(battery).toString('base64'),
        rxInfo: gateways.map((g) => ({ gatewayId: g.id, rssi: g.rssi, snr: g.snr })) }), { qos: 1 });
    await send('00000000000000b1', 1, 3.2, [{ id: 'aa00000000000001', rssi: -100, snr: 2 }, { id: 'aa00000000000002', rssi: -80, snr: 9 }]);
    await send('00000000000000b2', 1, 3.0, [{ id: 'aa00000000000001', rssi: -110, snr: -4 }]);
    await send('00000000000000b3', 1, 2.7, [{ id: 'aa00000000000001', rssi: -90, snr: 5 }]);
    await send('00000000000000b4', 1, 2.0, [{ id: 'aa00000000000002', rssi: -70, snr: 10 }]);
    await run.publisher.publishAsync(`${prefix}/app/device/00000000000000b1/event/up`, '{broken', { qos: 1 });
    await eventually(async () => ((await run.db.pool.query('select 1 from dead_letters')).rowCount === 1 && (await run.db.pool.query('select 1 from latest_state')).rowCount === 4) || undefined);
    // Nothing is written per batch: the history waits for its minute.
    expect((await run.db.pool.query('select 1 from ingest_minutes')).rowCount).toBe(0);
    await run.service.ingest.flushHistory();
    const minutes = await run.db.pool.query('select sum(uplinks)::int as uplinks, sum(messages)::int as messages, sum(dead_letters)::int as dead, sum(batches)::int as batches from ingest_minutes');
    expect(minutes.rows[0]).toMatchObject({ uplinks: 4, messages: 5, dead: 1 });
    expect(minutes.rows[0].batches).toBeGreaterThan(0);

    const history = await get('/api/v1/ops/history', key);
    expect(history.status, history.text).toBe(200);
    const h = JSON.parse(history.text);
    expect(h.bucketSeconds).toBe(300);
    expect(h.ingest).toHaveLength(288);
    expect(h.ingest.reduce((s: number, p: { uplinksPerSecond: number }) => s + p.uplinksPerSecond * 300, 0)).toBeCloseTo(4);
    expect(h.ingest.some((p: { batchMsAvg: number | null }) => p.batchMsAvg !== null && p.batchMsAvg > 0)).toBe(true);
    expect(h.deadLetters.reduce((s: number, p: { count: number }) => s + p.count, 0)).toBe(1);
    const gw1 = h.concentrators.find((c: { gatewayId: string }) => c.gatewayId === 'aa00000000000001');
    const filled = gw1.points.filter((p: { uplinks: number }) => p.uplinks > 0);
    expect(filled).toEqual([expect.objectContaining({ uplinks: 3, rssiDbm: -100, snrDb: 1 })]);
    expect(h.concentrators.map((c: { gatewayId: string }) => c.gatewayId)).toEqual(['aa00000000000001', 'aa00000000000002']);

    // Flushing again adds nothing twice.
    await run.service.ingest.flushHistory();
    expect((await run.db.pool.query('select sum(uplinks)::int as n from ingest_minutes')).rows[0].n).toBe(4);

    const status = JSON.parse((await get('/api/v1/ops/status', key)).text);
    // b2 (3.0 V < 3.1 V of its model) is low; b1 (3.2 V) is not; b3 (2.7 V, two AA cells, low at 2.4 V) is not;
    // b4 has no threshold for voltage.
    expect(status.lowBatteries.map((b: { devEui: string; threshold: number }) => [b.devEui, b.threshold])).toEqual([['00000000000000b2', 3.1]]);
    // Only the device registered an hour ago and never heard is silent.
    expect(status.silentDevices.map((d: { devEui: string }) => d.devEui)).toEqual(['00000000000000b5']);
  });

  it('/metrics has process, Node.js and HTTP request metrics, and the Grafana dashboard names only those that exist', async () => {
    const key = (await createApiKey(run.db.pool, 'scraper', 'admin')).key;
    await fetch(`${run.service.httpUrl}/api/v1/open/datasets`);
    await fetch(`${run.service.httpUrl}/api/v1/devices/00000000000000b1`, { headers: { authorization: `Bearer ${key}` } });
    await fetch(`${run.service.httpUrl}/no/such/page`);
    const metrics = (await get('/metrics', key)).text;
    for (const name of ['process_cpu_user_seconds_total', 'process_resident_memory_bytes', 'nodejs_heap_size_used_bytes', 'nodejs_eventloop_lag_p99_seconds', 'nodejs_gc_duration_seconds_bucket']) {
      expect(metrics).toMatch(new RegExp(`^${name}[ {]`, 'm'));
    }
    expect(metrics).toMatch(/^stadtfunk_api_request_duration_seconds_count\{method="GET",route="\/api\/v1\/open\/datasets",status_code="200"\} 1$/m);
    // The pattern, not the DevEUI: one series per route.
    expect(metrics).toMatch(/route="\/api\/v1\/devices\/:devEui"/);
    expect(metrics).not.toMatch(/route="\/api\/v1\/devices\/00000000000000b1"/);
    expect(metrics).toMatch(/route="unmatched",status_code="404"/);
    const series = new Set([...metrics.matchAll(/^([a-z_:][a-z0-9_:]*)[ {]/gm)].map((m) => m[1]!));

    const dashboard = JSON.parse(await fs.readFile(path.resolve(import.meta.dirname, '..', 'docs', 'grafana-dashboard.json'), 'utf8'));
    expect(dashboard.panels.length).toBeGreaterThan(5);
    const exprs: string[] = dashboard.panels.flatMap((p: { targets?: { expr: string }[] }) => (p.targets ?? []).map((t) => t.expr));
    expect(exprs.length).toBeGreaterThan(10);
    const named = new Set(exprs.flatMap((e) => [...e.matchAll(/\b((?:stadtfunk|process|nodejs)_[a-z0-9_]+)/g)].map((m) => m[1]!)));
    expect([...named].filter((n) => !series.has(n))).toEqual([]);
    for (const needed of ['stadtfunk_ingest_uplinks_total', 'stadtfunk_storage_batch_duration_seconds_bucket', 'stadtfunk_api_request_duration_seconds_bucket', 'process_resident_memory_bytes']) {
      expect(named.has(needed)).toBe(true);
    }
  });
});
