/**
 * Vendor codecs (LoRa Alliance TS013 `decodeUplink(input)`, as ChirpStack and The Things
 * Stack run them) in QuickJS, compiled to WebAssembly (quickjs-emscripten), the engine
 * ChirpStack uses too. Only the codec worker (codec-worker.ts) runs this: untrusted code
 * never runs on the service's own thread.
 *
 * Design note. Each codec gets its own QuickJS runtime and context: codecs patch
 * Object.prototype and define globals, and must not see each other. A context is built
 * once per codec (known by the id its caller gave it, so a call never hashes the script)
 * and reused for every call. Nothing of the host is reachable: no require, process,
 * filesystem, network or timers, only a no-op console. Each call runs under a deadline
 * enforced by the interrupt handler and a memory budget enforced by the heap itself
 * (codec-memory.ts); the output is size-checked. A call that hit a limit leaves the
 * sandbox `poisoned`: its runtime may be half-updated, so the worker is replaced.
 *
 * The interrupt handler is consulted only every few thousand backward jumps and calls:
 * a single heavy builtin (a huge join, a catastrophic regular expression) can run past
 * the deadline. The watchdog in codec-runner.ts bounds those by terminating the worker.
 *
 * Large constant tables inside a codec's functions are evaluated once (codec-hoist.ts);
 * a codec that writes to one is detected and run as written instead.
 */
import type { QuickJSContext, QuickJSHandle, QuickJSRuntime, QuickJSWASMModule } from 'quickjs-emscripten';
import { hoistConstants, MUTATION_MARK, VIOLATIONS_GLOBAL } from './codec-hoist.js';
import type { MemoryGuard } from './codec-memory.js';

export interface CodecLimits {
  /** Per call. Default 100 ms (ChirpStack's default). Loading a codec gets ten times this. */
  timeoutMs: number;
  /** How much the heap may grow during one load or call. Default 16 MiB. */
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

/** Which limit stopped a codec. */
export type CodecLimit = 'time' | 'memory' | 'stack' | 'output';

export type CodecOutcome =
  | {
      ok: true;
      data: Record<string, unknown>;
      warnings: string[];
      errors: string[];
      /** `normalizeUplink`'s output (TS013 normalized payload), when the codec has one and decoding gave data. */
      normalized?: unknown;
      /** decodeUplink's whole return value after a JSON round trip; only when asked for (the examples gate). */
      output?: unknown;
    }
  | { ok: false; error: string; limit?: CodecLimit; output?: unknown };

export interface SandboxOptions {
  /** At most this many codecs stay compiled (the oldest goes first). Default 200. */
  maxCompiled?: number;
  /** Hoist constant tables (codec-hoist.ts). Default true; false runs codecs exactly as written (the bench's baseline). */
  hoist?: boolean;
}

export interface CallOptions {
  /** Also return decodeUplink's whole output (`output`). */
  exact?: boolean;
}

interface Compiled {
  runtime: QuickJSRuntime;
  context: QuickJSContext;
  runner: QuickJSHandle;
  /** The constant tables were hoisted; false once the codec was caught writing to one. */
  hoisted: boolean;
  /** Read by the interrupt handler, set before each call (setting a new handler per call costs more than a small decode). */
  clock: { deadline: number };
  /** The first call may use what is left of the load budget too: the worker's watchdog allows load and first call together. */
  loadedUntil: number;
}

/** Each input byte crosses as the character U+0100 + byte: no NUL, one UTF-8 pair each. */
const BYTE_OFFSET = 256;

const PRELUDE = `
var console = { log: function () {}, warn: function () {}, error: function () {}, info: function () {}, debug: function () {} };
`;
// TS013 input; `recvTime` as a Date (ChirpStack passes one). normalizeUplink gets { data } (The
// Things Stack's normalized payload). Output: decodeUplink's JSON, or, when normalizeUplink ran,
// U+0002 and a JSON pair [decode output, normalize output]. (Strings cross into and out of
// QuickJS as C strings: no NUL in them. JSON.stringify escapes control characters, so a leading
// U+0001/U+0002 is ours.) The input arrives as one string (encodeInput): QuickJS's JSON.parse
// of it cost some 5 µs a call, this 2–3 µs.
const RUNNER = `
(function (s) {
  var a = s.indexOf('|'), b = s.indexOf('|', a + 1), c = s.indexOf('|', b + 1), n = +s.slice(b + 1, c), bytes = [];
  for (var i = 0; i < n; i++) bytes.push(s.charCodeAt(c + 1 + i) - ${BYTE_OFFSET});
  var rest = s.slice(c + 1 + n);
  var input = { bytes: bytes, fPort: +s.slice(0, a), recvTime: new Date(+s.slice(a + 1, b)), variables: rest ? JSON.parse(rest) : {} };
  if (typeof decodeUplink !== 'function') throw new Error('the codec defines no decodeUplink(input) function');
  var out = decodeUplink(input);
  var text = JSON.stringify(out === undefined ? null : out);
  if (typeof ${VIOLATIONS_GLOBAL} !== 'undefined' && ${VIOLATIONS_GLOBAL}.n > 0) return '${MUTATION_MARK}';
  if (typeof normalizeUplink !== 'function' || !out || typeof out.data !== 'object' || out.data === null || (out.errors && out.errors.length)) return text;
  var normalized;
  try { normalized = JSON.stringify(normalizeUplink({ data: JSON.parse(text).data })); }
  catch (e) { normalized = JSON.stringify({ errors: ['normalizeUplink failed: ' + e] }); }
  if (typeof ${VIOLATIONS_GLOBAL} !== 'undefined' && ${VIOLATIONS_GLOBAL}.n > 0) return '${MUTATION_MARK}';
  return '\\u0002[' + text + ',' + normalized + ']';
})
`;

export class CodecSandbox {
  private readonly compiled = new Map<number, Compiled>();
  private readonly scripts = new Map<number, string>();
  /** Codecs caught writing to a hoisted constant: compiled as written from then on. */
  private readonly unhoistable = new Set<number>();
  /** For `decode(script, …)`: ids of scripts seen by this sandbox. */
  private readonly ids = new Map<string, number>();
  /** Set after a call hit a hard limit: the runtime was abandoned, not freed. */
  poisoned = false;

