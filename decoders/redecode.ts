/**
 * Re-decode: after a codec or mapping fix, stored raw uplinks of one device or one
 * model in a time range are decoded again and their readings replaced. Page by page,
 * each page in one transaction (delete the page's readings, insert the new ones, update
 * the stored decoded JSON and latest state), so running it twice gives the same rows.
 */
import type pg from 'pg';
import {
  deleteReadingsOfUplinks, inTransaction, insertReadings, newestPerKey, selectDeviceContexts, selectUplinksForRedecode, updateDecoded, upsertLatestState,
  type ReadingRow,
} from '../storage/index.js';
import type { Decoders } from './index.js';
import type { DeviceModel, FieldMapping, ModelCategory } from './types.js';

export interface RedecodeOptions {
  devEui: string | null;
  modelId: string | null;
  from: Date;
  to: Date;
  pageSize?: number;
  onProgress?: (p: { uplinks: number; readings: number; failed: number }) => void;
}

export async function redecode(pool: pg.Pool, decoders: Decoders, options: RedecodeOptions): Promise<{ uplinks: number; readings: number; failed: number }> {
  const progress = { uplinks: 0, readings: 0, failed: 0 };
  let after: { receivedAt: Date; id: string } | null = null;
  for (;;) {
    const page = await selectUplinksForRedecode(pool, { devEui: options.devEui, modelId: options.modelId, from: options.from, to: options.to, after, limit: options.pageSize ?? 1000 });
    if (page.length === 0) break;
    const devices = new Map((await selectDeviceContexts(pool, [...new Set(page.map((u) => u.devEui))])).map((d) => [d.devEui, d]));
    const readings: ReadingRow[] = [];
    const decodedRows: { id: string; receivedAt: Date; decoded: unknown; decodeError: string | null }[] = [];
    for (const u of page) {
      const device = devices.get(u.devEui);
      if (!device) continue;
      const model: DeviceModel = {
        id: device.modelId,
        decoder: device.decoderKind === 'builtin' ? { kind: 'builtin', name: device.builtinName ?? '' } : { kind: 'codec', script: device.codecScript ?? '' },
        mapping: Array.isArray(device.mapping) ? (device.mapping as FieldMapping[]) : [],
        category: (device.category as ModelCategory | null) ?? null,
      };
      const result = await decoders.decode(model, { bytes: u.payload, fPort: u.fPort ?? 0, recvTime: u.receivedAt });
      if (result.errors.length > 0) progress.failed++;
      decodedRows.push({ id: u.id, receivedAt: u.receivedAt, decoded: result.errors.length ? null : result.decoded, decodeError: result.errors.length ? result.errors.join('; ') : null });
      for (const r of result.readings) readings.push({ time: r.time, devEui: u.devEui, metric: r.metric, channel: r.channel, value: r.value, quality: r.quality, assetId: u.assetId, uplinkId: u.id });
    }
    await inTransaction(pool, async (client) => {
      await deleteReadingsOfUplinks(client, page.map((u) => u.id), ['rssi', 'snr']);
      await insertReadings(client, readings);
      await updateDecoded(client, decodedRows);
      await upsertLatestState(client, newestPerKey(readings));
    });
    progress.uplinks += page.length;
    progress.readings += readings.length;
    options.onProgress?.({ ...progress });
    const last = page[page.length - 1]!;
    after = { receivedAt: last.receivedAt, id: last.id };
  }
  return progress;
}
