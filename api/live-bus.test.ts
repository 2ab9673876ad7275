import { describe, expect, it } from 'vitest';
import { LiveBus } from './live-bus.js';

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

  it('publishes the newest reading per device, metric and channel of a batch to listeners', () => {
    const bus = new LiveBus();
    const seen: number[] = [];
    bus.subscribe((e) => seen.push(e.value));
    const r = (time: string, value: number, assetId: string | null = 'bay-1') => ({ time: new Date(time), devEui: '0000000000000001', metric: 'occupied', channel: '', value, quality: 'ok', assetId, uplinkId: 'u' });
    bus.publishBatch({ uplinks: [], readings: [r('2026-11-24T12:00:01Z', 1), r('2026-11-24T12:00:03Z', 3), r('2026-11-24T12:00:02Z', 2)], healthReadings: [], deadLetters: [] });
    bus.publishBatch({ uplinks: [], readings: [r('2026-11-24T12:00:04Z', 4, null)], healthReadings: [], deadLetters: [] });
    expect(seen).toEqual([3]);
  });
});
