/**
 * The benchmark harness works end to end: a short ingest run with its baselines and the
 * decoder benchmark produce every result field. No timing assertions: these machines
 * are noisy; targets live in the benchmarks' own output.
 */
import { describe, expect, it, vi } from 'vitest';
import { decodersBench } from '../bench/decoders.js';
import { ingestBench } from '../bench/ingest.js';

describe('benchmark harness', () => {
  it('runs a short ingest benchmark with its naive baseline and COPY ceiling', async () => {
    const log = vi.spyOn(console, 'log').mockImplementation(() => undefined);
    try {
      const r = await ingestBench({ rate: 200, durationS: 2, devices: 20 });
      for (const key of ['uplinksPerSecond', 'p99LatencyMs', 'rssMb', 'baselineUplinksPerSecond', 'copyCeilingRowsPerSecond', 'readingsPerUplink']) {
        expect(r[key], key).toBeTypeOf('number');
        expect(r[key] as number, key).toBeGreaterThan(0);
      }
      expect(r.uplinks).toBe(400);
    } finally {
      log.mockRestore();
    }
  }, 180_000);

  it('runs the decoder benchmark', async () => {
    const log = vi.spyOn(console, 'log').mockImplementation(() => undefined);
    try {
      const r = await decodersBench({ durationS: 0.2 });
      expect(r.builtinDecodesPerSecond as number).toBeGreaterThan(0);
      expect(r.sandboxDecodesPerSecond as number).toBeGreaterThan(0);
      expect(r.baselineUnsandboxedDecodesPerSecond as number).toBeGreaterThan(0);
    } finally {
      log.mockRestore();
    }
  }, 60_000);
});
