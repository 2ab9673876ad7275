import { describe, expect, it } from 'vitest';
import { LiveBus, type LiveEvent } from './live-bus.js';

const event = (value: number) => ({ assetId: 'bay-1', devEui: '0000000000000001', metric: 'occupied', channel: '', value, quality: 'ok', time: '2026-11-24T12:00:00.000Z' });

describe('LiveBus ring', () => {
  it('replays what a reconnecting client missed, and says so when it fell out of the ring', () => {
    const bus = new LiveBus(3);
    expect(bus.since(0)).toEqual([]);
    for (let v = 1; v <= 5; v++) bus.publish(event(v));
    expect(bus.lastId()).toBe(5);
    expect(bus.since(2)!.map((e) => [e.id, e.value])).toEqual([[3, 3], [4, 4], [5, 5]]);
    expect(bus.since(4)!.map((e) => e.id)).toEqual([5]);
    expect(bus.since(5)).toEqual([]);
    expect(bus.since(1)).toBeNull(); // event 2 is gone
    expect(bus.since(0)).toBeNull();
    expect(bus.since(6)).toBeNull(); // from another process's numbering
    for (let v = 6; v <= 11; v++) bus.publish(event(v));
    expect(bus.since(8)!.map((e) => e.value)).toEqual([9, 10, 11]);
  });

  it('publishes the readings that moved the latest state of assets to listeners, numbered', () => {
    const bus = new LiveBus();
    const seen: LiveEvent[] = [];
    bus.subscribe((e) => seen.push(e));
    const r = (time: string, value: number, assetId: string | null = 'bay-1') => ({ time: new Date(time), devEui: '0000000000000001', metric: 'occupied', channel: '', value, quality: 'ok' as const, assetId, uplinkId: 'u' });
    const empty = { uplinks: [], readings: [], healthReadings: [], deadLetters: [] };
    const result = (latest: ReturnType<typeof r>[]) => ({ inserted: new Set<string>(), newUplinks: 0, duplicateUplinks: 0, readings: latest.length, latest });
    bus.publishCommitted(empty, result([r('2026-11-24T12:00:03Z', 3)]));
    bus.publishCommitted(empty, result([r('2026-11-24T12:00:04Z', 4, null), r('2026-11-24T12:00:05Z', 5, 'bay-2')]));
    expect(seen.map((e) => [e.id, e.assetId, e.value, e.time])).toEqual([[1, 'bay-1', 3, '2026-11-24T12:00:03.000Z'], [2, 'bay-2', 5, '2026-11-24T12:00:05.000Z']]);
  });
});
