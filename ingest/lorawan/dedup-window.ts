/**
 * Deduplication of one frame heard by several concentrators.
 *
 * Design note. Every concentrator in range forwards its own copy of a frame, some
 * tens of milliseconds apart (backhaul jitter). Copies are keyed by their PHYPayload
 * bytes: the same bytes are the same radio frame, since the MIC covers the 32-bit
 * counter. The first copy opens a window of `windowMs` (default 200 ms, the
 * deduplication delay of ChirpStack and The Things Stack); copies inside it join the
 * group; when it closes the group is emitted once with all receptions and the best
 * one marked. That trades 200 ms of latency for one uplink per frame with the full
 * gateway list, which is what geolocation and coverage maps need.
 *
 * A copy that arrives after the window closed is reported through `onLate` rather
 * than opening a second group, as long as its key is still remembered (for
 * `lateRetentionMs`). The caller merges it into the stored uplink. When the key has
 * been forgotten the copy opens a new window; the frame processor then rejects it as
 * a retransmission, which the caller treats the same way. So forgetting is safe and
 * only the labelling is best effort.
 *
 * Memory is bounded: at most `maxOpenWindows` open windows (the oldest is emitted early
 * when a new one would exceed it), at most `maxReceptionsPerGroup` receptions per
 * group (one per gateway ID; a repeat from the same gateway is dropped), and at most
 * `maxRememberedKeys` closed keys. The state is per process: with several ingest
 * workers a frame may be grouped on two of them, and the database's uplink identity
 * (DevEUI + 32-bit FCnt) keeps that from becoming two rows.
 */
import { FifoMap } from '../fifo-map.js';
import type { ConcentratorReception, FrameGroup, GroupedReception, LateReception } from './types.js';

/** Injectable time source; defaults to the global clock and timers (so vitest fake timers apply). */
export interface DedupClock {
  /** Milliseconds since the epoch. */
  now(): number;
  setTimeout(callback: () => void, delayMs: number): unknown;
  clearTimeout(handle: unknown): void;
}

export interface DedupWindowOptions {
  /** How long copies are collected after the first one, ms. Default 200. */
  windowMs?: number;
  /** Open windows at most; the oldest is emitted early beyond this. Default 10 000. */
  maxOpenWindows?: number;
  /** Receptions kept per group; further copies are counted as dropped. Default 32. */
  maxReceptionsPerGroup?: number;
  /** How long a closed key is remembered to recognise late copies, ms. Default 60 000. */
  lateRetentionMs?: number;
  /** Closed keys remembered at most. Default 50 000. */
  maxRememberedKeys?: number;
  /** Called once per group, when its window closes (or is flushed early). */
  onGroup: (group: FrameGroup) => void;
  /** Called for a copy that arrived after its group was emitted. */
  onLate?: (late: LateReception) => void;
  /**
   * Called when `onGroup` throws. `onGroup` usually runs from a timer, where a throw
   * would end the process, so the window catches it. Default: rethrown.
   */
  onError?: (error: unknown, group: FrameGroup) => void;
  clock?: DedupClock;
}

/** What became of one offered copy. */
export type DedupOfferResult = 'opened' | 'joined' | 'duplicate_gateway' | 'dropped_full' | 'late';

interface OpenWindow {
  phyPayload: Buffer;
  receptions: ConcentratorReception[];
  firstSeenAtMs: number;
  /** When the window closes (epoch ms). */
  dueAtMs: number;
}

