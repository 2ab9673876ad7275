/**
 * The benchmark harness works end to end: short ingest runs (one worker and two), a short
 * raw-frame run and the decoder benchmark produce every result field. No timing assertions: these machines
 * are noisy; targets live in the benchmarks' own output.
 */
import { describe, expect, it, vi } from 'vitest';
import { decodersBench } from '../bench/decoders.js';
import { framesBench } from '../bench/frames.js';
import { ingestBench } from '../bench/ingest.js';
import { mosquittoAvailable } from '../bench/mosquitto.js';

const hasMosquitto = mosquittoAvailable();
if (!hasMosquitto) console.warn('SKIPPED two-worker ingest benchmark: no mosquitto binary (the bench needs an MQTT 5 broker with shared subscriptions)');

/**
 * Runs a benchmark without its results table in the test output, unless it fails: then
 * what it printed is shown with the error, so that a failure is never a muted one.
 */
async function quietly(run: () => Promise<void>): Promise<void> {
  const printed: unknown[][] = [];
  const log = vi.spyOn(console, 'log').mockImplementation((...args: unknown[]) => void printed.push(args));
  try {
    await run();
  } catch (error) {
    log.mockRestore();
    for (const args of printed) console.log(...args);
    throw error;
  } finally {
    log.mockRestore();
  }
}

describe('benchmark harness', () => {
  it('runs a short ingest benchmark with its naive baseline and COPY ceiling', async () => {
    await quietly(async () => {
      const r = await ingestBench({ rate: 200, durationS: 2, devices: 20 });
      for (const key of ['uplinksPerSecond', 'p99LatencyMs', 'rssMb', 'baselineUplinksPerSecond', 'copyCeilingRowsPerSecond', 'readingsPerUplink']) {
        expect(r[key], key).toBeTypeOf('number');
        expect(r[key] as number, key).toBeGreaterThan(0);
      }
      expect(r.uplinks).toBe(400);
      // What the server did, from its statistics: every uplink wrote WAL; the settings behind it are named.
      const database = r.database as { walBytesPerUnit: number; checkpoints: number; settings: string };
      expect(database.walBytesPerUnit).toBeGreaterThan(0);
      expect(database.checkpoints).toBeGreaterThanOrEqual(0);
      expect(database.settings).toMatch(/^shared_buffers=\S+, max_wal_size=\S+, checkpoint_timeout=\S+, wal_compression=\S+, synchronous_commit=\S+$/);
      // Where the machine's CPU went: the service process did the work, the load generator published.
      if (process.platform === 'linux') {
        const cpu = r.machineCpuPercentOfCore as { service: number; loadGenerator: number; postgres: number; idle: number };
        expect(cpu.service).toBeGreaterThan(0);
        expect(cpu.loadGenerator).toBeGreaterThan(0);
        expect(cpu.postgres).toBeGreaterThan(0);
      }
    });
  }, 180_000);

  it.skipIf(!hasMosquitto)('runs the ingest benchmark with two workers on a shared subscription', async () => {
    await quietly(async () => {
      const r = await ingestBench({ rate: 200, durationS: 2, devices: 20, workers: 2 });
      expect(r.workers).toBe(2);
      const each = r.committedPerWorker as number[];
      expect(each).toHaveLength(2);
      // Every uplink committed once in all (the bench waits for the total), and the broker gave both workers a share.
      expect(each[0]! + each[1]!).toBe(400);
      for (const n of each) expect(n).toBeGreaterThan(0);
    });
  }, 180_000);

  it('runs a short raw-frame benchmark: every uplink stored once, with what the server wrote for it', async () => {
    await quietly(async () => {
      const r = await framesBench({ durationS: 1, devices: 20, targetRate: 200 });
      expect(r.uplinks).toBe(200);
      expect(r.duplicateUplinks).toBe(0);
      expect(r.uplinksPerSecond as number).toBeGreaterThan(0);
      expect((r.database as { walBytesPerUnit: number }).walBytesPerUnit).toBeGreaterThan(0);
      const crypto = r.cryptoFramesPerSecond as { lorapacket: number; nodeCrypto: number };
      expect(crypto.lorapacket).toBeGreaterThan(0);
      expect(crypto.nodeCrypto).toBeGreaterThan(0);
    });
  }, 180_000);

  it.skipIf(!hasMosquitto)('runs the raw-frame benchmark with two workers: copies that reach different workers still make one uplink', async () => {
    await quietly(async () => {
      const r = await framesBench({ durationS: 1, devices: 20, targetRate: 200, workers: 2 });
      expect(r.workers).toBe(2);
      expect(r.uplinks).toBe(200);
      expect(r.duplicateUplinks).toBe(0);
    });
  }, 180_000);

  it('runs the decoder benchmark', async () => {
    await quietly(async () => {
      const r = await decodersBench({ durationS: 0.2 });
      expect(r.builtinDecodesPerSecond as number).toBeGreaterThan(0);
      expect(r.sandboxDecodesPerSecond as number).toBeGreaterThan(0);
      expect(r.baselineUnsandboxedDecodesPerSecond as number).toBeGreaterThan(0);
    });
  }, 60_000);
});
