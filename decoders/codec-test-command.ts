/** `stadtfunk codec test --codec FILE.js --examples FILE.yaml` */
import fs from 'node:fs/promises';
import { loadCodecYaml, runCodecExamples } from './codec-examples.js';
import { CodecRunner } from './codec-runner.js';

export const CODEC_TEST_USAGE = `usage: stadtfunk codec test --codec FILE.js --examples FILE.yaml

Runs the codec in the sandbox against the examples (The Things Network device repository
codec YAML: uplinkDecoder.examples[] with input.fPort, input.bytes and output), prints
each result and ends with "N passed, M failed". An example passes only when the whole
output (data, warnings, errors) is exactly the expected one. The codec runs in a worker
thread with the service's limits (100 ms, 16 MiB).`;

export async function codecTestCommand(argv: string[]): Promise<number> {
  const get = (name: string): string | undefined => {
    const i = argv.indexOf(`--${name}`);
    return i >= 0 ? argv[i + 1] : argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
  };
  if (argv[0] !== 'test' || argv.includes('--help')) {
    console.log(CODEC_TEST_USAGE);
    return argv.includes('--help') ? 0 : 2;
  }
  const codecFile = get('codec');
  const examplesFile = get('examples');
  if (!codecFile || !examplesFile) {
    console.error(`stadtfunk codec: --codec and --examples are required\n${CODEC_TEST_USAGE}`);
    return 2;
  }
  let script: string;
  let examples;
  try {
    script = await fs.readFile(codecFile, 'utf8');
    examples = loadCodecYaml(await fs.readFile(examplesFile, 'utf8'));
  } catch (error) {
    console.error(`stadtfunk codec: ${(error as Error).message}`);
    return 2;
  }
  const runner = new CodecRunner();
  try {
    const results = await runCodecExamples((s, input, options) => runner.decode(s, input, options), script, examples);
    for (const r of results) console.log(`${r.passed ? 'pass' : 'FAIL'}  ${r.description}${r.problem ? `\n      ${r.problem}` : ''}`);
    const failed = results.filter((r) => !r.passed).length;
    console.log(`${results.length - failed} passed, ${failed} failed`);
    return failed === 0 ? 0 : 1;
  } finally {
    await runner.close();
  }
}