  constructor(
    private readonly quickjs: QuickJSWASMModule,
    private readonly guard: MemoryGuard | null,
    private readonly limits: CodecLimits = DEFAULT_CODEC_LIMITS,
    private readonly options: SandboxOptions = {},
  ) {}

  /** Makes a codec known under an id; it is compiled on its first call. */
  define(codecId: number, script: string): void {
    if (this.scripts.get(codecId) === script) return;
    this.discard(codecId);
    this.scripts.set(codecId, script);
  }

  /** The codec is compiled here: its next call is no load. */
  isCompiled(codecId: number): boolean {
    return this.compiled.has(codecId);
  }

  /** Convenience for tests and one-off runs: the script is its own key. */
  decode(script: string, input: CodecInput, options: CallOptions = {}): CodecOutcome {
    let id = this.ids.get(script);
    if (id === undefined) {
      id = -(this.ids.size + 1); // negative: never one a CodecRunner gives (they count from 1)
      this.ids.set(script, id);
      this.define(id, script);
    }
    return this.call(id, input, options);
  }

  call(codecId: number, input: CodecInput, options: CallOptions = {}): CodecOutcome {
    let codec = this.compiled.get(codecId);
    if (!codec) {
      const built = this.compile(codecId);
      if ('error' in built) return built.outcome;
      codec = built;
    }
    const outcome = this.run(codec, input, options);
    // A runtime stopped at a hard limit may be half-updated: freeing it can trip QuickJS's
    // own assertions (an abort of the whole module). It is abandoned, never freed.
    if (this.poisoned) this.compiled.delete(codecId);
    if (outcome !== 'mutated') return outcome;
    // The codec wrote to a constant table: drop the hoisted build, run it as written, again.
    this.unhoistable.add(codecId);
    this.discard(codecId);
    const plain = this.compile(codecId);
    if ('error' in plain) return plain.outcome;
    const again = this.run(plain, input, options);
    return again === 'mutated' ? { ok: false, error: 'codec failed: constant guard tripped without hoisting' } : again;
  }

  close(): void {
    for (const id of [...this.compiled.keys()]) this.discard(id);
  }

  private run(codec: Compiled, input: CodecInput, options: CallOptions): CodecOutcome | 'mutated' {
    const encoded = encodeInput(input);
    const { context } = codec;
    const deadline = Math.max(Date.now(), codec.loadedUntil) + this.limits.timeoutMs;
    codec.loadedUntil = 0;
    codec.clock.deadline = deadline;
    this.guard?.budget(this.limits.memoryBytes);
    let arg: QuickJSHandle | null = null;
    try {
      arg = context.newString(encoded);
      const result = context.callFunction(codec.runner, context.undefined, arg);
      if (result.error) {
        const message = describeError(context.dump(result.error));
        result.error.dispose();
        if (codec.hoisted && !this.guard?.exceeded && Date.now() <= deadline && this.tripped(context)) return 'mutated';
        return this.failure(message, Date.now() > deadline);
      }
      const text = context.getString(result.value);
      result.value.dispose();
      if (this.guard?.exceeded) return this.failure('out of memory', false);
      if (text === MUTATION_MARK) return 'mutated';
      if (text.length > this.limits.maxOutputBytes) return { ok: false, error: `codec output of ${text.length} bytes exceeds ${this.limits.maxOutputBytes}`, limit: 'output' };
      const pair = text.charCodeAt(0) === 2 ? (JSON.parse(text.slice(1)) as [unknown, unknown]) : null;
      const output = pair ? pair[0] : (JSON.parse(text) as unknown);
      const shaped = shape(output);
      if (shaped.ok && pair) shaped.normalized = pair[1];
      if (options.exact) shaped.output = output;
      return shaped;
    } catch (error) {
      return this.failure((error as Error).message, Date.now() > deadline);
    } finally {
      arg?.dispose();
    }
  }

