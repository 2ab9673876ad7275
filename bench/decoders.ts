/**
 * Decoder throughput: the built-in reference decoder; a vendor codec of typical size
 * (1 KB) and a large one (80 KB, the shape of Tektelic's decoders: bench/large-codec.ts)
 * in the QuickJS sandbox with its limits on, on this thread and through the codec
 * workers as ingest runs them (codec-pool.ts). Baselines measured in the same run: the
 * large codec as written (its table built per call, as before constant tables were
 * hoisted), large codecs through one worker, and the small codec unsandboxed with
 * `new Function`. With TTN_DEVICES_REPO naming a checkout of
 * TheThingsNetwork/lorawan-devices, Tektelic's smart room sensor codec is measured too
 * (the target of ≥ 10,000/s is judged on it: realLargeCodecDecodesPerSecond; without a
 * checkout on our codec of its shape, largeCodecDecodesPerSecond), and the codecs
 * TTN_DEVICES_CODECS names (paths in the checkout, comma-separated).
 *
 *   stadtfunk bench decoders [--duration S] [--json FILE]
 */
import fs from 'node:fs';
import path from 'node:path';
import { atRoot } from '../package-root.js';
import { checkExamples, CodecSandbox, createDecoders, DEFAULT_CODEC_LIMITS, defaultCodecWorkers, encodeAir, loadGuardedQuickJS, type Decoders, type DeviceModel } from '../decoders/index.js';
import { readRepositoryPath } from '../decoders/device-repository.js';
import { printTable, writeJson } from './environment.js';
import { LARGE_CODEC_PAYLOAD, largeCodec } from './large-codec.js';

function rate(durationMs: number, fn: (i: number) => void): number {
  for (let i = 0; i < 500; i++) fn(i); // warm-up
  let n = 0;
  const start = performance.now();
  while (performance.now() - start < durationMs) {
    for (let i = 0; i < 100; i++) fn(n++);
  }
  return n / ((performance.now() - start) / 1000);
}

/** Through the worker, in batches of 1,000 as ingest sends them. */
async function workerRate(decoders: Decoders, model: DeviceModel, bytes: Uint8Array, fPort: number, durationMs: number): Promise<number> {
  const recvTime = new Date();
  const batch = () => Promise.all(Array.from({ length: 1000 }, () => decoders.decode(model, { bytes, fPort, recvTime })));
  const first = await batch();
  const failed = first.find((r) => r.errors.length > 0);
  if (failed) throw new Error(`bench decoders: ${model.id} fails: ${failed.errors.join('; ')}`);
  let done = 0;
  const t0 = performance.now();
  while (performance.now() - t0 < durationMs) {
    await batch();
    done += 1000;
  }
  return done / ((performance.now() - t0) / 1000);
}

interface RealCodec {
  /** Path inside the checkout. */
  file: string;
  script: string;
  bytes: Uint8Array;
  fPort: number;
}

/** The Tektelic codec the bench has always measured (realLargeCodec* keys), and its uplink. */
const SMART_ROOM = 'vendor/tektelic/decoder_smart_room_sensor.js';
const SMART_ROOM_UPLINK = { fPort: 10, bytes: [0x03, 0x67, 0x00, 0xe0, 0x04, 0x68, 0x53] };

/**
 * Real codecs from a lorawan-devices checkout (TTN_DEVICES_REPO): Tektelic's smart room
 * sensor, then the files named in TTN_DEVICES_CODECS (comma-separated, relative to the
 * checkout), each with the first example of its own codec YAML. Files the checkout lacks
 * are left out.
 */
export async function realCodecs(repo: string | undefined, named = ''): Promise<RealCodec[]> {
  if (!repo) return [];
  const files = [SMART_ROOM, ...named.split(',').map((f) => f.trim()).filter((f) => f && f !== SMART_ROOM)];
  const found: RealCodec[] = [];
  for (const file of files) {
    const full = path.join(repo, file);
    if (!fs.existsSync(full)) continue;
    const script = fs.readFileSync(full, 'utf8');
    let uplink: { fPort: number; bytes: number[] } | undefined = file === SMART_ROOM ? SMART_ROOM_UPLINK : undefined;
    if (!uplink) {
      const { models } = await readRepositoryPath(path.dirname(full));
      const model = models.find((m) => m.script === script && m.examples.length > 0);
      if (!model) throw new Error(`bench decoders: ${file} has no codec YAML with examples`);
      uplink = checkExamples(model.examples)[0]!.input;
    }
    found.push({ file, script, bytes: Uint8Array.from(uplink.bytes), fPort: uplink.fPort });
  }
  return found;
}

