/**
 * The codec pool: light traffic stays in one worker, a burst is spread over the workers,
 * and each worker keeps the time and memory limits of a single one.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { CodecPool } from './codec-pool.js';
import { DEFAULT_CODEC_LIMITS } from './codec-sandbox.js';

const input = { bytes: Uint8Array.from([1, 2]), fPort: 1, recvTime: new Date('2026-12-06T05:00:00Z') };
/** Counts its calls in a global: each worker compiles it once, so the counts tell the workers apart. */
const counting = 'var calls = 0; function decodeUplink(input) { calls++; return { data: { calls: calls } }; }';
const good = 'function decodeUplink(input) { return { data: { n: input.bytes.length } }; }';

// 2 s instead of 100 ms: the limit must stop the hostile codecs, not the shared machine's load.
const limits = { ...DEFAULT_CODEC_LIMITS, timeoutMs: 2000 };

describe('codec pool', () => {
  let pool: CodecPool;
  afterEach(() => pool.close());

  it('runs calls one at a time in one worker and spreads a burst over two', async () => {
    pool = new CodecPool(limits, { workers: 2 });
    const one: number[] = [];
    for (let i = 0; i < 20; i++) {
      const out = await pool.decode(counting, input);
      if (out.ok) one.push(out.data.calls as number);
    }
    expect(one).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    const burst = await Promise.all(Array.from({ length: 200 }, () => pool.decode(counting, input)));
    const counts = burst.map((o) => (o.ok ? (o.data.calls as number) : -1));
    expect(counts).not.toContain(-1);
    // One worker would count 21…220; the second starts at 1 and the first ends well short of 220.
    expect(Math.min(...counts)).toBe(1);
    expect(Math.max(...counts)).toBeLessThan(200);
  }, 60_000);

  it('stops a runaway codec in its worker and answers every other call of the burst', async () => {
    // A codec's first call in a worker may also use its load budget (ten calls): 300 ms keeps that short.
    pool = new CodecPool({ ...limits, timeoutMs: 300 }, { workers: 2 });
    const calls = Array.from({ length: 60 }, (_, i) => (i === 20 || i === 21 ? 'function decodeUplink() { for (;;) {} }' : good));
    const outs = await Promise.all(calls.map((script) => pool.decode(script, input)));
    expect(outs.filter((_, i) => i === 20 || i === 21)).toMatchObject([{ ok: false, limit: 'time' }, { ok: false, limit: 'time' }]);
    expect(outs.filter((o, i) => i !== 20 && i !== 21 && !o.ok)).toEqual([]);
    expect(await pool.decode(good, input)).toMatchObject({ ok: true });
  }, 60_000);

  it('holds the memory limit in each worker', async () => {
    pool = new CodecPool(limits, { workers: 2 });
    const bomb = 'function decodeUplink() { const a = []; for (;;) a.push(new Uint8Array(1 << 20)); }';
    // 16 calls fill the first worker's backlog, 16 go to the second; then one bomb each.
    const calls = [...Array.from({ length: 32 }, () => good), bomb, bomb];
    const outs = await Promise.all(calls.map((script) => pool.decode(script, input)));
    expect(outs.slice(0, 32).every((o) => o.ok)).toBe(true);
    expect(outs.slice(32)).toMatchObject([{ ok: false, limit: 'memory' }, { ok: false, limit: 'memory' }]);
    expect(await pool.decode(good, input)).toMatchObject({ ok: true });
  }, 60_000);
});
