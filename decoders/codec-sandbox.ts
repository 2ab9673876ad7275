/**
 * Vendor codecs (LoRa Alliance TS013 `decodeUplink(input)`, as ChirpStack and The Things
 * Stack run them) in QuickJS, compiled to WebAssembly (quickjs-emscripten), the engine
 * ChirpStack uses too.
 *
 * Design note. Each codec gets its own QuickJS runtime and context: codecs patch
 * Object.prototype and define globals, and must not see each other. A context is built
 * once per codec (cached by the script's hash) and reused for every call; building one
 * per message would cost far more than the decode. Nothing of the host is reachable:
 * the context has no require, process, filesystem, network or timers (QuickJS ships
 * none), only a no-op console. Each call runs under a deadline enforced by the
 * interrupt handler, the runtime has a memory and stack limit, and the output is
 * size-checked. After a call that hit a limit the context is disposed and rebuilt,
 * because its heap may be left half-updated.
 *
 * Known limit: QuickJS consults the interrupt handler only every few thousand backward
 * jumps and calls, and its memory limit does not count every string allocation. A loop
 * whose single iteration does heavy builtin work (e.g. piling up megabyte strings) can
 * therefore run past the time limit before it is stopped (measured here: seconds, not
 * milliseconds). It still fails, and the host goes on; a hard bound needs the codec in
 * a worker thread that can be terminated.
 */
import { createHash } from 'node:crypto';
import { getQuickJS, type QuickJSContext, type QuickJSRuntime, type QuickJSWASMModule } from 'quickjs-emscripten';

export interface CodecLimits {
  /** Per call. Default 100 ms (ChirpStack's default). */
  timeoutMs: number;
  /** Per codec runtime. Default 16 MiB. */
  memoryBytes: number;
  /** Largest accepted JSON output. Default 256 KiB. */
  maxOutputBytes: number;
}

export const DEFAULT_CODEC_LIMITS: CodecLimits = { timeoutMs: 100, memoryBytes: 16 * 1024 * 1024, maxOutputBytes: 256 * 1024 };

export interface CodecInput {
  bytes: Uint8Array;
  fPort: number;
  recvTime: Date;
  variables?: Record<string, string>;
}

export type CodecOutcome =
  | { ok: true; data: Record<string, unknown>; warnings: string[]; errors: string[] }
  | { ok: false; error: string };

interface Compiled {
  runtime: QuickJSRuntime;
  context: QuickJSContext;
  /** Read by the interrupt handler: the one object both share. */
  clock: { deadline: number };
}

const PRELUDE = `
var console = { log: function () {}, warn: function () {}, error: function () {}, info: function () {}, debug: function () {} };
`;
const RUNNER = `
(function (json) {
  var input = JSON.parse(json);
  input.recvTime = new Date(input.recvTime);
  if (typeof decodeUplink !== 'function') throw new Error('the codec defines no decodeUplink(input) function');
  var out = decodeUplink(input);
  return JSON.stringify(out === undefined ? null : out);
})
`;

let modulePromise: Promise<QuickJSWASMModule> | null = null;

/** Loads the QuickJS WebAssembly module once per process. */
export function loadQuickJS(): Promise<QuickJSWASMModule> {
  modulePromise ??= getQuickJS();
  return modulePromise;
}

export class CodecSandbox {
  private readonly compiled = new Map<string, Compiled & { runner: ReturnType<QuickJSContext['getProp']> }>();

  constructor(private readonly quickjs: QuickJSWASMModule, private readonly limits: CodecLimits = DEFAULT_CODEC_LIMITS) {}