  /** A failed call: name the limit it hit, and poison the sandbox when the runtime may be damaged. */
  private failure(message: string, late: boolean): CodecOutcome {
    const memory = this.guard?.exceeded === true || /out of memory/i.test(message);
    const stack = /stack overflow|call stack size/i.test(message);
    const time = late || /interrupted/i.test(message);
    if (memory || time || stack) this.poisoned = true;
    if (memory) return { ok: false, error: `codec exceeded its memory limit of ${mib(this.limits.memoryBytes)}`, limit: 'memory' };
    if (time) return { ok: false, error: `codec exceeded its time limit of ${this.limits.timeoutMs} ms`, limit: 'time' };
    if (stack) return { ok: false, error: `codec failed: ${message}`, limit: 'stack' };
    return { ok: false, error: `codec failed: ${message}` };
  }

  private compile(codecId: number): Compiled | { error: true; outcome: CodecOutcome } {
    const script = this.scripts.get(codecId);
    if (script === undefined) return { error: true, outcome: { ok: false, error: `codec ${codecId} is not defined in this worker` } };
    if (this.compiled.size >= (this.options.maxCompiled ?? 200)) this.discard(this.compiled.keys().next().value!);
    const hoist = this.unhoistable.has(codecId) || this.options.hoist === false ? null : hoistConstants(script);
    const runtime = this.quickjs.newRuntime();
    runtime.setMemoryLimit(this.limits.memoryBytes);
    runtime.setMaxStackSize(512 * 1024);
    // Loading a codec may take longer than one call (top-level setup): ten call budgets.
    const deadline = Date.now() + this.limits.timeoutMs * 10;
    const clock = { deadline };
    runtime.setInterruptHandler(() => Date.now() > clock.deadline);
    this.guard?.budget(this.limits.memoryBytes);
    const context = runtime.newContext();
    const drop = () => {
      context.dispose();
      runtime.dispose();
    };
    const setup = context.evalCode(PRELUDE + (hoist ? hoist.script : script), 'codec.js');
    if (setup.error) {
      const message = describeError(context.dump(setup.error));
      setup.error.dispose();
      if (this.guard?.exceeded || /out of memory|interrupted|stack/i.test(message)) {
        this.poisoned = true;
        return { error: true, outcome: this.failure(message, Date.now() > deadline) };
      }
      drop();
      return { error: true, outcome: { ok: false, error: `codec does not load: ${message}` } };
    }
    setup.value.dispose();
    if (hoist && this.tripped(context)) {
      // Its own top-level code wrote to a hoisted table: load it as written.
      drop();
      this.unhoistable.add(codecId);
      return this.compile(codecId);
    }
    const runner = context.evalCode(RUNNER, 'runner.js');
    if (runner.error) {
      runner.error.dispose();
      drop();
      return { error: true, outcome: { ok: false, error: 'codec runner does not load' } };
    }
    const compiled: Compiled = { runtime, context, runner: runner.value, hoisted: hoist !== null && hoist.count > 0, clock, loadedUntil: deadline };
    this.compiled.set(codecId, compiled);
    return compiled;
  }

  private tripped(context: QuickJSContext): boolean {
    const n = context.evalCode(`${VIOLATIONS_GLOBAL}.n`);
    if (n.error) {
      n.error.dispose();
      return true;
    }
    const count = context.getNumber(n.value);
    n.value.dispose();
    return count > 0;
  }

  private discard(codecId: number): void {
    const codec = this.compiled.get(codecId);
    if (!codec) return;
    this.compiled.delete(codecId);
    try {
      codec.runner.dispose();
      codec.context.dispose();
      codec.runtime.dispose();
    } catch {
      // A runtime that ran out of memory may refuse an orderly dispose; it is dropped either way.
    }
  }
}

/** The input as RUNNER reads it: `fPort|recvTime ms|byte count|`, the bytes (BYTE_OFFSET), then the variables' JSON, if any. */
export function encodeInput(input: CodecInput): string {
  let bytes = '';
  for (let i = 0; i < input.bytes.length; i++) bytes += String.fromCharCode(BYTE_OFFSET + input.bytes[i]!);
  const variables = input.variables && Object.keys(input.variables).length > 0 ? JSON.stringify(input.variables) : '';
  return `${input.fPort}|${input.recvTime.getTime()}|${input.bytes.length}|${bytes}${variables}`;
}

const mib = (bytes: number): string => (bytes % 1_048_576 === 0 ? `${bytes / 1_048_576} MiB` : `${bytes} bytes`);

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