const defaultClock: DedupClock = {
  now: () => Date.now(),
  setTimeout: (callback, delayMs) => setTimeout(callback, delayMs),
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

/** A frame's key: the same PHYPayload bytes are the same radio frame (the MIC covers the 32-bit counter). */
export function frameKey(phyPayload: Buffer): string {
  return phyPayload.toString('base64');
}

/** Index of the best reception: highest SNR, then highest RSSI; unknown values rank last. */
export function bestReceptionIndex(receptions: readonly Pick<ConcentratorReception, 'snrDb' | 'rssiDbm'>[]): number {
  let best = -1;
  let bestSnr = -Infinity;
  let bestRssi = -Infinity;
  receptions.forEach((r, i) => {
    const snr = r.snrDb ?? -Infinity;
    const rssi = r.rssiDbm ?? -Infinity;
    if (best < 0 || snr > bestSnr || (snr === bestSnr && rssi > bestRssi)) {
      best = i;
      bestSnr = snr;
      bestRssi = rssi;
    }
  });
  return best;
}

export class DedupWindow {
  /**
   * Open windows in the order they opened. All last `windowMs`, so they also close in this
   * order, and one timer (for the oldest) serves them all instead of a timer per frame.
   * (A FifoMap, not a Map: finding a Map's oldest entry costs time per entry deleted before it.)
   */
  private readonly open = new FifoMap<string, OpenWindow>();
  private timer: unknown = null;
  /** Closed keys → first-seen time, oldest first. */
  private readonly closed = new FifoMap<string, { firstSeenAtMs: number; closedAtMs: number }>();
  private readonly windowMs: number;
  private readonly maxOpenWindows: number;
  private readonly maxReceptionsPerGroup: number;
  private readonly lateRetentionMs: number;
  private readonly maxRememberedKeys: number;
  private readonly clock: DedupClock;

  constructor(private readonly options: DedupWindowOptions) {
    this.windowMs = positive('windowMs', options.windowMs ?? 200);
    this.maxOpenWindows = positive('maxOpenWindows', options.maxOpenWindows ?? 10_000);
    this.maxReceptionsPerGroup = positive('maxReceptionsPerGroup', options.maxReceptionsPerGroup ?? 32);
    this.lateRetentionMs = positive('lateRetentionMs', options.lateRetentionMs ?? 60_000);
    this.maxRememberedKeys = positive('maxRememberedKeys', options.maxRememberedKeys ?? 50_000);
    this.clock = options.clock ?? defaultClock;
  }

  /** Offers one concentrator's copy of a frame; `key` is its PHYPayload in base64, when the caller has it already. */
  offer(phyPayload: Buffer, reception: ConcentratorReception, key = frameKey(phyPayload)): DedupOfferResult {
    const window = this.open.get(key);
    if (window) {
      if (window.receptions.some((r) => r.gatewayId === reception.gatewayId)) return 'duplicate_gateway';
      if (window.receptions.length >= this.maxReceptionsPerGroup) return 'dropped_full';
      window.receptions.push(reception);
      return 'joined';
    }
    const now = this.clock.now();
    const closed = this.closed.get(key);
    if (closed && now - closed.closedAtMs <= this.lateRetentionMs) {
      this.options.onLate?.({ phyPayload, key, reception, groupFirstSeenAt: new Date(closed.firstSeenAtMs) });
      return 'late';
    }
    if (closed) this.closed.delete(key);
    if (this.open.size >= this.maxOpenWindows) {
      const oldest = this.open.oldest();
      if (oldest) this.close(oldest[0]);
    }
    this.open.set(key, { phyPayload: Buffer.from(phyPayload), receptions: [reception], firstSeenAtMs: now, dueAtMs: now + this.windowMs });
    if (this.timer === null) this.timer = this.clock.setTimeout(() => this.closeDue(), this.windowMs);
    return 'opened';
  }

  /** Emits every open group now (shutdown) and stops the timer. */
  flush(): void {
    if (this.timer !== null) this.clock.clearTimeout(this.timer);
    this.timer = null;
    for (const key of this.open.keys()) this.close(key);
  }

  /** Open windows right now. */
  get openWindows(): number {
    return this.open.size;
  }

  /** The timer: closes the windows that are due, then waits for the next one (also when onGroup threw). */
  private closeDue(): void {
    this.timer = null;
    const now = this.clock.now();
    try {
      for (let oldest = this.open.oldest(); oldest && oldest[1].dueAtMs <= now; oldest = this.open.oldest()) this.close(oldest[0]);
    } finally {
      const next = this.open.oldest();
      if (next && this.timer === null) this.timer = this.clock.setTimeout(() => this.closeDue(), Math.max(1, next[1].dueAtMs - now));
    }
  }

  private close(key: string): void {
    const window = this.open.get(key);
    if (!window) return;
    this.open.delete(key);
    this.remember(key, window.firstSeenAtMs);
    const best = bestReceptionIndex(window.receptions);
    const receptions: GroupedReception[] = window.receptions.map((r, i) => ({ ...r, best: i === best }));
    const group: FrameGroup = { phyPayload: window.phyPayload, key, receptions, firstSeenAt: new Date(window.firstSeenAtMs) };
    try {
      this.options.onGroup(group);
    } catch (error) {
      if (!this.options.onError) throw error;
      this.options.onError(error, group);
    }
  }

  private remember(key: string, firstSeenAtMs: number): void {
    const now = this.clock.now();
    this.closed.set(key, { firstSeenAtMs, closedAtMs: now });
    // Drop expired keys from the old end, and the oldest beyond the size bound.
    for (let oldest = this.closed.oldest(); oldest; oldest = this.closed.oldest()) {
      if (this.closed.size <= this.maxRememberedKeys && now - oldest[1].closedAtMs <= this.lateRetentionMs) break;
      this.closed.shift();
    }
  }
}

function positive(name: string, value: number): number {
  if (!Number.isFinite(value) || value <= 0) throw new RangeError(`${name} must be a positive number, got ${value}`);
  return value;
}
