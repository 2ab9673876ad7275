import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { realCodecs } from './decoders.js';

// A checkout in the device repository's layout: Tektelic's codec file, and a vendor with
// a device, its codec YAML (two examples) and its script.
const files: Record<string, string> = {
  'vendor/tektelic/decoder_smart_room_sensor.js': 'function decodeUplink(input) { return { data: {} }; }\n',
  'vendor/acme/index.yaml': 'endDevices:\n  - meter\n',
  'vendor/acme/meter.yaml': 'name: Meter\nfirmwareVersions:\n  - version: "1.0"\n    profiles:\n      EU863-870:\n        id: profile-868\n        codec: meter-codec\n',
  'vendor/acme/meter-codec.yaml': `uplinkDecoder:
  fileName: meter.js
  examples:
    - description: first
      input: { fPort: 7, bytes: [1, 2, 3] }
      output: { data: { n: 6 } }
    - description: second
      input: { fPort: 8, bytes: [9] }
      output: { data: { n: 9 } }
`,
  'vendor/acme/meter.js': 'function decodeUplink(input) { var n = 0; for (var i = 0; i < input.bytes.length; i++) n += input.bytes[i]; return { data: { n: n } }; }\n',
  'vendor/acme/bare.js': 'function decodeUplink(input) { return { data: {} }; }\n',
};

describe('bench decoders: real codecs of a device repository checkout', () => {
  let repo: string;
  beforeAll(() => {
    repo = fs.mkdtempSync(path.join(os.tmpdir(), 'stadtfunk-bench-codecs-'));
    for (const [name, text] of Object.entries(files)) {
      fs.mkdirSync(path.dirname(path.join(repo, name)), { recursive: true });
      fs.writeFileSync(path.join(repo, name), text);
    }
  });
  afterAll(() => fs.rmSync(repo, { recursive: true, force: true }));

  it('measures none without a checkout', async () => {
    expect(await realCodecs(undefined, 'vendor/acme/meter.js')).toEqual([]);
  });

  it("takes Tektelic's codec with its fixed uplink, then each named file with the first example of its own YAML", async () => {
    const found = await realCodecs(repo, ' vendor/acme/meter.js, vendor/tektelic/decoder_smart_room_sensor.js,vendor/acme/missing.js');
    expect(found.map((c) => [c.file, c.fPort, [...c.bytes]])).toEqual([
      ['vendor/tektelic/decoder_smart_room_sensor.js', 10, [0x03, 0x67, 0x00, 0xe0, 0x04, 0x68, 0x53]],
      ['vendor/acme/meter.js', 7, [1, 2, 3]],
    ]);
    expect(found[1]!.script).toBe(files['vendor/acme/meter.js']);
  });

  it('refuses a named codec that no codec YAML with examples uses', async () => {
    await expect(realCodecs(repo, 'vendor/acme/bare.js')).rejects.toThrow('vendor/acme/bare.js has no codec YAML with examples');
  });
});
