/**
 * Runs vendor codecs in a worker thread with a hard deadline. Every caller that runs a
 * codec (ingest, re-decode, device-model registration, `codec test`, model import) goes
 * through one of these; untrusted code never runs on the caller's thread.
 *
 * Design note. The QuickJS sandbox enforces its time limit through an interrupt handler
 * that the engine consults only every few thousand operations; one heavy builtin can
 * overrun it. So a watchdog on the main thread terminates the worker when a call has
 * not answered within its time limit plus a grace period: the call fails with a
 * time-limit error, the worker (and all its memory) is gone, a new one starts, and the
 * calls queued behind it are sent again. The heap of the worker is bounded per call by
 * the sandbox (codec-memory.ts) and its JavaScript heap by `resourceLimits`.
 *
 * A codec's script crosses to the worker once (`define`, under a small id); calls carry
 * only the id, in batches, so that one message round trip serves many decodes. The first
 * call of a codec in a worker also loads it and gets the load budget (ten call budgets).
 */
import { Worker } from 'node:worker_threads';
import { DEFAULT_CODEC_LIMITS, type CallOptions, type CodecInput, type CodecLimits, type CodecOutcome } from './codec-sandbox.js';
import type { CallRequest, WorkerRequest, WorkerSettings } from './codec-worker.js';

export interface CodecRunnerOptions {
  /** The most a worker's WebAssembly heap may grow to. Default 512 MiB. */
  heapCapBytes?: number;
  /** The worker's own JavaScript heap (old generation), MiB. Default 96. */
  workerHeapMb?: number;
}

interface Pending {
  id: number;
  codecId: number;
  input: CodecInput;
  exact: boolean;
  resolve: (o: CodecOutcome) => void;
  sent: boolean;
  /** Time this call may take: a call budget, or a load budget plus a call budget. */
  budgetMs: number;
}

/** Wall time allowed for parsing a codec before it is loaded (codec-hoist.ts), ms. */
const LOAD_PARSE_ALLOWANCE_MS = 1000;

/** Distinct scripts remembered before the worker is replaced and the table starts again. */
const MAX_CODECS = 1000;

export class CodecRunner {
  private worker: Worker | null = null;
  private ready: Promise<void> | null = null;
  private readonly queue = new Map<number, Pending>();
  private readonly codecIds = new Map<string, number>();
  private readonly scripts = new Map<number, string>();
  /** Codec ids the current worker has been sent. */
  private defined = new Set<number>();
  private nextId = 1;
  private nextCodecId = 1;
  private watchdog: NodeJS.Timeout | null = null;
  private headSince = 0;
  /** When the watchdog last ran: a late tick means this thread itself was held up. */
  private lastTick = 0;
  private flushScheduled = false;
  private closed = false;
  /** Grace on top of the time limit before the worker is killed, ms. */
  private readonly graceMs: number;
  private readonly tickMs: number;
  private readonly settings: WorkerSettings;

  constructor(private readonly limits: CodecLimits = DEFAULT_CODEC_LIMITS, private readonly options: CodecRunnerOptions = {}) {
    this.graceMs = Math.max(50, limits.timeoutMs);
    this.tickMs = Math.max(10, Math.floor(limits.timeoutMs / 4));
    this.settings = { ...limits, heapCapBytes: options.heapCapBytes ?? 512 * 1024 * 1024 };
  }

  /** Calls not yet answered (sent or waiting to be): how far behind this worker is. */
  get pending(): number {
    return this.queue.size;
  }

