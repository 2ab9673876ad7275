import { describe, expect, it } from 'vitest';
import type { ReadingRow } from './rows.js';
import { newestPerKey } from './writer.js';

function reading(devEui: string, metric: string, channel: string, at: number, value = at): ReadingRow {
  return { time: new Date(at), devEui, metric, channel, value, quality: 'ok', assetId: null, uplinkId: `u${at}` };
}

/** The same answer written the plain way: one string key per reading. */
function byStringKey(rows: ReadingRow[]): ReadingRow[] {
  const latest = new Map<string, ReadingRow>();
  for (const row of rows) {
    const key = JSON.stringify([row.devEui, row.metric, row.channel]);
    const seen = latest.get(key);
    if (!seen || seen.time < row.time) latest.set(key, row);
  }
  return [...latest.values()];
}

const sorted = (rows: ReadingRow[]): string[] => rows.map((r) => `${r.devEui}/${r.metric}/${r.channel}/${r.time.getTime()}`).sort();

describe('newestPerKey', () => {
  it('keeps the newest reading per device, metric and channel, whatever the order', () => {
    const rows = [
      reading('a', 'temperature', '', 2),
      reading('a', 'temperature', '', 1),
      reading('a', 'temperature', '', 3),
      reading('b', 'temperature', '', 1),
      reading('a', 'co2', '', 1),
    ];
    expect(sorted(newestPerKey(rows))).toEqual(['a/co2//1', 'a/temperature//3', 'b/temperature//1']);
  });

  it('keeps channels of one metric apart, also when the same metric comes without a channel before and after', () => {
    const rows = [
      reading('a', 'vehicle_count', '', 5),
      reading('a', 'vehicle_count', 'car', 2),
      reading('a', 'vehicle_count', 'car', 4),
      reading('a', 'vehicle_count', 'truck', 1),
      reading('a', 'vehicle_count', '', 3),
      reading('a', 'vehicle_count', '', 6),
    ];
    expect(sorted(newestPerKey(rows))).toEqual(['a/vehicle_count//6', 'a/vehicle_count/car/4', 'a/vehicle_count/truck/1']);
  });

  it('gives the same answer as one string key per reading on a mixed batch', () => {
    const metrics = ['pm2_5', 'no2', 'vehicle_count', 'occupied'];
    const channels = ['', '', 'car', 'lane-1'];
    const rows: ReadingRow[] = [];
    let seed = 7;
    const next = (n: number): number => (seed = (seed * 1103515245 + 12345) % 2 ** 31) % n;
    for (let i = 0; i < 2000; i++) rows.push(reading(`d${next(40)}`, metrics[next(4)]!, channels[next(4)]!, next(500)));
    expect(sorted(newestPerKey(rows))).toEqual(sorted(byStringKey(rows)));
  });
});
