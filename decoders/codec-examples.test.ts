import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { CodecSandbox, loadQuickJS } from './codec-sandbox.js';
import { loadCodecYaml, runCodecExamples } from './codec-examples.js';
import { codecTestCommand } from './codec-test-command.js';

const dir = new URL('./examples/', import.meta.url);
const script = fs.readFileSync(new URL('lamp-air-codec.js', dir), 'utf8');
const yaml = fs.readFileSync(new URL('lamp-air-codec.yaml', dir), 'utf8');

describe('codec examples (device-repository YAML shape)', () => {
  let sandbox: CodecSandbox;
  beforeAll(async () => {
    sandbox = new CodecSandbox(await loadQuickJS());
  });
  afterAll(() => sandbox.close());

  it('passes the examples that match, for data and for errors', () => {
    const results = runCodecExamples(sandbox, script, loadCodecYaml(yaml));
    expect(results).toEqual([
      { description: 'A normal reading', passed: true, problem: null },
      { description: 'Wrong port', passed: true, problem: null },
    ]);
  });

  it('fails an example whose expected data differs and says how', () => {
    const wrong = yaml.replace('humidity: 81', 'humidity: 80');
    const [first] = runCodecExamples(sandbox, script, loadCodecYaml(wrong));
    expect(first).toMatchObject({ passed: false, problem: expect.stringContaining('"humidity":80') });
  });

  it('rejects YAML without examples', () => {
    expect(() => loadCodecYaml('uplinkDecoder:\n  fileName: x.js\n')).toThrow(/uplinkDecoder.examples/);
  });

  it('codec test ends with the N passed, M failed line and its exit code', async () => {
    const log = vi.spyOn(console, 'log').mockImplementation(() => undefined);
    const codecPath = new URL('lamp-air-codec.js', dir).pathname;
    const good = await codecTestCommand(['test', '--codec', codecPath, '--examples', new URL('lamp-air-codec.yaml', dir).pathname]);
    const lines = log.mock.calls.map((c) => String(c[0]));
    log.mockRestore();
    expect(good).toBe(0);
    expect(lines.at(-1)).toBe('2 passed, 0 failed');
  });
});