  decode(script: string, input: CodecInput, options: CallOptions = {}): Promise<CodecOutcome> {
    if (this.closed) return Promise.resolve({ ok: false, error: 'codec runner is closed' });
    let codecId = this.codecIds.get(script);
    if (codecId === undefined) {
      if (this.codecIds.size >= MAX_CODECS && this.queue.size === 0) this.forget();
      codecId = this.nextCodecId++;
      this.codecIds.set(script, codecId);
      this.scripts.set(codecId, script);
    }
    const cid = codecId;
    return new Promise((resolve) => {
      const id = this.nextId++;
      this.queue.set(id, { id, codecId: cid, input, exact: options.exact === true, resolve, sent: false, budgetMs: this.limits.timeoutMs });
      if (!this.flushScheduled) {
        this.flushScheduled = true;
        queueMicrotask(() => void this.flush());
      }
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.watchdog) clearInterval(this.watchdog);
    for (const p of this.queue.values()) p.resolve({ ok: false, error: 'codec runner closed' });
    this.queue.clear();
    await this.worker?.terminate();
    this.worker = null;
  }

  /** Drops the script table (and the worker that knows it) so that it cannot grow without end. */
  private forget(): void {
    this.codecIds.clear();
    this.scripts.clear();
    void this.worker?.terminate();
    this.worker = null;
  }

  private start(): Promise<void> {
    // Compiled, the worker is plain JavaScript; as a source it needs the boot file that registers tsx.
    const entry = import.meta.url.endsWith('.js') ? new URL('./codec-worker.js', import.meta.url) : new URL('./codec-worker-boot.mjs', import.meta.url);
    const worker = new Worker(entry, {
      workerData: this.settings,
      resourceLimits: { maxOldGenerationSizeMb: this.options.workerHeapMb ?? 96, maxYoungGenerationSizeMb: 16, stackSizeMb: 4 },
    });
    this.worker = worker;
    this.defined = new Set();
    worker.unref();
    let started = false;
    worker.on('message', (m: { kind: 'ready' } | { kind: 'recycle' } | { kind: 'results'; results: { id: number; outcome: CodecOutcome }[] }) => {
      if (m.kind === 'recycle') {
        if (this.worker === worker) this.restart(null);
        return;
      }
      if (m.kind !== 'results') return;
      this.headSince = Date.now();
      for (const { id, outcome } of m.results) {
        const p = this.queue.get(id);
        if (!p) continue;
        this.queue.delete(id);
        p.resolve(outcome);
      }
    });
    worker.on('error', (error: Error) => {
      if (this.worker !== worker) return;
      if (started) return this.restart(`codec worker failed: ${error.message}`);
      // It never came up: fail what waits instead of restarting in a loop; the next call tries again.
      this.worker = null;
      for (const p of this.queue.values()) p.resolve({ ok: false, error: `codec worker did not start: ${error.message}` });
      this.queue.clear();
    });
    worker.on('exit', () => {
      if (started && this.worker === worker && !this.closed) this.restart('codec worker exited');
    });
    this.watchdog ??= setInterval(() => this.check(), this.tickMs);
    this.watchdog.unref();
    return new Promise((resolve) => {
      worker.once('message', () => {
        started = true;
        resolve();
      });
      worker.once('error', () => resolve());
    });
  }

  private async flush(): Promise<void> {
    this.flushScheduled = false;
    if (!this.worker) this.ready = this.start();
    await this.ready;
    const worker = this.worker;
    if (!worker) return;
    const batch = [...this.queue.values()].filter((p) => !p.sent);
    if (batch.length === 0) return;
    if (![...this.queue.values()].some((p) => p.sent)) this.headSince = Date.now();
    const calls: CallRequest[] = [];
    for (const p of batch) {
      if (!this.defined.has(p.codecId)) {
        const script = this.scripts.get(p.codecId);
        if (script === undefined) {
          this.queue.delete(p.id);
          p.resolve({ ok: false, error: 'codec runner forgot this codec; call again' });
          continue;
        }
        worker.postMessage({ kind: 'define', codecId: p.codecId, script } satisfies WorkerRequest);
        this.defined.add(p.codecId);
        // Load (ten call budgets), parsing for constant tables (acorn, outside QuickJS's clock:
        // up to a few hundred ms for an 85 KB codec on a cold, busy worker) and the call.
        p.budgetMs = this.limits.timeoutMs * 11 + LOAD_PARSE_ALLOWANCE_MS;
      }
      p.sent = true;
      calls.push({ id: p.id, codecId: p.codecId, bytes: p.input.bytes, fPort: p.input.fPort, recvTime: p.input.recvTime.getTime(), ...(p.input.variables ? { variables: p.input.variables } : {}), ...(p.exact ? { exact: true } : {}) });
    }
    if (calls.length > 0) worker.postMessage({ kind: 'calls', calls } satisfies WorkerRequest);
  }

  /** The oldest sent call has had its time: kill the worker and fail that call. */
  private check(): void {
    const now = Date.now();
    const lateMs = this.lastTick === 0 ? 0 : now - this.lastTick - this.tickMs;
    this.lastTick = now;
    // When this thread was itself held up (the machine overloaded, a long GC), the worker
    // most likely was too: the time lost is not the codec's.
    if (lateMs > this.graceMs) this.headSince += lateMs;
    let head: Pending | undefined;
    for (const p of this.queue.values()) {
      if (p.sent) {
        head = p;
        break;
      }
    }
    if (!head || Date.now() - this.headSince <= head.budgetMs + this.graceMs) return;
    this.queue.delete(head.id);
    head.resolve({ ok: false, error: `codec exceeded its time limit of ${this.limits.timeoutMs} ms and was stopped`, limit: 'time' });
    this.restart(null);
  }

  private restart(reason: string | null): void {
    const old = this.worker;
    this.worker = null;
    void old?.terminate();
    if (reason) {
      // A crash: fail the call that was running, send the rest again.
      for (const p of this.queue.values()) {
        if (!p.sent) continue;
        this.queue.delete(p.id);
        p.resolve({ ok: false, error: reason });
        break;
      }
    }
    for (const p of this.queue.values()) {
      p.sent = false;
      p.budgetMs = this.limits.timeoutMs;
    }
    if (this.queue.size > 0 && !this.closed) void this.flush();
  }
}