export async function decodersBench(opts: { durationS?: number; json?: string } = {}): Promise<Record<string, unknown>> {
  const durationMs = (opts.durationS ?? 3) * 1000;
  const decoders = await createDecoders();
  const oneWorker = await createDecoders({ codecWorkers: 1 });
  const workers = defaultCodecWorkers();
  const air = encodeAir({ pm1: 8.3, pm2_5: 12.4, pm10: 20.1, no2: 38.5, co2: 415, temperature: 7.25, relative_humidity: 81, pressure: 1013.2, noise: 55.5, battery_voltage: 3.6 });
  const recvTime = new Date();
  const builtin = rate(durationMs, () => void decoders.decode({ id: 'b', decoder: { kind: 'builtin', name: 'stadtfunk-air' } }, { bytes: air, fPort: 10, recvTime }));

  const small = fs.readFileSync(atRoot('decoders', 'examples', 'lamp-air-codec.js'), 'utf8');
  const smallPayload = Uint8Array.from([0x00, 0x7c, 0x00, 0xc9, 0x02, 0xd5, 0x51, 0x27, 0x94, 0x00]);
  const large = largeCodec();
  const { quickjs, guard } = await loadGuardedQuickJS(512 * 1024 * 1024);
  const sandbox = new CodecSandbox(quickjs, guard, DEFAULT_CODEC_LIMITS);
  const asWritten = new CodecSandbox(quickjs, guard, DEFAULT_CODEC_LIMITS, { hoist: false });
  const smallSandboxed = rate(durationMs, () => sandbox.decode(small, { bytes: smallPayload, fPort: 2, recvTime }));
  const largeSandboxed = rate(durationMs, () => sandbox.decode(large, { bytes: LARGE_CODEC_PAYLOAD, fPort: 10, recvTime }));
  const largeAsWritten = rate(durationMs, () => asWritten.decode(large, { bytes: LARGE_CODEC_PAYLOAD, fPort: 10, recvTime }));
  const reals = (await realCodecs(process.env.TTN_DEVICES_REPO, process.env.TTN_DEVICES_CODECS)).map((c) => ({
    ...c,
    sandbox: rate(durationMs, () => sandbox.decode(c.script, { bytes: c.bytes, fPort: c.fPort, recvTime })),
    asWritten: rate(durationMs, () => asWritten.decode(c.script, { bytes: c.bytes, fPort: c.fPort, recvTime })),
    worker: 0,
  }));

  // Through the worker thread with its watchdog (what ingest uses), plus the mapping.
  const smallModel: DeviceModel = { id: 'small', decoder: { kind: 'codec', script: small }, mapping: [{ path: 'air.pm25', metric: 'pm2_5' }, { path: 'temp', metric: 'temperature' }, { path: 'pressure', metric: 'pressure', unit: 'Pa' }] };
  const smallWorker = await workerRate(decoders, smallModel, smallPayload, 2, durationMs);
  const largeModel: DeviceModel = { id: 'large', decoder: { kind: 'codec', script: large } };
  const largeWorker = await workerRate(decoders, largeModel, LARGE_CODEC_PAYLOAD, 10, durationMs);
  const largeOneWorker = await workerRate(oneWorker, largeModel, LARGE_CODEC_PAYLOAD, 10, durationMs);
  for (const c of reals) c.worker = await workerRate(decoders, { id: c.file, decoder: { kind: 'codec', script: c.script } }, c.bytes, c.fPort, durationMs);
  const real = reals.find((c) => c.file === SMART_ROOM);
  const realOneWorker = real ? await workerRate(oneWorker, { id: real.file, decoder: { kind: 'codec', script: real.script } }, real.bytes, real.fPort, durationMs) : 0;

  // Baseline: the small codec with full host access and no limits (never do this in production).
  const unsandboxed = new Function(`${small}; return decodeUplink;`)() as (input: unknown) => unknown;
  const baseline = rate(durationMs, () => JSON.parse(JSON.stringify(unsandboxed({ bytes: Array.from(smallPayload), fPort: 2, recvTime }))));
  sandbox.close();
  asWritten.close();
  decoders.close();
  oneWorker.close();

  const result = {
    builtinDecodesPerSecond: builtin,
    sandboxDecodesPerSecond: smallSandboxed,
    workerWithNormalizationDecodesPerSecond: smallWorker,
    largeCodecSandboxDecodesPerSecond: largeSandboxed,
    largeCodecAsWrittenDecodesPerSecond: largeAsWritten,
    largeCodecDecodesPerSecond: largeWorker,
    largeCodecOneWorkerDecodesPerSecond: largeOneWorker,
    ...(real ? { realLargeCodecSandboxDecodesPerSecond: real.sandbox, realLargeCodecAsWrittenDecodesPerSecond: real.asWritten, realLargeCodecDecodesPerSecond: real.worker, realLargeCodecOneWorkerDecodesPerSecond: realOneWorker } : {}),
    /** The key the ≥ 10,000/s target is judged on: the real codec when there is a checkout. */
    largeCodecTarget: real ? 'realLargeCodecDecodesPerSecond' : 'largeCodecDecodesPerSecond',
    ...(reals.length > 0 ? { realCodecs: reals.map((c) => ({ file: c.file, bytes: c.script.length, sandboxDecodesPerSecond: c.sandbox, asWrittenDecodesPerSecond: c.asWritten, workerDecodesPerSecond: c.worker })) } : {}),
    baselineUnsandboxedDecodesPerSecond: baseline,
    parameters: {
      durationS: durationMs / 1000, codecWorkers: workers, codecTimeoutMs: DEFAULT_CODEC_LIMITS.timeoutMs, codecMemoryBytes: DEFAULT_CODEC_LIMITS.memoryBytes,
      codecBytes: small.length, largeCodecBytes: large.length, ...(real ? { realLargeCodec: real.file, realLargeCodecBytes: real.script.length } : {}), node: process.version,
    },
  };
  const pct = (a: number, b: number): string => `${((a / b) * 100).toFixed(0)} %`;
  printTable(`stadtfunk bench decoders (limits on: 100 ms, 16 MiB; ${workers} codec worker${workers === 1 ? '' : 's'} as ingest runs them)`, [
    ['built-in stadtfunk-air decodes/s', builtin],
    [`small codec (${(small.length / 1024).toFixed(1)} KB), sandbox decodes/s`, smallSandboxed],
    ['  … in the workers with watchdog, plus mapping (as ingest runs it)', smallWorker],
    [`large codec (${(large.length / 1024).toFixed(0)} KB, Tektelic-shaped), sandbox decodes/s`, largeSandboxed],
    ['  … as written, table built per call (baseline) decodes/s', largeAsWritten],
    [`  … in the workers with watchdog (largeCodecDecodesPerSecond)${real ? '' : ': the target'}`, largeWorker],
    ['  … in one worker (baseline)', largeOneWorker],
    ...reals.flatMap((c): [string, number][] => [
      [`${c.file} (${(c.script.length / 1024).toFixed(0)} KB), sandbox decodes/s`, c.sandbox],
      ['  … as written (baseline) decodes/s', c.asWritten],
      [`  … in the workers with watchdog${c === real ? ' (realLargeCodecDecodesPerSecond): the target' : ''}`, c.worker],
      ...(c === real ? [['  … in one worker (baseline)', realOneWorker] as [string, number]] : []),
    ]),
    ['small codec unsandboxed (baseline) decodes/s', baseline],
    ['small sandbox / unsandboxed', pct(smallSandboxed, baseline)],
    ['large: hoisted / as written', pct(largeSandboxed, largeAsWritten)],
    ['targets', `≥ 200,000 built-in, ≥ 10,000 sandboxed, ≥ 10,000 large codec through the workers (${real ? 'Tektelic smart room sensor' : 'our Tektelic-shaped codec; TTN_DEVICES_REPO for the real one'})`],
  ]);
  await writeJson(opts.json, result);
  return result;
}
