/**
 * Codec examples in the shape of The Things Network device repository codec files:
 *
 *   uplinkDecoder:
 *     examples:
 *       - description: …
 *         input: { fPort: 1, bytes: [0x01, …] }
 *         output: { data: {…} }   # or { errors: […] }, optionally warnings
 *
 * Each example runs in the sandbox; `data` is compared deeply, `errors` as a list.
 */
import { isDeepStrictEqual } from 'node:util';
import { parse } from 'yaml';
import type { CodecSandbox } from './codec-sandbox.js';

export interface CodecExample {
  description: string;
  input: { fPort: number; bytes: number[]; recvTime?: string };
  output: { data?: unknown; errors?: string[]; warnings?: string[] };
}

export interface ExampleResult {
  description: string;
  passed: boolean;
  /** What differed, when it failed. */
  problem: string | null;
}

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
    const ex = e as Partial<CodecExample>;
    if (!ex.input || typeof ex.input.fPort !== 'number' || !Array.isArray(ex.input.bytes)) {
      throw new Error(`example ${i + 1}: input needs fPort (number) and bytes (list of numbers)`);
    }
    if (!ex.output || (ex.output.data === undefined && ex.output.errors === undefined)) throw new Error(`example ${i + 1}: output needs data or errors`);
    return { description: ex.description ?? `example ${i + 1}`, input: ex.input, output: ex.output };
  });
}

export function runCodecExamples(sandbox: CodecSandbox, script: string, examples: CodecExample[]): ExampleResult[] {
  return examples.map((example) => {
    const out = sandbox.decode(script, {
      bytes: Uint8Array.from(example.input.bytes),
      fPort: example.input.fPort,
      recvTime: example.input.recvTime ? new Date(example.input.recvTime) : new Date(),
    });
    const fail = (problem: string): ExampleResult => ({ description: example.description, passed: false, problem });
    if (!out.ok) return example.output.errors ? fail(`expected errors ${JSON.stringify(example.output.errors)}, the codec failed: ${out.error}`) : fail(out.error);
    if (example.output.errors) {
      return isDeepStrictEqual(out.errors, example.output.errors)
        ? { description: example.description, passed: true, problem: null }
        : fail(`errors: expected ${JSON.stringify(example.output.errors)}, got ${JSON.stringify(out.errors)}`);
    }
    if (out.errors.length > 0) return fail(`expected data, got errors ${JSON.stringify(out.errors)}`);
    if (!isDeepStrictEqual(out.data, example.output.data)) return fail(`data: expected ${JSON.stringify(example.output.data)}, got ${JSON.stringify(out.data)}`);
    return { description: example.description, passed: true, problem: null };
  });
}
