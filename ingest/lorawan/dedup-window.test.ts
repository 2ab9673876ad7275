import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { DedupWindow, bestReceptionIndex } from './dedup-window.js';
import { hex, loraPacket } from './test-vectors.js';
import type { ConcentratorReception, FrameGroup, LateReception } from './types.js';

const frame = hex(loraPacket.testFrame);
const otherFrame = hex(loraPacket.emptyFrame);

function reception(gatewayId: string, rssiDbm: number | null, snrDb: number | null): ConcentratorReception {
  return {
    gatewayId,
    rssiDbm,
    snrDb,
    receivedAt: new Date(),
    frequencyHz: 450_500_000,
    spreadingFactor: 10,
    bandwidthHz: 125_000,
    codeRate: 'CR_4_5',
    context: Buffer.from('00000001', 'hex'),
  };
}

describe('DedupWindow', () => {
  let groups: FrameGroup[];
  let late: LateReception[];

  beforeEach(() => {
    vi.useFakeTimers({ now: new Date('2025-03-01T08:00:00Z') });
    groups = [];
    late = [];
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  function makeWindow(options: Partial<ConstructorParameters<typeof DedupWindow>[0]> = {}) {
    return new DedupWindow({ onGroup: (g) => groups.push(g), onLate: (l) => late.push(l), ...options });
  }

  it('groups three concentrators\' copies arriving with jitter into one group with three receptions, best marked', () => {
    const window = makeWindow();
    expect(window.offer(frame, reception('0000000000000a01', -110, -3))).toBe('opened');
    vi.advanceTimersByTime(40);
    expect(window.offer(Buffer.from(frame), reception('0000000000000a02', -95, 7.5))).toBe('joined');
    vi.advanceTimersByTime(80);
    expect(window.offer(Buffer.from(frame), reception('0000000000000a03', -101, 2))).toBe('joined');
    vi.advanceTimersByTime(79);
    expect(groups).toHaveLength(0);

    vi.advanceTimersByTime(1);
    expect(groups).toHaveLength(1);
    const [group] = groups;
    expect(group?.phyPayload).toEqual(frame);
    expect(group?.firstSeenAt).toEqual(new Date('2025-03-01T08:00:00Z'));
    expect(group?.receptions.map((r) => r.gatewayId)).toEqual(['0000000000000a01', '0000000000000a02', '0000000000000a03']);
    expect(group?.receptions.map((r) => r.best)).toEqual([false, true, false]);
    expect(window.openWindows).toBe(0);
  });

  it('closes each of several staggered windows at its own time, and goes on after onGroup threw', () => {
    const frames = [0, 1, 2].map((i) => Buffer.concat([frame, Buffer.from([i])]));
    let throws = true;
    const window = makeWindow({
      onGroup: (g) => {
        groups.push(g);
        if (throws) {
          throws = false;
          throw new Error('downstream failed');
        }
      },
      onError: () => undefined,
    });
    window.offer(frames[0]!, reception('0000000000000a01', -100, 1)); // due at 200
    vi.advanceTimersByTime(50);
    window.offer(frames[1]!, reception('0000000000000a01', -100, 1)); // due at 250
    vi.advanceTimersByTime(70);
    window.offer(frames[2]!, reception('0000000000000a01', -100, 1)); // due at 320
    vi.advanceTimersByTime(79); // t = 199
    expect(groups).toHaveLength(0);
    vi.advanceTimersByTime(1); // 200
    expect(groups.map((g) => g.phyPayload.at(-1))).toEqual([0]);
    vi.advanceTimersByTime(49); // 249
    expect(groups).toHaveLength(1);
    vi.advanceTimersByTime(1); // 250
    expect(groups.map((g) => g.phyPayload.at(-1))).toEqual([0, 1]);
    vi.advanceTimersByTime(70); // 320
    expect(groups.map((g) => g.phyPayload.at(-1))).toEqual([0, 1, 2]);
    expect(window.openWindows).toBe(0);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('breaks an SNR tie by RSSI', () => {
    const window = makeWindow();
    window.offer(frame, reception('0000000000000a01', -100, 5));
    window.offer(frame, reception('0000000000000a02', -90, 5));
    vi.advanceTimersByTime(200);
    expect(groups[0]?.receptions.map((r) => r.best)).toEqual([false, true]);
  });

  it('reports a copy after the window closed as late, without a second group', () => {
    const window = makeWindow();
    window.offer(frame, reception('0000000000000a01', -100, 5));
    vi.advanceTimersByTime(250);
    expect(window.offer(frame, reception('0000000000000a04', -120, -10))).toBe('late');
    vi.advanceTimersByTime(1_000);
    expect(groups).toHaveLength(1);
    expect(late).toHaveLength(1);
    expect(late[0]?.reception.gatewayId).toBe('0000000000000a04');
    expect(late[0]?.groupFirstSeenAt).toEqual(new Date('2025-03-01T08:00:00Z'));
  });

  it('opens a new window for a copy whose key is no longer remembered', () => {
    const window = makeWindow({ lateRetentionMs: 1_000 });
    window.offer(frame, reception('0000000000000a01', -100, 5));
    vi.advanceTimersByTime(1_300);
    expect(window.offer(frame, reception('0000000000000a02', -100, 5))).toBe('opened');
    vi.advanceTimersByTime(200);
    expect(groups).toHaveLength(2);
    expect(late).toHaveLength(0);
  });

  it('keeps one reception per gateway when a gateway\'s message is delivered twice', () => {
    const window = makeWindow();
    window.offer(frame, reception('0000000000000a01', -100, 5));
    expect(window.offer(frame, reception('0000000000000a01', -100, 5))).toBe('duplicate_gateway');
    vi.advanceTimersByTime(200);
    expect(groups[0]?.receptions).toHaveLength(1);
  });

  it('keeps different frames apart', () => {
    const window = makeWindow();
    window.offer(frame, reception('0000000000000a01', -100, 5));
    window.offer(otherFrame, reception('0000000000000a01', -100, 5));
    vi.advanceTimersByTime(200);
    expect(groups.map((g) => g.phyPayload.toString('hex'))).toEqual([frame.toString('hex'), otherFrame.toString('hex')]);
  });

  it('emits the oldest window early when the open-window bound is reached', () => {
    const window = makeWindow({ maxOpenWindows: 2 });
    window.offer(Buffer.from('01', 'hex'), reception('0000000000000a01', -100, 5));
    vi.advanceTimersByTime(10);
    window.offer(Buffer.from('02', 'hex'), reception('0000000000000a01', -100, 5));
    expect(groups).toHaveLength(0);
    window.offer(Buffer.from('03', 'hex'), reception('0000000000000a01', -100, 5));
    expect(groups.map((g) => g.phyPayload.toString('hex'))).toEqual(['01']);
    expect(window.openWindows).toBe(2);
    vi.advanceTimersByTime(200);
    expect(groups.map((g) => g.phyPayload.toString('hex'))).toEqual(['01', '02', '03']);
  });

  it('bounds the receptions of one group', () => {
    const window = makeWindow({ maxReceptionsPerGroup: 2 });
    window.offer(frame, reception('0000000000000a01', -100, 5));
    window.offer(frame, reception('0000000000000a02', -100, 5));
    expect(window.offer(frame, reception('0000000000000a03', -100, 5))).toBe('dropped_full');
  });

  it('forgets remembered keys beyond the bound', () => {
    const window = makeWindow({ maxRememberedKeys: 1 });
    window.offer(Buffer.from('01', 'hex'), reception('0000000000000a01', -100, 5));
    window.offer(Buffer.from('02', 'hex'), reception('0000000000000a01', -100, 5));
    vi.advanceTimersByTime(200);
    expect(window.offer(Buffer.from('02', 'hex'), reception('0000000000000a02', -100, 5))).toBe('late');
    expect(window.offer(Buffer.from('01', 'hex'), reception('0000000000000a02', -100, 5))).toBe('opened');
  });

  it('emits every open group on flush and stops their timers', () => {
    const window = makeWindow();
    window.offer(frame, reception('0000000000000a01', -100, 5));
    window.offer(otherFrame, reception('0000000000000a01', -100, 5));
    window.flush();
    expect(groups).toHaveLength(2);
    vi.advanceTimersByTime(1_000);
    expect(groups).toHaveLength(2);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('does not let the caller change a group by reusing its buffer', () => {
    const window = makeWindow();
    const reused = Buffer.from(frame);
    window.offer(reused, reception('0000000000000a01', -100, 5));
    reused.fill(0);
    vi.advanceTimersByTime(200);
    expect(groups[0]?.phyPayload).toEqual(frame);
  });

  it('hands an error thrown by onGroup to onError instead of throwing from the timer', () => {
    const errors: unknown[] = [];
    const window = new DedupWindow({ onGroup: () => { throw new Error('boom'); }, onError: (e) => errors.push(e) });
    window.offer(frame, reception('0000000000000a01', -100, 5));
    vi.advanceTimersByTime(200);
    expect(errors).toHaveLength(1);
  });

  it('runs on an injected clock', () => {
    let now = 1_000;
    const pending: (() => void)[] = [];
    const window = new DedupWindow({
      onGroup: (g) => groups.push(g),
      clock: { now: () => now, setTimeout: (cb) => pending.push(cb), clearTimeout: () => {} },
    });
    window.offer(frame, reception('0000000000000a01', -100, 5));
    now = 1_200;
    pending.forEach((cb) => cb());
    expect(groups[0]?.firstSeenAt.getTime()).toBe(1_000);
  });

  it('refuses a window that is not positive', () => {
    expect(() => new DedupWindow({ onGroup: () => {}, windowMs: 0 })).toThrow(RangeError);
  });
});

describe('bestReceptionIndex', () => {
  it('ranks unknown SNR below any known one', () => {
    expect(bestReceptionIndex([{ snrDb: null, rssiDbm: -50 }, { snrDb: -20, rssiDbm: -130 }])).toBe(1);
  });
});
