import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadGuardedQuickJS } from './codec-memory.js';
import { CodecSandbox } from './codec-sandbox.js';
import { createDecoders, type Decoders } from './index.js';

const codec = fs.readFileSync(new URL('./examples/lamp-air-codec.js', import.meta.url), 'utf8');
const input = (bytes: number[], fPort = 2) => ({ bytes: Uint8Array.from(bytes), fPort, recvTime: new Date('2026-11-24T12:00:00Z') });
const good = [0x00, 0x7c, 0x00, 0xc9, 0x02, 0xd5, 0x51, 0x27, 0x94, 0x00];

describe('codec sandbox', () => {
  let sandbox: CodecSandbox;
  beforeAll(async () => {
    const { quickjs, guard } = await loadGuardedQuickJS(256 * 1024 * 1024);
    sandbox = new CodecSandbox(quickjs, guard, { timeoutMs: 100, memoryBytes: 8 * 1024 * 1024, maxOutputBytes: 64 * 1024 });
  });
  afterAll(() => sandbox.close());

  it('runs an ES2015+ vendor codec that patches Object.prototype', () => {
    expect(sandbox.decode(codec, input(good))).toEqual({
      ok: true,
      data: { air: { pm25: 12.4, pm10: 20.1 }, temp: { value: 7.25, unit: 'Cel' }, humidity: 81, pressure: 101320, status: 'ok' },
      warnings: [],
      errors: [],
    });
  });

  it('gives the codec its input as TS013 has it: every byte value, fPort, recvTime as a Date, variables', () => {
    const echo = `function decodeUplink(input) {
      return { data: { bytes: input.bytes, array: Array.isArray(input.bytes), fPort: input.fPort, ms: input.recvTime.getTime(), date: input.recvTime instanceof Date, variables: input.variables, keys: Object.keys(input) } };
    }`;
    const all = Array.from({ length: 256 }, (_, i) => i);
    const recvTime = new Date('2026-12-06T05:12:34.567Z');
    expect(sandbox.decode(echo, { bytes: Uint8Array.from(all), fPort: 224, recvTime, variables: { key: 'a|b', 'x|': '"}' } })).toMatchObject({
      ok: true,
      data: { bytes: all, array: true, fPort: 224, ms: recvTime.getTime(), date: true, variables: { key: 'a|b', 'x|': '"}' }, keys: ['bytes', 'fPort', 'recvTime', 'variables'] },
    });
    expect(sandbox.decode(echo, { bytes: new Uint8Array(0), fPort: 1, recvTime })).toMatchObject({ ok: true, data: { bytes: [], fPort: 1, variables: {} } });
  });

  it("keeps each codec's globals and prototype patches to itself", () => {
    const a = 'Object.prototype.vendor = "a"; function decodeUplink() { return { data: { seen: ({}).vendor } }; }';
    const b = 'function decodeUplink() { return { data: { seen: typeof ({}).vendor, pick: typeof ({}).pick } }; }';
    expect(sandbox.decode(a, input([1]))).toMatchObject({ ok: true, data: { seen: 'a' } });
    expect(sandbox.decode(b, input([1]))).toMatchObject({ ok: true, data: { seen: 'undefined', pick: 'undefined' } });
  });

  it.each([
    ['process', 'function decodeUplink() { return { data: { p: process.env } }; }', /'?process'? is not defined/],
    ['require', 'function decodeUplink() { return { data: { fs: require("fs") } }; }', /'?require'? is not defined/],
    ['constructor chain', 'function decodeUplink() { const F = this.constructor.constructor; return { data: { p: F("return typeof process")() } }; }', /.*/],
    ['timers', 'function decodeUplink() { setTimeout(() => 1, 1); return { data: {} }; }', /'?setTimeout'? is not defined/],
    ['an infinite loop', 'function decodeUplink() { for (;;) {} }', /time limit of 100 ms/],
    ['a memory bomb', 'function decodeUplink() { const a = []; for (;;) a.push(new ArrayBuffer(1 << 20)); }', /memory limit of 8 MiB/],
    ['huge output', 'function decodeUplink() { return { data: { s: "x".repeat(1e6) } }; }', /exceeds 65536/],
    ['a thrown string', 'function decodeUplink() { throw "boom"; }', /threw "boom"/],
    ['a thrown object', 'function decodeUplink() { throw { code: 7 }; }', /threw \{"code":7\}/],
    ['deep recursion', 'function f(n) { return f(n + 1) + 1; } function decodeUplink() { return { data: { x: f(0) } }; }', /stack|codec failed/],
    ['a syntax error', 'function decodeUplink( {', /does not load/],
    ['no decodeUplink', 'var x = 1;', /no decodeUplink/],
  ])('fails safely on %s, and the next codec still works', (_name, script, message) => {
    const out = sandbox.decode(script, input([1, 2]));
    sandbox.poisoned = false; // the worker would be replaced here; this sandbox goes on for the test
    if (_name === 'constructor chain') {
      // Function from inside the sandbox is the sandbox's own: it cannot see the host's process.
      expect(out).toMatchObject({ ok: true, data: { p: 'undefined' } });
    } else {
      expect(out.ok).toBe(false);
      if (!out.ok) expect(out.error).toMatch(message);
    }
    expect(sandbox.decode(codec, input(good))).toMatchObject({ ok: true });
  });
});

