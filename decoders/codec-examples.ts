/**
 * The examples gate: a codec's documented examples, run in the codec worker and
 * compared exactly. Examples come in the shape of The Things Network device repository
 * codec files (or the same as JSON through the API):
 *
 *   uplinkDecoder:
 *     examples:
 *       - description: …
 *         input: { fPort: 1, bytes: [0x01, …] }
 *         output: { data: {…}, warnings: […], errors: […] }
 *         normalizedOutput: { data: [ {…} ] }          # optional
 *
 * An example passes only when decodeUplink's whole output equals `output` after a JSON
 * round trip: data, warnings and errors all compared, a key present on one side only
 * is a difference. This is how the device repository's own validator compares
 * (TheThingsNetwork/lorawan-devices bin/validate.js: the runscript output, parsed from
 * JSON, `isEqual` to the expected output; `normalizedOutput` against normalizeUplink's
 * output with a single measurement wrapped in a list). A codec that throws fails its
 * example, whatever the example expects.
 */
import { parse } from 'yaml';
import type { CallOptions, CodecInput, CodecOutcome } from './codec-sandbox.js';

export interface CodecExample {
  description: string;
  input: { fPort: number; bytes: number[]; recvTime?: string };
  output: Record<string, unknown>;
  normalizedOutput?: Record<string, unknown>;
}

export interface ExampleResult {
  description: string;
  passed: boolean;
  /** What differed, when it failed. */
  problem: string | null;
}

/** How the gate runs a codec: a CodecRunner's `decode` (a worker), never the caller's thread. */
export type RunCodec = (script: string, input: CodecInput, options: CallOptions) => Promise<CodecOutcome>;

/** Reads `uplinkDecoder.examples` from a codec YAML file (YAML 1.2). */
export function loadCodecYaml(text: string): CodecExample[] {
  const doc = parse(text, { version: '1.2' }) as { uplinkDecoder?: { examples?: unknown } } | null;
  const examples = doc?.uplinkDecoder?.examples;
  if (!Array.isArray(examples)) throw new Error('the YAML has no uplinkDecoder.examples list');
  return checkExamples(examples);
}

/** Checks the shape of examples (from YAML, or JSON sent to the API). */
export function checkExamples(examples: unknown[]): CodecExample[] {
  return examples.map((e, i) => {
    const ex = (e ?? {}) as Partial<CodecExample> & { output?: unknown };
    if (!ex.input || typeof ex.input.fPort !== 'number' || !Array.isArray(ex.input.bytes) || !ex.input.bytes.every((b) => Number.isInteger(b) && b >= 0 && b <= 255)) {
      throw new Error(`example ${i + 1}: input needs fPort (number) and bytes (list of numbers 0-255)`);
    }
    const output = ex.output as Record<string, unknown> | undefined;
    if (!output || typeof output !== 'object' || Array.isArray(output) || (output.data === undefined && output.errors === undefined)) {
      throw new Error(`example ${i + 1}: output needs data or errors`);
    }
    const normalized = ex.normalizedOutput;
    if (normalized !== undefined && (normalized === null || typeof normalized !== 'object' || Array.isArray(normalized))) {
      throw new Error(`example ${i + 1}: normalizedOutput must be an object { data, … }`);
    }
    return { description: typeof ex.description === 'string' ? ex.description : `example ${i + 1}`, input: ex.input, output, ...(normalized ? { normalizedOutput: normalized } : {}) };
  });
}

export async function runCodecExamples(run: RunCodec, script: string, examples: CodecExample[]): Promise<ExampleResult[]> {
  const results: ExampleResult[] = [];
  for (const example of examples) {
    const input = { bytes: Uint8Array.from(example.input.bytes), fPort: example.input.fPort, recvTime: example.input.recvTime ? new Date(example.input.recvTime) : new Date() };
    let out = await run(script, input, { exact: true });
    // The time limit is wall-clock time: a busy machine can make a good codec miss it once.
    // A codec is refused for time only when it misses it twice.
    if (!out.ok && out.limit === 'time') out = await run(script, input, { exact: true });
    results.push({ description: example.description, ...judge(example, out) });
  }
  return results;
}

function judge(example: CodecExample, out: CodecOutcome): { passed: boolean; problem: string | null } {
  if (out.output === undefined) return { passed: false, problem: out.ok ? 'the codec returned no output' : out.error };
  const decoded = difference(roundTrip(example.output), out.output, 'output');
  if (decoded) return { passed: false, problem: decoded };
  if (example.normalizedOutput) {
    if (!out.ok || out.normalized === undefined) return { passed: false, problem: 'normalizedOutput: the codec has no normalizeUplink (or decoding gave no data)' };
    const actual = out.normalized as Record<string, unknown> | null;
    if (actual && typeof actual === 'object' && !Array.isArray(actual.data) && actual.data !== undefined) actual.data = [actual.data];
    const normalized = difference(roundTrip(example.normalizedOutput), actual, 'normalizedOutput');
    if (normalized) return { passed: false, problem: normalized };
  }
  return { passed: true, problem: null };
}

function roundTrip(value: unknown): unknown {
  return JSON.parse(JSON.stringify(value)) as unknown;
}

const show = (v: unknown): string => (v === undefined ? '(absent)' : JSON.stringify(v).slice(0, 200));

/** The first place where two JSON values differ, as "path: expected X, got Y"; null when equal. */
export function difference(expected: unknown, actual: unknown, path: string): string | null {
  if (expected === actual) return null;
  const bothObjects = expected !== null && actual !== null && typeof expected === 'object' && typeof actual === 'object';
  if (!bothObjects || Array.isArray(expected) !== Array.isArray(actual)) return `${path}: expected ${show(expected)}, got ${show(actual)}`;
  if (Array.isArray(expected)) {
    const a = actual as unknown[];
    for (let i = 0; i < Math.max(expected.length, a.length); i++) {
      const d = difference(expected[i], a[i], `${path}[${i}]`);
      if (d) return d;
    }
    return null;
  }
  const e = expected as Record<string, unknown>;
  const a = actual as Record<string, unknown>;
  for (const key of new Set([...Object.keys(e), ...Object.keys(a)])) {
    const d = difference(e[key], a[key], `${path}.${key}`);
    if (d) return d;
  }
  return null;
}
