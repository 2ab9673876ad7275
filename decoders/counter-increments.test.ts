import { describe, expect, it } from 'vitest';
import { counterIncrements } from './counter-increments.js';

const at = (minute: number, value: number) => ({ time: new Date(Date.UTC(2026, 10, 24, 12, minute)), value });
const hour = 3_600_000;

describe('counts per interval from a cumulative counter', () => {
  it('counts the differences, the first point being the base', () => {
    expect(counterIncrements([at(0, 100), at(10, 104), at(20, 110)], { intervalMs: hour })).toEqual([{ start: new Date(Date.UTC(2026, 10, 24, 12)), count: 10, resets: 0, wraps: 0 }]);
  });

  it('counts across a 16-bit wrap when the wrap is known', () => {
    expect(counterIncrements([at(0, 65_530), at(10, 3)], { intervalMs: hour, wrapAt: 65_536 })[0]).toMatchObject({ count: 9, wraps: 1, resets: 0 });
  });

  it('takes a drop for a reset: what came since the reset is counted', () => {
    expect(counterIncrements([at(0, 500), at(10, 7)], { intervalMs: hour, wrapAt: 65_536 })[0]).toMatchObject({ count: 7, resets: 1, wraps: 0 });
    expect(counterIncrements([at(0, 65_530), at(10, 3)], { intervalMs: hour })[0]).toMatchObject({ count: 3, resets: 1 });
  });

  it('puts each increment in the interval of its later point', () => {
    const r = counterIncrements([at(50, 10), at(55, 12), at(65, 20), at(70, 21)], { intervalMs: hour });
    expect(r.map((x) => [x.start.toISOString(), x.count])).toEqual([['2026-11-24T12:00:00.000Z', 2], ['2026-11-24T13:00:00.000Z', 9]]);
  });
});
