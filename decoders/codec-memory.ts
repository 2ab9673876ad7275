/**
 * The QuickJS WebAssembly heap, bounded per codec call.
 *
 * Design note. QuickJS's own memory limit (`setMemoryLimit`) does not hold under
 * Emscripten: QuickJS counts each allocation by `malloc_usable_size`, which its
 * Emscripten build answers with 0 (quickjs.c, js_def_malloc_usable_size), so a runtime
 * is charged 8 bytes per allocation whatever its size. Only a single allocation larger
 * than the limit is refused. A codec that allocates in a loop therefore grew the
 * WebAssembly memory up to Emscripten's 2 GiB maximum (issue 24: 2.1 GB).
 *
 * The bound that does hold is the WebAssembly memory itself: every byte QuickJS
 * allocates beyond what the heap already has comes from `memory.grow`, which
 * Emscripten's heap resize calls and whose failure it turns into a failed malloc
 * (QuickJS then throws "out of memory" inside the codec). So the module gets a memory
 * of our own whose `grow` refuses to go past a budget set before each call: the heap
 * may grow by at most the codec's memory limit during one load or one call, and never
 * past a hard cap for the whole worker. A refusal is remembered so that the call is
 * reported as a memory-limit error (and the worker recycled: see codec-worker.ts).
 */
import { newQuickJSWASMModuleFromVariant, newVariant, RELEASE_SYNC, type QuickJSWASMModule } from 'quickjs-emscripten';

/** The part of WebAssembly.Memory used here (the project compiles without the DOM typings). */
interface WasmMemory {
  readonly buffer: ArrayBuffer;
  grow(deltaPages: number): number;
}
const Wasm = (globalThis as unknown as { WebAssembly: { Memory: { new (d: { initial: number; maximum: number }): WasmMemory; prototype: WasmMemory } } }).WebAssembly;

const PAGE_BYTES = 65_536;
/** Emscripten's default initial heap (INITIAL_MEMORY), 16 MiB. */
const INITIAL_PAGES = 256;

export class MemoryGuard {
  /** Set when `grow` was refused since the last `budget()`. */
  exceeded = false;
  private limitBytes: number;

  constructor(readonly memory: WasmMemory, readonly hardCapBytes: number) {
    this.limitBytes = hardCapBytes;
    const grow = Wasm.Memory.prototype.grow;
    // An own property shadows the prototype's method; Emscripten calls `memory.grow(pages)`.
    Object.defineProperty(memory, 'grow', {
      value: (deltaPages: number): number => {
        if (memory.buffer.byteLength + deltaPages * PAGE_BYTES > this.limitBytes) {
          this.exceeded = true;
          throw new RangeError('codec memory budget exhausted');
        }
        return grow.call(memory, deltaPages);
      },
    });
  }

  /** The heap may grow by at most `bytes` from now on (and never past the hard cap). */
  budget(bytes: number): void {
    this.exceeded = false;
    this.limitBytes = Math.min(this.hardCapBytes, this.memory.buffer.byteLength + bytes);
  }

  /** Size of the WebAssembly heap now, bytes. */
  get heapBytes(): number {
    return this.memory.buffer.byteLength;
  }
}

/**
 * A QuickJS module of its own (one per codec worker) on a guarded memory.
 * @param hardCapBytes the most the worker's heap may ever grow to; rounded up to whole pages.
 */
export async function loadGuardedQuickJS(hardCapBytes: number): Promise<{ quickjs: QuickJSWASMModule; guard: MemoryGuard }> {
  const maximum = Math.max(INITIAL_PAGES, Math.ceil(hardCapBytes / PAGE_BYTES));
  const memory = new Wasm.Memory({ initial: INITIAL_PAGES, maximum });
  const guard = new MemoryGuard(memory, maximum * PAGE_BYTES);
  const quickjs = await newQuickJSWASMModuleFromVariant(newVariant(RELEASE_SYNC, { wasmMemory: memory as never }));
  return { quickjs, guard };
}
