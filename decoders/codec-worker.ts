/**
 * Worker thread that runs vendor codecs (see codec-runner.ts). It holds the QuickJS
 * sandbox on a heap of its own; the main thread can terminate it at any moment without
 * harm to ingest or the API, and all of its memory goes with it.
 *
 * Messages in: `define` (a codec's script under an id, once per worker) and `calls`
 * (a batch of decodes by codec id). Out: `ready`, `results` in call order (a few per
 * message), and `recycle` after a call that left the sandbox poisoned.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { loadGuardedQuickJS } from './codec-memory.js';
import { CodecSandbox, type CodecLimits, type CodecOutcome } from './codec-sandbox.js';

export interface WorkerSettings extends CodecLimits {
  /** The most this worker's WebAssembly heap may grow to, bytes. */
  heapCapBytes: number;
}

export interface CallRequest {
  id: number;
  codecId: number;
  bytes: Uint8Array;
  fPort: number;
  recvTime: number;
  variables?: Record<string, string>;
  exact?: boolean;
}

export type WorkerRequest = { kind: 'define'; codecId: number; script: string } | { kind: 'calls'; calls: CallRequest[] };

const settings = workerData as WorkerSettings;
const { quickjs, guard } = await loadGuardedQuickJS(settings.heapCapBytes);
const sandbox = new CodecSandbox(quickjs, guard, settings);

// Warm up: the first calls into a fresh WebAssembly module compile its functions and
// touch its heap, which can take hundreds of milliseconds on a busy machine. Done here,
// before `ready`, that time is not charged to the first codec's time limit.
const WARM_UP = 'function decodeUplink(input) { var t = { a: [1, 2, 3], b: "x" }; var s = JSON.stringify(t) + input.bytes.join(","); var u = new Uint8Array(1 << 16); return { data: { n: s.length + u.length, re: /a+b/.test("aab") } }; }';
sandbox.define(0, WARM_UP);
for (let i = 0; i < 50; i++) sandbox.call(0, { bytes: Uint8Array.of(1, 2, 3), fPort: 1, recvTime: new Date() });

/**
 * Results go back in small groups: one message per result cost more than a large codec's
 * decode here. A group is sent after RESULTS_PER_MESSAGE results or RESULTS_EVERY_MS,
 * whichever comes first, so that the watchdog still sees progress well within a call budget.
 */
const RESULTS_PER_MESSAGE = 64;
const RESULTS_EVERY_MS = 5;

let retired = false;
parentPort!.on('message', (request: WorkerRequest) => {
  if (retired) return; // the main thread sends these again to the next worker
  if (request.kind === 'define') {
    sandbox.define(request.codecId, request.script);
    return;
  }
  let results: { id: number; outcome: CodecOutcome }[] = [];
  let since = Date.now();
  const send = () => {
    if (results.length > 0) parentPort!.postMessage({ kind: 'results', results });
    results = [];
    since = Date.now();
  };
  for (const r of request.calls) {
    // A load may take ten call budgets: results held back meanwhile would look, to the
    // watchdog, like one call running past its own budget, and get the worker killed.
    if (!sandbox.isCompiled(r.codecId)) send();
    const outcome = sandbox.call(r.codecId, { bytes: r.bytes, fPort: r.fPort, recvTime: new Date(r.recvTime), ...(r.variables ? { variables: r.variables } : {}) }, { exact: r.exact === true });
    results.push({ id: r.id, outcome });
    if (sandbox.poisoned) {
      // A codec hit a hard limit and its runtime was abandoned: start afresh in a new worker.
      // Messages on one port arrive in order: the results above reach the main thread first.
      send();
      parentPort!.postMessage({ kind: 'recycle' });
      retired = true;
      return;
    }
    if (results.length >= RESULTS_PER_MESSAGE || Date.now() - since >= RESULTS_EVERY_MS) send();
  }
  send();
});
parentPort!.postMessage({ kind: 'ready' });
