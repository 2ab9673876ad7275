/**
 * Device lookups for ingest, cached: at thousands of uplinks per second a query
 * per message would dominate. Known devices are cached for `ttlMs`, unknown ones
 * for a shorter time so a device registered a moment ago starts working soon.
 * The API invalidates entries it changes in this process; other processes see the
 * change within the TTL.
 */
import type pg from 'pg';
import { selectDeviceContexts, type DeviceContext } from '../storage/index.js';
import { FifoMap } from './fifo-map.js';

export interface DeviceDirectoryOptions {
  /** How long a known device is cached. Default 10 000 ms. */
  ttlMs?: number;
  /** How long an unknown device is cached. Default 1 000 ms. */
  unknownTtlMs?: number;
  /** Most cached entries; the oldest go first. Default 200 000. */
  maxEntries?: number;
  now?: () => number;
}

interface Entry {
  device: DeviceContext | null;
  expiresAt: number;
}

export class DeviceDirectory {
  /** Oldest (least recently fetched) first. */
  private readonly cache = new FifoMap<string, Entry>();
  private readonly ttlMs: number;
  private readonly unknownTtlMs: number;
  private readonly maxEntries: number;
  private readonly now: () => number;

  constructor(private readonly pool: pg.Pool, options: DeviceDirectoryOptions = {}) {
    this.ttlMs = options.ttlMs ?? 10_000;
    this.unknownTtlMs = options.unknownTtlMs ?? 1_000;
    this.maxEntries = options.maxEntries ?? 200_000;
    this.now = options.now ?? Date.now;
  }

  /** Looks up many devices with at most one query. Unknown devices map to null. */
  async resolve(devEuis: Iterable<string>): Promise<Map<string, DeviceContext | null>> {
    const now = this.now();
    const found = new Map<string, DeviceContext | null>();
    const missing: string[] = [];
    for (const devEui of new Set(devEuis)) {
      const entry = this.cache.get(devEui);
      if (entry && entry.expiresAt > now) found.set(devEui, entry.device);
      else missing.push(devEui);
    }
    if (missing.length > 0) {
      const rows = await selectDeviceContexts(this.pool, missing);
      const byEui = new Map(rows.map((r) => [r.devEui, r]));
      for (const devEui of missing) {
        const device = byEui.get(devEui) ?? null;
        found.set(devEui, device);
        this.remember(devEui, device, now);
      }
    }
    return found;
  }

  invalidate(devEui?: string): void {
    if (devEui === undefined) this.cache.clear();
    else this.cache.delete(devEui);
  }

  private remember(devEui: string, device: DeviceContext | null, now: number): void {
    if (!this.cache.has(devEui) && this.cache.size >= this.maxEntries) this.cache.shift();
    this.cache.set(devEui, { device, expiresAt: now + (device ? this.ttlMs : this.unknownTtlMs) });
  }
}
