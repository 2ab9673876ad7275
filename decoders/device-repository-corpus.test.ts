/**
 * Opt-in: a checkout of The Things Network's device repository, walked as a city would
 * use it. Set TTN_DEVICES_REPO to the checkout's root (the folder with vendor/); without
 * it this test skips and says so. For every device whose own YAML says it is an air
 * quality, parking, people or vehicle counting or street light device, each codec's
 * examples go through the exact gate in a codec worker, and each value a city needs
 * from them (found by field names with patterns of this test's own, independent of the
 * built-in rules) must come out as a reading of the right metric in the catalog's unit.
 * The counts are printed.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkExamples, runCodecExamples } from './codec-examples.js';
import { CodecRunner } from './codec-runner.js';
import { DEFAULT_CODEC_LIMITS } from './codec-sandbox.js';
import { readRepositoryPath, type RepositoryModel } from './device-repository.js';
import { readingsOf } from './index.js';
import { leavesOf } from './builtin-mapping.js';
import type { Reading } from './types.js';

const repo = process.env.TTN_DEVICES_REPO;
if (!repo) console.warn('SKIPPED device repository corpus: set TTN_DEVICES_REPO to a checkout of TheThingsNetwork/lorawan-devices');

/** What a city needs, by field name: [pattern over the dotted path, metrics that satisfy it, value check]. */
type Need = [RegExp, string[], (field: number, reading: Reading) => boolean];
const same = (f: number, r: Reading) => Math.abs(f - r.value) < 1e-6 * Math.max(1, Math.abs(f));
const NOT = /threshold|alarm|calib|eco2|raw|lpf|status|min|max|interval|limit|set|soil|board|mcu|cpu|probe|_ds|ds18|water|barometer|sensor_temp|capacitor|dew|delta|change|percentile|average|median|deviation|std/i;
const NEEDS: Record<string, Need[]> = {
  air: [
    [/co2/i, ['co2'], same],
    [/pm_?2[._]?5(?![0-9])|pm25/i, ['pm2_5'], same],
    [/pm_?10(?![0-9])(?:[._]0)?/i, ['pm10'], same],
    [/temp/i, ['temperature'], same],
    [/hum/i, ['relative_humidity'], same],
    [/press|baro/i, ['pressure'], (f, r) => [f, f / 100, f * 10].some((x) => Math.abs(x - r.value) < 0.01)],
  ],
  parking: [[/occup|car_?on|caronoff|parking/i, ['occupied'], (f, r) => r.value === (f ? 1 : 0)]],
  people: [[/count|total_?(in|out)|period_?(in|out)|pax/i, ['people_count', 'people_count_total', 'vehicle_count', 'vehicle_count_total'], same]],
  traffic: [[/count|total_?(in|out)|period_?(in|out)/i, ['people_count', 'people_count_total', 'vehicle_count', 'vehicle_count_total'], same]],
};

describe.skipIf(!repo)('The Things Network device repository, walked (opt-in)', () => {
  let runner: CodecRunner;
  beforeAll(() => {
    runner = new CodecRunner({ ...DEFAULT_CODEC_LIMITS, timeoutMs: 1000 });
  });
  afterAll(() => runner.close());

  it('decodes every example exactly and gives the values a city needs as readings', async () => {
    const vendorRoot = path.join(repo!, 'vendor');
    const models: RepositoryModel[] = [];
    for (const vendor of fs.readdirSync(vendorRoot).sort()) {
      if (!fs.existsSync(path.join(vendorRoot, vendor, 'index.yaml'))) continue;
      const read = await readRepositoryPath(path.join(vendorRoot, vendor)).catch(() => ({ models: [] }));
      models.push(...read.models.filter((m) => m.category !== null && m.category !== 'water' && m.category !== 'other'));
    }
    const seen = new Set<string>();
    const stats = { codecs: 0, examples: 0, exact: 0, needed: 0, readings: 0 };
    const inexact: string[] = [];
    const missed: string[] = [];
    for (const m of models) {
      if (seen.has(m.script)) continue;
      seen.add(m.script);
      let examples;
      try {
        examples = checkExamples(m.examples);
      } catch {
        continue;
      }
      if (examples.length === 0) continue;
      stats.codecs++;
      const results = await runCodecExamples((s, i, o) => runner.decode(s, i, o), m.script, examples);
      examples.forEach((example, i) => {
        stats.examples++;
        if (!results[i]!.passed) return void inexact.push(`${m.id}: ${results[i]!.description}: ${results[i]!.problem}`);
        stats.exact++;
        const data = example.output.data;
        if (!data || typeof data !== 'object' || Array.isArray(data)) return;
        const out = readingsOf({ id: m.id, decoder: { kind: 'codec', script: m.script }, category: m.category }, data as Record<string, unknown>, undefined, new Date('2026-11-24T12:00:00Z'));
        for (const leaf of leavesOf(data as Record<string, unknown>)) {
          const need = (NEEDS[m.category!] ?? []).find(([re]) => re.test(leaf.path) && !NOT.test(leaf.path));
          const field = typeof leaf.value === 'boolean' ? Number(leaf.value) : typeof leaf.value === 'number' ? leaf.value : null;
          if (!need || field === null) continue;
          stats.needed++;
          if (out.readings.some((r) => need[1].includes(r.metric) && need[2](field, r))) stats.readings++;
          else missed.push(`${m.id}: ${leaf.path} = ${JSON.stringify(leaf.value)}`);
        }
      });
    }
    console.log(`device repository corpus: ${stats.codecs} codecs, ${stats.examples} examples, ${stats.exact} exact; ${stats.readings} of ${stats.needed} needed values became readings of the right metric and unit`);
    console.log(`not exact (${inexact.length}):\n  ${inexact.join('\n  ')}`);
    console.log(`not read (${missed.length}):\n  ${missed.join('\n  ')}`);
    expect(stats.codecs).toBeGreaterThan(0);
    expect(inexact).toEqual([]);
  }, 600_000);
});
