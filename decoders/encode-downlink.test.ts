import { afterAll, describe, expect, it } from 'vitest';
import { CodecRunner } from './codec-runner.js';
import { encodeDownlink } from './encode-downlink.js';
import { decodeStreetlightCommand } from './stadtfunk-streetlight-command.js';

// A vendor codec with both TS013 functions (LoRa Alliance TS013-1.0.0 §4: encodeDownlink
// takes { data } and returns { bytes, fPort, warnings, errors }).
const CODEC = `
function decodeUplink(input) { return { data: { n: input.bytes.length } }; }
function encodeDownlink(input) {
  if (typeof input.data.level !== 'number') return { errors: ['level is required'] };
  var label = input.data.label || '';
  var bytes = [0x10, input.data.level];
  for (var i = 0; i < label.length; i++) bytes.push(label.charCodeAt(i) & 0xff);
  return { bytes: bytes, fPort: 20, warnings: label ? ['label sent'] : [] };
}`;

describe('encodeDownlink', () => {
  const runner = new CodecRunner();
  afterAll(() => runner.close());

  it('encodes a streetlight command with the built-in format, which the controller reads back', async () => {
    const out = await encodeDownlink({ kind: 'builtin', name: 'stadtfunk-streetlight' }, { lamp_on: true, dim_level: 40 }, runner);
    expect(out).toEqual({ ok: true, bytes: Buffer.from([1, 1, 40]), fPort: 12, warnings: [] });
    expect(decodeStreetlightCommand(out.ok ? out.bytes : Buffer.alloc(0))).toEqual({ lamp_on: true, dim_level: 40 });
  });

  it('refuses a bad streetlight object with the reasons', async () => {
    expect(await encodeDownlink({ kind: 'builtin', name: 'stadtfunk-streetlight' }, { lamp_on: 'yes', dim_level: 140, colour: 'red' }, runner))
      .toEqual({ ok: false, errors: ['lamp_on must be true or false', 'dim_level must be a whole number 0–100', 'unknown field colour (a streetlight takes lamp_on and dim_level)'] });
    expect(await encodeDownlink({ kind: 'builtin', name: 'stadtfunk-air' }, { a: 1 }, runner)).toMatchObject({ ok: false });
  });

  it("runs a vendor codec's encodeDownlink in the sandbox worker, non-ASCII text included", async () => {
    expect(await encodeDownlink({ kind: 'codec', script: CODEC }, { level: 7, label: 'Ä' }, runner)).toEqual({ ok: true, bytes: Buffer.from([0x10, 7, 0xc4]), fPort: 20, warnings: ['label sent'] });
  });

  it("passes the codec's errors on, and says when a codec cannot encode", async () => {
    expect(await encodeDownlink({ kind: 'codec', script: CODEC }, { label: 'x' }, runner)).toEqual({ ok: false, errors: ['level is required'] });
    expect(await encodeDownlink({ kind: 'codec', script: 'function decodeUplink() { return { data: {} }; }' }, {}, runner)).toEqual({ ok: false, errors: ['the codec defines no encodeDownlink(input) function'] });
    const bad = await encodeDownlink({ kind: 'codec', script: 'function encodeDownlink() { return { bytes: [300] }; }' }, {}, runner);
    expect(bad).toMatchObject({ ok: false, errors: [expect.stringContaining('byte array')] });
    const looping = await encodeDownlink({ kind: 'codec', script: 'function encodeDownlink() { for (;;) {} }' }, {}, runner);
    expect(looping).toMatchObject({ ok: false, errors: [expect.stringContaining('time limit')] });
  });
});
