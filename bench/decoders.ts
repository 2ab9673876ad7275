/**
 * Decoder throughput on one core: built-in reference decoder, and a vendor codec of
 * typical size in the QuickJS sandbox with its time limit on, beside the same codec run
 * unsandboxed with `new Function` (the baseline: what the sandbox costs).
 *
 *   stadtfunk bench decoders [--duration S] [--json FILE]
 */
import fs from 'node:fs';
import { CodecSandbox, createDecoders, encodeAir, loadQuickJS } from '../decoders/index.js';
import { atRoot } from '../package-root.js';
import { printTable, writeJson } from './environment.js';

function rate(durationMs: number, fn: (i: number) => void): number {
  for (let i = 0; i < 2000; i++) fn(i); // warm-up
  let n = 0;
  const start = performance.now();
  while (performance.now() - start < durationMs) {
    for (let i = 0; i < 500; i++) fn(n++);
  }
  return n / ((performance.now() - start) / 1000);
}

export async function decodersBench(opts: { durationS?: number; json?: string } = {}): Promise<Record<string, unknown>> {
  const durationMs = (opts.durationS ?? 3) * 1000;
  const decoders = await createDecoders();
  const air = encodeAir({ pm1: 8.3, pm2_5: 12.4, pm10: 20.1, no2: 38.5, co2: 415, temperature: 7.25, relative_humidity: 81, pressure: 1013.2, noise: 55.5, battery_voltage: 3.6 });
  const recvTime = new Date();
  const builtin = rate(durationMs, () => void decoders.decode({ id: 'b', decoder: { kind: 'builtin', name: 'stadtfunk-air' } }, { bytes: air, fPort: 10, recvTime }));

  const script = fs.readFileSync(atRoot('decoders', 'examples', 'lamp-air-codec.js'), 'utf8');
  const payload = Uint8Array.from([0x00, 0x7c, 0x00, 0xc9, 0x02, 0xd5, 0x51, 0x27, 0x94, 0x00]);
  const sandbox = new CodecSandbox(await loadQuickJS());
  const sandboxed = rate(durationMs, () => sandbox.decode(script, { bytes: payload, fPort: 2, recvTime }));
  // Through the worker thread with its watchdog (what ingest uses), in batches as ingest sends them.
  const model = { id: 'v', decoder: { kind: 'codec' as const, script }, mapping: [{ path: 'air.pm25', metric: 'pm2_5' }, { path: 'temp', metric: 'temperature' }, { path: 'pressure', metric: 'pressure', unit: 'Pa' }] };
  await Promise.all(Array.from({ length: 2000 }, () => decoders.decode(model, { bytes: payload, fPort: 2, recvTime })));
  let done = 0;
  const t0 = performance.now();
  while (performance.now() - t0 < durationMs) {
    await Promise.all(Array.from({ length: 1000 }, () => decoders.decode(model, { bytes: payload, fPort: 2, recvTime })));
    done += 1000;
  }
  const withMapping = done / ((performance.now() - t0) / 1000);
  // Baseline: the same codec with full host access and no limits (never do this in production).
  const unsandboxed = new Function(`${script}; return decodeUplink;`)() as (input: unknown) => unknown;
  const baseline = rate(durationMs, () => JSON.parse(JSON.stringify(unsandboxed({ bytes: Array.from(payload), fPort: 2, recvTime }))));
  sandbox.close();
  decoders.close();

  const result = {
    builtinDecodesPerSecond: builtin,
    sandboxDecodesPerSecond: sandboxed,
    workerWithNormalizationDecodesPerSecond: withMapping,
    baselineUnsandboxedDecodesPerSecond: baseline,
    parameters: { durationS: durationMs / 1000, codecTimeoutMs: 100, codecBytes: script.length, node: process.version },
  };
  printTable('stadtfunk bench decoders (one core)', [
    ['built-in stadtfunk-air decodes/s', builtin],
    ['sandboxed vendor codec decodes/s (100 ms limit on)', sandboxed],
    ['  … in the worker with watchdog, plus mapping (as ingest runs it)', withMapping],
    ['same codec unsandboxed (baseline) decodes/s', baseline],
    ['sandbox / baseline', `${((sandboxed / baseline) * 100).toFixed(1)} %`],
    ['targets', '≥ 200,000 built-in, ≥ 10,000 sandboxed'],
  ]);
  await writeJson(opts.json, result);
  return result;
}
