/**
 * `stadtfunk models import` on a vendor folder in the device repository's layout, built
 * here from codecs of our own that give the vendors' output shapes for their published
 * examples (TheThingsNetwork/lorawan-devices vendor/dingtek/dc520-codec.yaml and
 * vendor/netvox/r719a-codec.yaml, at 369ca3e1864d).
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CodecRunner } from './codec-runner.js';
import { DEFAULT_CODEC_LIMITS } from './codec-sandbox.js';
import { categoryOfDevice, readRepositoryPath } from './device-repository.js';
import { formatImportReport, importRepositoryModels, type ImportedModel } from './model-import.js';

let dir = '';
const files: Record<string, string> = {
  'index.yaml': 'endDevices:\n  - counter\n  - bay\n  - broken\n',
  'counter.yaml': 'name: Example People Counter\ndescription: Counts people passing a door, in and out.\nsensors:\n  - pir\nfirmwareVersions:\n  - version: "1.0"\n    profiles:\n      EU863-870:\n        id: profile-868\n        codec: counter-codec\n',
  'counter-codec.yaml': `uplinkDecoder:
  fileName: counter.js
  examples:
    - description: event trigger upload (Dingtek DC520's example)
      input:
        fPort: 3
        bytes: [0x80, 0x00, 0x52, 0x02, 0x13, 0x00, 0x01, 0x00, 0x02, 0x00, 0x01, 0x00, 0x00, 0x00, 0x05, 0x00, 0x00, 0x01, 0x81]
      output:
        data: { balanceCounter: 1, inCounter: 2, outCounter: 1, volt: 5, frameCounter: 1 }
`,
  'counter.js': 'function u16(b, i) { return (b[i] << 8) | b[i + 1]; }\nfunction decodeUplink(input) { var b = input.bytes; return { data: { balanceCounter: u16(b, 5), inCounter: u16(b, 7), outCounter: u16(b, 9), volt: b[14], frameCounter: b[17] } }; }\n',
  'bay.yaml': 'name: Example Parking Sensor\ndescription: Detects a car in a parking space.\nfirmwareVersions:\n  - version: "1.0"\n    profiles:\n      EU863-870:\n        id: profile-868\n        codec: bay-codec\n',
  'bay-codec.yaml': `uplinkDecoder:
  fileName: payload/bay.js
  examples:
    - description: Status report (Netvox R719A's example)
      input: { fPort: 6, bytes: [1, 89, 1, 30, 1, 0, 0, 0, 0, 0, 0] }
      output:
        data: { Device: R719A, Volt: 3, CarOnOff: 1, NO2: 12 }
`,
  'payload/bay.js': "function decodeUplink(input) { var b = input.bytes; return { data: { Device: 'R719A', Volt: b[3] / 10, CarOnOff: b[4], NO2: 12 } }; }\n",
  'broken.yaml': 'name: Broken\nfirmwareVersions:\n  - version: "1.0"\n    profiles:\n      EU863-870:\n        id: profile-868\n        codec: broken-codec\n',
  'broken-codec.yaml': 'uplinkDecoder:\n  fileName: broken.js\n  examples:\n    - description: says 2, gives 1\n      input: { fPort: 1, bytes: [1] }\n      output:\n        data: { n: 2 }\n',
  'broken.js': 'function decodeUplink(input) { return { data: { n: input.bytes[0] } }; }\n',
};

describe('models import from the device repository layout', () => {
  let runner: CodecRunner;
  beforeAll(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'stadtfunk-ttn-'));
    const vendor = path.join(dir, 'vendor', 'example');
    for (const [name, text] of Object.entries(files)) {
      await fs.mkdir(path.dirname(path.join(vendor, name)), { recursive: true });
      await fs.writeFile(path.join(vendor, name), text);
    }
    runner = new CodecRunner({ ...DEFAULT_CODEC_LIMITS, timeoutMs: 2000 });
  });
  afterAll(async () => {
    await runner.close();
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('imports a vendor folder: gate, category, proposal; refuses a model whose example fails', async () => {
    const { models, problems } = await readRepositoryPath(path.join(dir, 'vendor', 'example'));
    expect(problems).toEqual([]);
    expect(models.map((m) => [m.id, m.category, m.codecFile])).toEqual([['example-counter', 'people', 'counter.js'], ['example-bay', 'parking', 'payload/bay.js'], ['example-broken', null, 'broken.js']]);
    const saved: ImportedModel[] = [];
    const report = await importRepositoryModels(models, { run: (s, i, o) => runner.decode(s, i, o), save: async (m) => void saved.push(m) });
    expect(report.map((e) => [e.id, e.status, e.verified])).toEqual([['example-counter', 'imported', true], ['example-bay', 'imported', true], ['example-broken', 'refused', false]]);
    expect(report[0]!.mapped).toEqual([
      { path: 'inCounter', metric: 'people_count_total', channel: 'direction=in' },
      { path: 'outCounter', metric: 'people_count_total', channel: 'direction=out' },
      { path: 'volt', metric: 'battery_voltage' },
    ]);
    expect(report[1]!.mapped).toEqual([{ path: 'Volt', metric: 'battery_voltage' }, { path: 'CarOnOff', metric: 'occupied' }]);
    expect(report[1]!.left).toEqual([{ path: 'NO2', reason: expect.stringMatching(/ppb or µg\/m³/) }]);
    expect(report[2]!.problem).toMatch(/output.data.n: expected 2, got 1/);
    expect(saved.map((m) => [m.id, m.category, m.source.codecFile])).toEqual([['example-counter', 'people', 'counter.js'], ['example-bay', 'parking', 'payload/bay.js']]);
    expect(saved[1]!.mappingNotes).toEqual(report[1]!.left);
    const text = formatImportReport(report);
    expect(text).toContain('CarOnOff → occupied');
    expect(text).toContain('NO2 left: ');
    expect(text.split('\n').at(-1)).toBe('2 of 3 models imported, 1 refused; 5 fields mapped, 1 left');
  }, 60_000);

  it('imports one device YAML', async () => {
    const { models } = await readRepositoryPath(path.join(dir, 'vendor', 'example', 'bay.yaml'));
    expect(models.map((m) => m.id)).toEqual(['example-bay']);
  });

  it('takes the category from what a device says of itself', () => {
    expect(categoryOfDevice('Dingtek DC500 - People Counter', '', ['pulse count'])).toBe('people');
    expect(categoryOfDevice('NWave Smart Parking Sensor G4 SM', 'Detects vehicle presence … vehicle detection', [])).toBe('parking');
    expect(categoryOfDevice('NWave Smart Car Counter G4 FM', 'vehicle detection and counting', [])).toBe('traffic');
    expect(categoryOfDevice('LAQ4', 'LoRaWAN Air Quality Sensor', ['co2', 'temperature'])).toBe('air');
    expect(categoryOfDevice('Door sensor', 'Opens and closes', ['digital input'])).toBeNull();
  });
});
