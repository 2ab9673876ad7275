import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LARGE_CODEC_PAYLOAD, largeCodec } from '../bench/large-codec.js';
import { hoistConstants } from './codec-hoist.js';
import { loadGuardedQuickJS } from './codec-memory.js';
import { CodecSandbox, DEFAULT_CODEC_LIMITS } from './codec-sandbox.js';

const input = (bytes: number[] | Uint8Array, fPort = 10) => ({ bytes: Uint8Array.from(bytes), fPort, recvTime: new Date('2026-11-24T12:00:00Z') });
const table = (extra = '') => `{ "10": { "a": [ ${Array.from({ length: 40 }, (_, i) => `{ "name": "f${i}", "size": "2", "k": -${i}.5, "t": \`x\` }`).join(', ')} ] }${extra} }`;

describe('constant tables hoisted out of codec functions', () => {
  let hoisted: CodecSandbox;
  let asWritten: CodecSandbox;
  beforeAll(async () => {
    const { quickjs, guard } = await loadGuardedQuickJS(256 * 1024 * 1024);
    const limits = { ...DEFAULT_CODEC_LIMITS, timeoutMs: 2000 };
    hoisted = new CodecSandbox(quickjs, guard, limits);
    asWritten = new CodecSandbox(quickjs, guard, limits, { hoist: false });
  });
  afterAll(() => {
    hoisted.close();
    asWritten.close();
  });

  it('hoists a big literal inside a function, and nothing at top level or with non-constant parts', () => {
    expect(hoistConstants(`function decodeUplink(input) { var t = ${table()}; return { data: t["10"].a[0] }; }`)?.count).toBe(1);
    expect(hoistConstants(`var t = ${table()}; function decodeUplink() { return { data: t }; }`)).toBeNull();
    // With a part that is not constant, only the constant table inside it is hoisted.
    for (const extra of [', "p": input.fPort', ', "r": /a+/']) {
      const h = hoistConstants(`function decodeUplink(input) { var t = ${table(extra)}; return { data: t }; }`)!;
      expect(h.count).toBe(1);
      expect(h.script).toContain(`var t = { "10":  (__stadtfunk_k[0]) ${extra} }`);
    }
    expect(hoistConstants('function decodeUplink( {')).toBeNull();
  });

  it('gives the same output as the codec as written (a Tektelic-shaped 80 KB codec)', () => {
    const script = largeCodec();
    expect(hoistConstants(script)?.count).toBe(1);
    for (const bytes of [LARGE_CODEC_PAYLOAD, Uint8Array.from([0x02, 0x18, 0xff, 0x01, 0x03, 0x05, 0x80, 0x00, 0x07]), Uint8Array.from([0x09, 0x09])]) {
      const a = hoisted.decode(script, input(bytes));
      expect(a).toEqual(asWritten.decode(script, input(bytes)));
      expect(a.ok).toBe(true);
    }
    expect(hoisted.decode(script, input(LARGE_CODEC_PAYLOAD))).toMatchObject({ data: { group_0: { field_0: 4.2 }, field_1: 7, field_2: -10 } });
  });

  // Each write leaves a trace a second call would see if the table were shared unguarded.
  it.each([
    ['assigns to it', 't["10"].a[0].seen = (t["10"].a[0].seen || 0) + 1;'],
    ['pushes to one of its arrays', 't["10"].a.push({ name: "more" });'],
    ['deletes from it', 'var had = "k" in t["10"].a[1]; delete t["10"].a[1].k; t["10"].a[0].had = had;'],
    ['writes to it inside its own try/catch', 'try { t["10"].a[0].seen = (t["10"].a[0].seen || 0) + 1; } catch (e) {}'],
    ['reverses one of its arrays in place', 't["10"].a.reverse();'],
  ])('runs a codec that %s as written, with the output it gives as written, call after call', (_name, write) => {
    const script = `function decodeUplink(input) { var t = ${table()}; ${write} return { data: { first: t["10"].a[0], n: t["10"].a.length } }; }`;
    expect(hoistConstants(script)?.count).toBe(1);
    for (const b of [1, 2, 3]) expect(hoisted.decode(script, input([b]))).toEqual(asWritten.decode(script, input([b])));
  });

  it('reads a hoisted table as the codec wrote it: keys, JSON, iteration, copies', () => {
    const script = `function decodeUplink(input) { var t = ${table()}; var a = t["10"].a; var keys = Object.keys(a[3]);
      var copy = Object.assign({}, a[3]); var names = a.map(function (x) { return x.name; }).slice(0, 3);
      var n = 0; for (var k in t["10"]) n++; return { data: { keys: keys, copy: copy, names: names, n: n, json: JSON.stringify(a[2]), isArray: Array.isArray(a) } }; }`;
    expect(hoisted.decode(script, input([1]))).toEqual(asWritten.decode(script, input([1])));
  });
});
