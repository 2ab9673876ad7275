/**
 * Hostile codecs through the codec worker, the way ingest, re-decode, registration and
 * `codec test` run them: each is stopped by its time or memory limit, the caller's
 * thread stays free, and the next codec works.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CodecRunner } from './codec-runner.js';

const input = { bytes: Uint8Array.from([1, 2]), fPort: 1, recvTime: new Date('2026-11-24T12:00:00Z') };
const good = 'function decodeUplink(input) { return { data: { n: input.bytes.length } }; }';

/**
 * A good codec answers, on a warm worker. The machine these tests run on is shared and
 * at times so loaded that a freshly started worker misses even a good codec's 100 ms;
 * the limit is wall-clock time, as in ChirpStack. So: up to ten tries.
 */
async function answersWell(runner: CodecRunner): Promise<unknown> {
  let out: unknown;
  for (let i = 0; i < 10; i++) {
    out = await runner.decode(good, input);
    if ((out as { ok: boolean }).ok) return out;
  }
  return out;
}

describe('codec worker against hostile codecs (100 ms, 16 MiB)', () => {
  let runner: CodecRunner;
  beforeAll(() => {
    runner = new CodecRunner();
  });
  afterAll(() => runner.close());

  it.each([
    ['an endless loop', 'function decodeUplink() { for (;;) {} }', /time limit of 100 ms/],
    ['string piling', 'function decodeUplink() { const a = []; for (let i = 0;; i++) a.push("x".repeat(4e6) + i); }', /memory limit of 16 MiB|time limit of 100 ms/],
    ['buffers in a loop', 'function decodeUplink() { const a = []; for (;;) a.push(new Uint8Array(4e6)); }', /memory limit of 16 MiB/],
    ['string piling in small pieces', 'function decodeUplink() { const a = []; for (let i = 0;; i++) a.push("x".repeat(1e6) + i); }', /memory limit of 16 MiB|time limit of 100 ms/],
    ['small objects in a loop', 'function decodeUplink() { const a = []; for (;;) a.push({ x: a.length, y: [a.length] }); }', /memory limit|time limit/],
    ['a huge join', 'function decodeUplink() { return { data: { n: new Array(1e8).join("ab").length } }; }', /time limit|memory limit/],
    ['a string doubled without end', 'function decodeUplink() { let s = "xy"; for (;;) s = s + s; }', /string too long|memory limit|time limit/],
    ['a toJSON that never returns', 'function decodeUplink() { return { data: { toJSON() { for (;;) {} } } }; }', /time limit of 100 ms/],
    ['a toJSON that returns a huge value', 'function decodeUplink() { return { data: { toJSON() { return "x".repeat(8e6); } } }; }', /exceeds 262144|memory limit/],
    ['catastrophic backtracking (ReDoS)', 'function decodeUplink() { return { data: { m: /^(a+)+$/.test("a".repeat(40) + "!") } }; }', /time limit of 100 ms/],
    ['sorting without end', 'function decodeUplink() { const a = []; for (let i = 0; i < 2e5; i++) a.push(Math.random()); for (;;) a.sort((x, y) => x - y); }', /time limit of 100 ms/],
    ['deep recursion', 'function f(n) { return f(n + 1) + 1; } function decodeUplink() { return { data: { x: f(0) } }; }', /stack|call stack|time limit of 100 ms/i],
    ['a huge output', 'function decodeUplink() { const o = {}; for (let i = 0; i < 3e4; i++) o["key" + i] = i; return { data: o }; }', /exceeds 262144|time limit/],
    ['catching its own out-of-memory and going on', 'function decodeUplink() { const a = []; for (;;) { try { a.push(new Uint8Array(1e6)); } catch (e) {} } }', /memory limit of 16 MiB|time limit/],
  ])('stops %s within its limits and the next codec works', async (_name, script, message) => {
    // A warm worker first: starting one (after the last test's bomb) is not the codec's time.
    expect(await answersWell(runner)).toMatchObject({ ok: true });
    const started = Date.now();
    const out = await runner.decode(script, input);
    const took = Date.now() - started;
    expect(out.ok).toBe(false);
    if (!out.ok) expect(out.error).toMatch(message);
    // time limit + grace (200 ms) and the watchdog's tick; the rest is the shared machine's load
    expect(took).toBeLessThan(2_500);
    expect(await answersWell(runner)).toMatchObject({ ok: true, data: { n: 2 } });
  }, 60_000);

  it('keeps the calling thread free while a codec runs away', async () => {
    await answersWell(runner);
    const ticks: number[] = [];
    const timer = setInterval(() => ticks.push(Date.now()), 5);
    const out = await runner.decode('function decodeUplink() { return { data: { n: new Array(1e8).join("ab").length } }; }', input);
    clearInterval(timer);
    expect(out.ok).toBe(false);
    const gaps = ticks.slice(1).map((t, i) => t - ticks[i]!);
    // In-thread, this join held the thread for 6.6 s here; what is left is the shared machine's load.
    expect(Math.max(...gaps)).toBeLessThan(500);
  }, 60_000);
});

describe('codec worker with a codec that loads slowly', () => {
  it('answers the calls run before a slow first load instead of blaming them for its time', async () => {
    const runner = new CodecRunner();
    try {
      expect(await answersWell(runner)).toMatchObject({ ok: true });
      // Top-level code that takes 400 ms: within the load budget (ten calls, 1 s), far past one call's.
      const slow = 'var t0 = Date.now(); while (Date.now() - t0 < 400) {} function decodeUplink(input) { return { data: { slow: true } }; }';
      const outs = await Promise.all([runner.decode(good, input), runner.decode(good, input), runner.decode(slow, input)]);
      expect(outs).toMatchObject([{ ok: true }, { ok: true }, { ok: true, data: { slow: true } }]);
    } finally {
      await runner.close();
    }
  }, 60_000);
});

describe('the service keeps its memory when a codec allocates without end', () => {
  it('fails the bomb with a memory-limit error and its RSS ends within a few MB of where it was', async () => {
    // A child process of its own, so that the RSS is that of one service alone.
    const { stdout } = await promisify(execFile)(process.execPath, ['--expose-gc', '--import', 'tsx', new URL('./codec-memory-probe.ts', import.meta.url).pathname], { timeout: 60_000 });
    const probe = JSON.parse(stdout.trim().split('\n').at(-1)!) as { error: string; tookMs: number; rssBeforeMb: number; rssPeakMb: number; rssAfterMb: number };
    // The probe gives the codec 2 s instead of 100 ms: QuickJS in WebAssembly zeroes a new
    // buffer at some 8 ms per MiB on this shared machine when it is loaded (20 runnable
    // threads per core), so 100 ms of wall time may end before 16 MiB are allocated. The
    // memory limit, not the clock, must stop it, and within the time limit.
    expect(probe.error).toMatch(/memory limit of 16 MiB/);
    expect(probe.tookMs).toBeLessThan(2_000);
    expect(probe.rssPeakMb - probe.rssBeforeMb).toBeLessThan(64); // the heap may grow 16 MiB in the call; the issue saw 2.1 GB
    // A new worker replaced the poisoned one; with the garbage of the good decodes collected
    // first, measured here 5.0, 2.3, 3.9, 1.3 and 8.8 MB (without that: up to 14 MB, and flaky). Under a full suite on two cores
    // the pages of the replaced worker come back later: 21.5 MB once (CI, 2026-12-05). The
    // bound separates that from the bug (2.1 GB in the issue), not from allocator timing.
    expect(probe.rssAfterMb - probe.rssBeforeMb).toBeLessThan(32);
  }, 70_000);
});
