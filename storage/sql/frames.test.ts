import { describe, expect, it } from 'vitest';
import { newestStatsPerConcentrator, type ConcentratorStatsRow } from './frames.js';

const report = (gatewayId: string, seconds: number, rxReceived: number, extra: Partial<ConcentratorStatsRow> = {}): ConcentratorStatsRow => ({
  gatewayId, band: '450MHz', seenAt: new Date(Date.UTC(2026, 11, 2, 8, 0, seconds)), stats: {}, latitude: null, longitude: null, rxReceived, rxForwarded: rxReceived, ...extra,
});

describe('newestStatsPerConcentrator', () => {
  it('keeps one row per concentrator, in gateway-id order: the newest report, the later of equal time', () => {
    const rows = newestStatsPerConcentrator([report('b', 10, 1), report('a', 5, 2), report('b', 20, 3), report('b', 20, 4), report('a', 1, 5)]);
    expect(rows.map((r) => [r.gatewayId, r.rxReceived])).toEqual([['a', 2], ['b', 4]]);
  });

  it('takes the position of the newest report that has one, and the first band known', () => {
    const [row] = newestStatsPerConcentrator([
      report('g', 0, 1, { band: null, latitude: 51.2, longitude: 6.7 }),
      report('g', 10, 2, { band: 'EU868', latitude: 51.3, longitude: 6.8 }),
      report('g', 20, 3, { band: '450MHz' }),
    ]);
    expect(row).toMatchObject({ rxReceived: 3, band: 'EU868', latitude: 51.3, longitude: 6.8 });
  });
});
