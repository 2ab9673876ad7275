import { describe, expect, it } from 'vitest';
import { checkCounter, rebuildFCnt, sameEpochCounter } from './frame-counter.js';

describe('rebuildFCnt', () => {
  // ChirpStack's test_get_full_f_cnt_up table (chirpstack/src/storage/device_session.rs),
  // restated with the LAST accepted counter (ChirpStack keeps the next expected one = last + 1).
  it.each([
    ['counter as expected', 0, 1, 1],
    ['counter as expected at 2^16', 65_535, 0, 65_536],
    ['counter as expected past 2^16', 65_536, 1, 65_537],
    ['one frame lost', 65_536, 2, 65_538],
    ['retransmission of the previous frame', 1, 1, 1],
    ['retransmission just past 2^16', 65_536, 0, 65_536],
    ['retransmission just below 2^16', 65_535, 65_535, 65_535],
    ['32-bit rollover', 0xffff_fffe, 0, 0],
  ])('%s: last %i, %i on air → %i', (_name, last, onAir, full) => {
    expect(rebuildFCnt(last, onAir)).toBe(full);
  });

  it('takes the 16 bits as they are before the first uplink (ChirpStack: next expected 0, device 1 → 1)', () => {
    expect(rebuildFCnt(null, 1)).toBe(1);
    expect(rebuildFCnt(null, 65_535)).toBe(65_535);
  });

  it('bridges up to 65 535 lost frames', () => {
    expect(rebuildFCnt(69_999, 4_464)).toBe(70_000);
    expect(rebuildFCnt(100, 99)).toBe(100 + 65_535);
  });

  it('wraps the 16 bits on the air from 65535 to 0 into 65536', () => {
    expect(rebuildFCnt(65_534, 65_535)).toBe(65_535);
    expect(rebuildFCnt(65_535, 0)).toBe(65_536);
    expect(rebuildFCnt(131_071, 0)).toBe(131_072);
  });

  it('never returns a counter below the last one, apart from the 32-bit rollover', () => {
    for (const last of [0, 1, 65_535, 65_536, 1_000_000]) {
      for (const onAir of [0, 1, 4_464, 65_535]) expect(rebuildFCnt(last, onAir)).toBeGreaterThanOrEqual(last);
    }
  });

  it('refuses values that are not counters', () => {
    expect(() => rebuildFCnt(0, 65_536)).toThrow(RangeError);
    expect(() => rebuildFCnt(-1, 0)).toThrow(RangeError);
    expect(() => rebuildFCnt(2 ** 32, 0)).toThrow(RangeError);
  });
});

describe('sameEpochCounter', () => {
  it('places an old frame in the last counter\'s window of 65 536', () => {
    expect(sameEpochCounter(70_000, 100)).toBe(65_636);
    expect(sameEpochCounter(100, 50)).toBe(50);
  });
  it('is null when that would not be below the last counter, or before the first uplink', () => {
    expect(sameEpochCounter(100, 100)).toBeNull();
    expect(sameEpochCounter(100, 200)).toBeNull();
    expect(sameEpochCounter(null, 5)).toBeNull();
  });
});

describe('checkCounter', () => {
  it('accepts the first uplink and every counter above the last', () => {
    expect(checkCounter(null, 0, false)).toBe('accept');
    expect(checkCounter(5, 6, false)).toBe('accept');
    expect(checkCounter(5, 70_000, false)).toBe('accept');
  });
  it('calls the same counter a retransmission', () => {
    expect(checkCounter(5, 5, false)).toBe('retransmission');
  });
  it('calls a lower counter a replay, including after the 32-bit rollover', () => {
    expect(checkCounter(5, 4, false)).toBe('replay');
    expect(checkCounter(0xffff_fffe, 0, false)).toBe('replay');
  });
  it('lets a device that may reset go back to a lower or equal counter', () => {
    expect(checkCounter(70_000, 3, true)).toBe('reset-accepted');
    expect(checkCounter(5, 5, true)).toBe('reset-accepted');
    expect(checkCounter(5, 6, true)).toBe('accept');
  });
});