  decode(script: string, input: CodecInput): CodecOutcome {
    const key = createHash('sha256').update(script).digest('base64');
    let codec = this.compiled.get(key);
    if (!codec) {
      const built = this.compile(script);
      if ('error' in built) return { ok: false, error: built.error };
      codec = built;
      if (this.compiled.size >= 500) this.disposeOldest();
      this.compiled.set(key, codec);
    }
    const json = JSON.stringify({ bytes: Array.from(input.bytes), fPort: input.fPort, recvTime: input.recvTime.toISOString(), variables: input.variables ?? {} });
    const { context } = codec;
    codec.clock.deadline = Date.now() + this.limits.timeoutMs;
    const arg = context.newString(json);
    let fatal = false;
    try {
      const result = context.callFunction(codec.runner, context.undefined, arg);
      if (result.error) {
        const message = describeError(context.dump(result.error));
        result.error.dispose();
        fatal = /interrupted|out of memory|stack overflow/i.test(message);
        return { ok: false, error: Date.now() > codec.clock.deadline ? `codec exceeded its time limit of ${this.limits.timeoutMs} ms` : `codec failed: ${message}` };
      }
      const out = context.getString(result.value);
      result.value.dispose();
      if (out.length > this.limits.maxOutputBytes) return { ok: false, error: `codec output of ${out.length} bytes exceeds ${this.limits.maxOutputBytes}` };
      return shape(JSON.parse(out) as unknown);
    } catch (error) {
      fatal = true;
      return { ok: false, error: `codec failed: ${(error as Error).message}` };
    } finally {
      arg.dispose();
      if (fatal) {
        // Disposing a runtime that hit a limit can trip QuickJS's own assertions (it aborts
        // the WebAssembly module); drop it instead and let the owner recycle the whole
        // sandbox (the worker does: `poisoned`).
        this.compiled.delete(key);
        this.poisoned = true;
      }
    }
  }

  /** Set after a call hit a hard limit: the runtime was abandoned, not freed. */
  poisoned = false;

  close(): void {
    for (const key of [...this.compiled.keys()]) this.discard(key);
  }

  private compile(script: string): (Compiled & { runner: ReturnType<QuickJSContext['getProp']> }) | { error: string } {
    const runtime = this.quickjs.newRuntime();
    runtime.setMemoryLimit(this.limits.memoryBytes);
    runtime.setMaxStackSize(512 * 1024);
    // Loading a codec may take longer than one call (top-level setup): ten call budgets.
    const clock = { deadline: Date.now() + this.limits.timeoutMs * 10 };
    const compiled: Compiled = { runtime, context: runtime.newContext(), clock };
    runtime.setInterruptHandler(() => Date.now() > clock.deadline);
    const { context } = compiled;
    const setup = context.evalCode(PRELUDE + '\n' + script, 'codec.js');
    if (setup.error) {
      const message = describeError(context.dump(setup.error));
      setup.error.dispose();
      context.dispose();
      runtime.dispose();
      return { error: `codec does not load: ${message}` };
    }
    setup.value.dispose();
    const runner = context.evalCode(RUNNER, 'runner.js');
    if (runner.error) {
      runner.error.dispose();
      context.dispose();
      runtime.dispose();
      return { error: 'codec runner does not load' };
    }
    return { ...compiled, runner: runner.value };
  }

  private discard(key: string): void {
    const codec = this.compiled.get(key);
    if (!codec) return;
    this.compiled.delete(key);
    try {
      codec.runner.dispose();
      codec.context.dispose();
      codec.runtime.dispose();
    } catch {
      // A runtime that ran out of memory may refuse an orderly dispose; it is dropped either way.
    }
  }

  private disposeOldest(): void {
    const oldest = this.compiled.keys().next();
    if (!oldest.done) this.discard(oldest.value);
  }
}

/** Whatever was thrown, as one line: Errors by name and message, anything else as JSON. */
function describeError(dumped: unknown): string {
  if (dumped && typeof dumped === 'object' && 'message' in dumped) {
    const e = dumped as { name?: unknown; message?: unknown };
    return `${typeof e.name === 'string' ? e.name + ': ' : ''}${String(e.message)}`.slice(0, 500);
  }
  try {
    return `threw ${JSON.stringify(dumped)}`.slice(0, 500);
  } catch {
    return 'threw a value that cannot be shown';
  }
}

/** The TS013 result shape: { data, warnings?, errors? }. */
function shape(out: unknown): CodecOutcome {
  if (!out || typeof out !== 'object' || Array.isArray(out)) return { ok: false, error: 'decodeUplink must return an object { data, warnings, errors }' };
  const o = out as { data?: unknown; warnings?: unknown; errors?: unknown };
  const strings = (v: unknown): string[] => (Array.isArray(v) ? v.map((x) => String(x)) : []);
  const errors = strings(o.errors);
  if (errors.length > 0) return { ok: true, data: {}, warnings: strings(o.warnings), errors };
  if (!o.data || typeof o.data !== 'object' || Array.isArray(o.data)) return { ok: false, error: 'decodeUplink returned no data object' };
  return { ok: true, data: o.data as Record<string, unknown>, warnings: strings(o.warnings), errors: [] };
}
