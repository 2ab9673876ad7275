import { describe, expect, it } from 'vitest';
import { FifoMap } from './fifo-map.js';

/** The same operations on a plain Map, whose insertion order is the reference (delete + set moves a key to the end). */
class ReferenceMap<K, V> {
  readonly map = new Map<K, V>();
  set(key: K, value: V): void {
    this.map.delete(key);
    this.map.set(key, value);
  }
  shift(): [K, V] | undefined {
    const first = this.map.entries().next();
    if (first.done) return undefined;
    this.map.delete(first.value[0]);
    return first.value;
  }
}

function queueLength(map: FifoMap<unknown, unknown>): number {
  const internals = map as unknown as { queue: unknown[] };
  return internals.queue.length;
}

describe('FifoMap', () => {
  it('gives up its entries oldest first; setting a key again makes it the newest; deleted keys are skipped', () => {
    const m = new FifoMap<string, number>();
    m.set('a', 1);
    m.set('b', 2);
    m.set('c', 3);
    m.set('a', 4);
    m.delete('b');
    expect(m.size).toBe(2);
    expect(m.keys()).toEqual(['c', 'a']);
    expect(m.oldest()).toEqual(['c', 3]);
    expect(m.get('a')).toBe(4);
    expect(m.has('b')).toBe(false);
    expect(m.shift()).toEqual(['c', 3]);
    expect(m.shift()).toEqual(['a', 4]);
    expect(m.shift()).toBeUndefined();
    expect(m.oldest()).toBeUndefined();
    m.set('d', 5);
    expect(m.keys()).toEqual(['d']);
    m.clear();
    expect(m.size).toBe(0);
    expect(m.oldest()).toBeUndefined();
  });

  it('agrees with a plain Map over 60,000 random operations, and its queue stays within three times the entries plus twice the slack', () => {
    const m = new FifoMap<number, number>();
    const ref = new ReferenceMap<number, number>();
    // A small deterministic generator (mulberry32), so a failure repeats.
    let seed = 42;
    const random = (): number => {
      seed = (seed + 0x6d2b79f5) | 0;
      let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
      t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
    let longest = 0;
    for (let i = 0; i < 60_000; i++) {
      const r = random();
      const key = Math.floor(random() * 3000);
      if (r < 0.5) {
        m.set(key, i);
        ref.set(key, i);
        // Enforced where the queue grows: spent slots in front, live and stale ones behind.
        expect(queueLength(m)).toBeLessThanOrEqual(m.size + 1024 + 1 + 2 * m.size + 1024 + 1);
      } else if (r < 0.7) {
        expect(m.delete(key)).toBe(ref.map.delete(key));
      } else if (r < 0.95) {
        expect(m.shift()).toEqual(ref.shift());
      } else {
        expect(m.get(key)).toBe(ref.map.get(key));
      }
      expect(m.size).toBe(ref.map.size);
      longest = Math.max(longest, queueLength(m));
      if (i % 10_000 === 0) expect(m.keys()).toEqual([...ref.map.keys()]);
    }
    expect(m.keys()).toEqual([...ref.map.keys()]);
    expect(longest).toBeLessThan(3 * 3000 + 2 * 1024 + 2);
  });

  it('keeps its queue bounded when keys are set again and again without ever being shifted (a cache below its size bound)', () => {
    const m = new FifoMap<number, number>();
    for (let round = 0; round < 100; round++) for (let key = 0; key < 1000; key++) m.set(key, round);
    expect(m.size).toBe(1000);
    expect(queueLength(m)).toBeLessThanOrEqual(2 * 1000 + 1024 + 1);
    expect(m.oldest()).toEqual([0, 99]);
  });

  it('keeps its queue bounded as a first-in, first-out cache of fixed size', () => {
    const m = new FifoMap<number, number>();
    for (let i = 0; i < 100_000; i++) {
      m.set(i, i);
      if (m.size > 500) m.shift();
    }
    expect(m.size).toBe(500);
    expect(m.oldest()).toEqual([99_500, 99_500]);
    expect(queueLength(m)).toBeLessThanOrEqual(2 * 500 + 1024 + 1);
  });
});
