import { describe, expect, it } from 'vitest';
import { DistinctDeviceClock } from './local-time.js';

describe('DistinctDeviceClock', () => {
  it('gives uplinks of one device stamped in one millisecond distinct times, other devices theirs', () => {
    const clock = new DistinctDeviceClock();
    const at = new Date('2026-12-05T10:00:00.000Z');
    const times = [clock.stamp('a', at), clock.stamp('a', at), clock.stamp('b', at), clock.stamp('a', new Date(at.getTime() + 1))];
    expect(times.map((t) => t.toISOString())).toEqual([
      '2026-12-05T10:00:00.000Z', '2026-12-05T10:00:00.001Z', '2026-12-05T10:00:00.000Z', '2026-12-05T10:00:00.002Z',
    ]);
  });

  it('keeps a later time as it is', () => {
    const clock = new DistinctDeviceClock();
    clock.stamp('a', new Date('2026-12-05T10:00:00.000Z'));
    const later = new Date('2026-12-05T10:00:01.000Z');
    expect(clock.stamp('a', later)).toBe(later);
  });
});
