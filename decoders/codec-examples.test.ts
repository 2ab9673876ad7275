import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { difference, loadCodecYaml, runCodecExamples, type RunCodec } from './codec-examples.js';
import { CodecRunner } from './codec-runner.js';
import { codecTestCommand } from './codec-test-command.js';

const dir = new URL('./examples/', import.meta.url);
const script = fs.readFileSync(new URL('lamp-air-codec.js', dir), 'utf8');
const yaml = fs.readFileSync(new URL('lamp-air-codec.yaml', dir), 'utf8');

// A codec shaped like TTN device-repository codecs that return all three keys
// (e.g. Tektelic's decoder_*.js: `return { data: …, warnings: [], errors: [] }`).
const threeKeys = `function decodeUplink(input) {
  if (input.fPort !== 10) return { data: {}, warnings: [], errors: ['unknown fPort'] };
  var w = input.bytes[1] > 100 ? ['humidity clipped'] : [];
  return { data: { temperature: input.bytes[0] / 2, humidity: Math.min(input.bytes[1], 100) }, warnings: w, errors: [] };
}`;
const example = (output: unknown, bytes = [40, 50], fPort = 10) => ({ description: 'x', input: { fPort, bytes }, output: output as Record<string, unknown> });

describe('the examples gate compares data, warnings and errors exactly', () => {
  let runner: CodecRunner;
  let run: RunCodec;
  beforeAll(() => {
    runner = new CodecRunner({ timeoutMs: 2000, memoryBytes: 16 * 1024 * 1024, maxOutputBytes: 256 * 1024 });
    run = (s, input, options) => runner.decode(s, input, options);
  });
  afterAll(() => runner.close());

  it('passes the examples that match, for data and for errors', async () => {
    expect(await runCodecExamples(run, script, loadCodecYaml(yaml))).toEqual([
      { description: 'A normal reading', passed: true, problem: null },
      { description: 'Wrong port', passed: true, problem: null },
    ]);
  });

  it('passes an exact three-key output', async () => {
    const [r] = await runCodecExamples(run, threeKeys, [example({ data: { temperature: 20, humidity: 50 }, warnings: [], errors: [] })]);
    expect(r).toMatchObject({ passed: true });
  });

  it.each([
    ['changed data', { data: { temperature: 20.5, humidity: 50 }, warnings: [], errors: [] }, [40, 50], 10, /output.data.temperature: expected 20.5, got 20/],
    ['changed data beside errors: [] (the defect of issue 24)', { data: { totally: 'wrong' }, errors: [] }, [40, 50], 10, /output.data.totally: expected "wrong", got \(absent\)/],
    ['an extra warning in the output', { data: { temperature: 20, humidity: 100 }, warnings: [], errors: [] }, [40, 150], 10, /output.warnings\[0\]: expected \(absent\), got "humidity clipped"/],
    ['a warning the codec does not give', { data: { temperature: 20, humidity: 50 }, warnings: ['humidity clipped'], errors: [] }, [40, 50], 10, /output.warnings\[0\]: expected "humidity clipped", got \(absent\)/],
    ['a missing error', { data: {}, warnings: [], errors: [] }, [40, 50], 9, /output.errors\[0\]: expected \(absent\), got "unknown fPort"/],
    ['an error the codec does not give', { data: { temperature: 20, humidity: 50 }, warnings: [], errors: ['boom'] }, [40, 50], 10, /output.errors\[0\]: expected "boom", got \(absent\)/],
    ['keys the codec does not return (warnings absent vs [])', { data: { temperature: 20, humidity: 50 } }, [40, 50], 10, /output.warnings: expected \(absent\), got \[\]/],
  ])('fails %s and says where', async (_name, output, bytes, fPort, problem) => {
    const [r] = await runCodecExamples(run, threeKeys, [example(output, bytes, fPort)]);
    expect(r!.passed).toBe(false);
    expect(r!.problem).toMatch(problem);
  });

  it('fails an example of a codec that throws, whatever it expects', async () => {
    const [r] = await runCodecExamples(run, 'function decodeUplink() { throw new Error("bad"); }', [example({ errors: ['bad'] })]);
    expect(r).toMatchObject({ passed: false, problem: expect.stringMatching(/codec failed: Error: bad/) });
  });

  it('compares normalizedOutput with a single measurement wrapped in a list, as TTN does', async () => {
    const withNormalize = `${threeKeys}\nfunction normalizeUplink(input) { return { data: { air: { temperature: input.data.temperature } } }; }`;
    const ok = { ...example({ data: { temperature: 20, humidity: 50 }, warnings: [], errors: [] }), normalizedOutput: { data: [{ air: { temperature: 20 } }] } };
    const wrong = { ...ok, normalizedOutput: { data: [{ air: { temperature: 21 } }] } };
    expect((await runCodecExamples(run, withNormalize, [ok]))[0]).toMatchObject({ passed: true });
    expect((await runCodecExamples(run, withNormalize, [wrong]))[0]).toMatchObject({ passed: false, problem: expect.stringMatching(/normalizedOutput.data\[0\].air.temperature: expected 21, got 20/) });
    expect((await runCodecExamples(run, threeKeys, [ok]))[0]).toMatchObject({ passed: false, problem: expect.stringMatching(/no normalizeUplink/) });
  });

  it('fails an example whose expected YAML data differs and says how', async () => {
    const wrong = yaml.replace('humidity: 81', 'humidity: 80');
    const [first] = await runCodecExamples(run, script, loadCodecYaml(wrong));
    expect(first).toMatchObject({ passed: false, problem: 'output.data.humidity: expected 80, got 81' });
  });

  it('rejects YAML without examples', () => {
    expect(() => loadCodecYaml('uplinkDecoder:\n  fileName: x.js\n')).toThrow(/uplinkDecoder.examples/);
  });
});

describe('difference', () => {
  it('ignores key order and finds nested differences', () => {
    expect(difference({ a: 1, b: [1, { c: 2 }] }, { b: [1, { c: 2 }], a: 1 }, 'o')).toBeNull();
    expect(difference({ b: [1, { c: 2 }] }, { b: [1, { c: 3 }] }, 'o')).toBe('o.b[1].c: expected 2, got 3');
    expect(difference([1, 2], [1, 2, 3], 'o')).toBe('o[2]: expected (absent), got 3');
    expect(difference({ a: null }, { a: {} }, 'o')).toBe('o.a: expected null, got {}');
  });
});

describe('codec test', () => {
  it('ends with the N passed, M failed line and its exit code, running the codec in a worker', async () => {
    const log = vi.spyOn(console, 'log').mockImplementation(() => undefined);
    const codecPath = new URL('lamp-air-codec.js', dir).pathname;
    const good = await codecTestCommand(['test', '--codec', codecPath, '--examples', new URL('lamp-air-codec.yaml', dir).pathname]);
    const lines = log.mock.calls.map((c) => String(c[0]));
    log.mockRestore();
    expect(good).toBe(0);
    expect(lines.at(-1)).toBe('2 passed, 0 failed');
  }, 60_000);
});