describe('a codec stopped at a hard limit', () => {
  it('has its runtime abandoned, not freed: freeing a half-updated runtime aborts QuickJS', async () => {
    const { quickjs, guard } = await loadGuardedQuickJS(64 * 1024 * 1024);
    const sandbox = new CodecSandbox(quickjs, guard, { timeoutMs: 50, memoryBytes: 8 * 1024 * 1024, maxOutputBytes: 64 * 1024 });
    sandbox.define(1, codec);
    sandbox.define(2, 'function decodeUplink() { for (;;) {} }');
    expect(sandbox.call(1, input(good))).toMatchObject({ ok: true });
    expect(sandbox.call(2, input([1]))).toMatchObject({ ok: false, limit: 'time' });
    expect(sandbox.poisoned).toBe(true);
    expect(sandbox.isCompiled(2)).toBe(false);
    expect(sandbox.isCompiled(1)).toBe(true);
    sandbox.close();
    expect(sandbox.isCompiled(1)).toBe(false);
  });
});

describe('decoders with a vendor codec and mapping', () => {
  let decoders: Decoders;
  beforeAll(async () => {
    decoders = await createDecoders();
  });
  afterAll(() => decoders.close());

  it('maps codec fields to catalog metrics with unit conversion and keeps unmapped fields', async () => {
    const r = await decoders.decode(
      { id: 'm', decoder: { kind: 'codec', script: codec }, mapping: [{ path: 'air.pm25', metric: 'pm2_5' }, { path: 'pressure', metric: 'pressure', unit: 'Pa' }, { path: 'temp', metric: 'temperature' }] },
      input(good),
    );
    expect(r.errors).toEqual([]);
    expect(r.readings.map((x) => [x.metric, x.value, x.unit])).toEqual([['pm2_5', 12.4, 'ug/m3'], ['pressure', 1013.2, 'hPa'], ['temperature', 7.25, 'Cel']]);
    expect(r.decoded).toMatchObject({ humidity: 81, status: 'ok' });
  });

  it('returns the codec error without readings, so the raw uplink is kept and dead-lettered', async () => {
    const r = await decoders.decode({ id: 'm', decoder: { kind: 'codec', script: codec } }, input([0], 9));
    expect(r).toEqual({ readings: [], decoded: {}, warnings: [], errors: ['unexpected fPort 9'] });
  });

  it('stops a codec that piles up strings at its memory limit, replaces its worker, and goes on', async () => {
    const bomb = 'function decodeUplink() { const a = []; for (let i = 0;; i++) a.push("x".repeat(1e6) + i); }';
    const started = Date.now();
    const r = await decoders.decode({ id: 'bomb', decoder: { kind: 'codec', script: bomb } }, input([1]));
    expect(r.errors[0]).toMatch(/memory limit of 16 MiB/);
    expect(Date.now() - started).toBeLessThan(2_000); // the in-thread sandbox alone took 16 s here
    const after = await decoders.decode({ id: 'm', decoder: { kind: 'codec', script: codec } }, input(good));
    expect(after.errors).toEqual([]);
  });
});
