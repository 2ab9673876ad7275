/**
 * Counts per interval from a counter as devices report it: cumulative since the counter
 * was last reset, and wrapping at its width (a 16-bit counter goes 65,535 → 0). Stored
 * as reported (people_count_total, vehicle_count_total), so that redelivery, several
 * ingest workers and late uplinks cannot double or lose a count; the increments are
 * derived when read, the way Prometheus treats counters (increase() with resets).
 *
 * Between two successive values a → b of one channel:
 *  - b ≥ a: b − a counted;
 *  - b < a with the counter's wrap (`wrapAt`, e.g. 65,536) known and a in its upper half
 *    and b in its lower: a wrap, wrapAt − a + b counted;
 *  - otherwise a reset (power cycle, a zeroing downlink): b counted, what came since.
 * Each increment belongs to the interval of b's time.
 */

export interface CounterPoint {
  time: Date;
  value: number;
}

export interface CounterInterval {
  /** Start of the interval (aligned to the epoch in steps of the interval). */
  start: Date;
  count: number;
  resets: number;
  wraps: number;
}

/** Increments of a counter's points (oldest first; the first point is the base) per interval. */
export function counterIncrements(points: CounterPoint[], options: { intervalMs: number; wrapAt?: number | null }): CounterInterval[] {
  const buckets = new Map<number, CounterInterval>();
  for (let i = 1; i < points.length; i++) {
    const a = points[i - 1]!.value;
    const b = points[i]!.value;
    const start = Math.floor(points[i]!.time.getTime() / options.intervalMs) * options.intervalMs;
    let bucket = buckets.get(start);
    if (!bucket) buckets.set(start, (bucket = { start: new Date(start), count: 0, resets: 0, wraps: 0 }));
    if (b >= a) {
      bucket.count += b - a;
    } else if (options.wrapAt && a >= options.wrapAt / 2 && b < options.wrapAt / 2) {
      bucket.count += options.wrapAt - a + b;
      bucket.wraps++;
    } else {
      bucket.count += b;
      bucket.resets++;
    }
  }
  return [...buckets.values()].sort((x, y) => x.start.getTime() - y.start.getTime());
}
