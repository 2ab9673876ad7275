/**
 * Runs vendor codecs in a worker thread with a hard deadline.
 *
 * Design note. The QuickJS sandbox enforces its time limit through an interrupt handler
 * that the engine consults only every few thousand operations, and its memory limit does
 * not see every allocation; a hostile codec can overrun both for seconds. So codecs run
 * in a worker thread, and a watchdog on the main thread terminates the worker when a
 * call has not answered within its time limit plus a grace period. The call fails with
 * a time-limit error, the worker (and all its memory) is gone, a new one starts, and the
 * calls queued behind it are sent again. Calls are sent in batches so that one message
 * round trip serves many decodes.
 */
import { Worker } from 'node:worker_threads';
import { DEFAULT_CODEC_LIMITS, type CodecInput, type CodecLimits, type CodecOutcome } from './codec-sandbox.js';

interface Pending {
  id: number;
  script: string;
  input: CodecInput;
  resolve: (o: CodecOutcome) => void;
  sent: boolean;
}

export class CodecRunner {
  private worker: Worker | null = null;
  private ready: Promise<void> | null = null;
  private readonly queue = new Map<number, Pending>();
  private nextId = 1;
  private watchdog: NodeJS.Timeout | null = null;
  private headSince = 0;
  private flushScheduled = false;
  private closed = false;
  /** Grace on top of the time limit before the worker is killed, ms. */
  private readonly graceMs: number;

  constructor(private readonly limits: CodecLimits = DEFAULT_CODEC_LIMITS) {
    this.graceMs = Math.max(50, limits.timeoutMs);
  }

  decode(script: string, input: CodecInput): Promise<CodecOutcome> {
    if (this.closed) return Promise.resolve({ ok: false, error: 'codec runner is closed' });
    return new Promise((resolve) => {
      const id = this.nextId++;
      this.queue.set(id, { id, script, input, resolve, sent: false });
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

  private start(): Promise<void> {
    // Compiled, the worker is plain JavaScript; as a source it needs the boot file that registers tsx.
    const entry = import.meta.url.endsWith('.js') ? new URL('./codec-worker.js', import.meta.url) : new URL('./codec-worker-boot.mjs', import.meta.url);
    const worker = new Worker(entry, { workerData: this.limits });
    this.worker = worker;
    worker.unref();
    worker.on('message', (m: { ready?: true; recycle?: true; id?: number; outcome?: CodecOutcome }) => {
      if (m.recycle && this.worker === worker) return this.restart(null);
      if (m.id === undefined || !m.outcome) return;
      const p = this.queue.get(m.id);
      if (!p) return;
      this.queue.delete(m.id);
      this.headSince = Date.now();
      p.resolve(m.outcome);
    });
    let started = false;
    worker.on('error', (error: Error) => {
      if (started) return this.restart(`codec worker failed: ${error.message}`);
      // It never came up: fail what waits instead of restarting in a loop; the next call tries again.
      this.worker = null;
      for (const p of this.queue.values()) p.resolve({ ok: false, error: `codec worker did not start: ${error.message}` });
      this.queue.clear();
    });
    worker.on('exit', () => {
      if (started && this.worker === worker && !this.closed) this.restart('codec worker exited');
    });
    this.watchdog ??= setInterval(() => this.check(), Math.max(10, Math.floor(this.limits.timeoutMs / 4)));
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
    const batch = [...this.queue.values()].filter((p) => !p.sent);
    if (batch.length === 0 || !this.worker) return;
    if (![...this.queue.values()].some((p) => p.sent)) this.headSince = Date.now();
    for (const p of batch) p.sent = true;
    this.worker.postMessage(batch.map((p) => ({ id: p.id, script: p.script, bytes: p.input.bytes, fPort: p.input.fPort, recvTime: p.input.recvTime.getTime(), variables: p.input.variables })));
  }

  /** The oldest sent call has had its time: kill the worker and fail that call. */
  private check(): void {
    const head = [...this.queue.values()].find((p) => p.sent);
    if (!head || Date.now() - this.headSince <= this.limits.timeoutMs + this.graceMs) return;
    this.queue.delete(head.id);
    head.resolve({ ok: false, error: `codec exceeded its time limit of ${this.limits.timeoutMs} ms and was stopped` });
    this.restart(null);
  }

  private restart(reason: string | null): void {
    const old = this.worker;
    this.worker = null;
    void old?.terminate();
    if (reason) {
      // A crash: fail the call that was running, send the rest again.
      const head = [...this.queue.values()].find((p) => p.sent);
      if (head) {
        this.queue.delete(head.id);
        head.resolve({ ok: false, error: reason });
      }
    }
    for (const p of this.queue.values()) p.sent = false;
    if (this.queue.size > 0 && !this.closed) void this.flush();
  }
}
