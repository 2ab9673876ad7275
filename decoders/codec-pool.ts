/**
 * Codec workers for ingest and re-decode: more than one when the machine has the cores.
 *
 * Design note. A worker runs one codec call at a time. A large vendor codec (Tektelic's,
 * 60–85 KB) is some 80 µs of QuickJS per call even with its tables hoisted, so one
 * worker tops out near 12,000 decodes/s with idle cores beside it (issue 24 item 6). The
 * pool holds several CodecRunners, each a worker with its own watchdog, memory guard and
 * heap cap: every limit holds per worker exactly as with one, and a runaway codec kills
 * only its own worker (the calls queued behind it go to that worker's successor).
 *
 * A call goes to the first worker while it has fewer than BACKLOG calls waiting, else to
 * the one with the fewest: light traffic is run by one worker and the others are never
 * started; a burst (ingest decodes a batch at once) is spread. Each worker that runs a
 * codec compiles it (and hoists its tables) once. Calls of one device may run in
 * different workers, so a codec's globals do not carry from one call to the next; they
 * never did across devices of one model or a worker's restart, and TS013 codecs keep no
 * state between calls.
 */
import { availableParallelism } from 'node:os';
import { CodecRunner, type CodecRunnerOptions } from './codec-runner.js';
import { DEFAULT_CODEC_LIMITS, type CallOptions, type CodecInput, type CodecLimits, type CodecOutcome } from './codec-sandbox.js';

/** Calls the first worker may have waiting before the next call goes to another. */
const BACKLOG = 16;

/** Workers for ingest: two on a machine with two cores or more (the main thread is the third thread), else one. */
export const defaultCodecWorkers = (): number => Math.min(2, availableParallelism());

export interface CodecPoolOptions extends CodecRunnerOptions {
  /** Codec worker threads at most. Default 1. The heap cap and JavaScript heap hold per worker. */
  workers?: number;
}

export class CodecPool {
  private readonly runners: CodecRunner[];

  constructor(limits: CodecLimits = DEFAULT_CODEC_LIMITS, options: CodecPoolOptions = {}) {
    const workers = Math.max(1, Math.floor(options.workers ?? 1));
    this.runners = Array.from({ length: workers }, () => new CodecRunner(limits, options));
  }

  /** Worker threads the pool may start. */
  get size(): number {
    return this.runners.length;
  }

  decode(script: string, input: CodecInput, options: CallOptions = {}): Promise<CodecOutcome> {
    return this.pick().decode(script, input, options);
  }

  async close(): Promise<void> {
    await Promise.all(this.runners.map((r) => r.close()));
  }

  private pick(): CodecRunner {
    let best = this.runners[0]!;
    if (best.pending < BACKLOG) return best;
    for (const r of this.runners) if (r.pending < best.pending) best = r;
    return best;
  }
}
