/**
 * Worker thread that runs vendor codecs (see codec-runner.ts). It holds the QuickJS
 * sandbox; the main thread can terminate it at any moment without harm to ingest.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { CodecSandbox, loadQuickJS, type CodecLimits } from './codec-sandbox.js';

interface Request {
  id: number;
  script: string;
  bytes: Uint8Array;
  fPort: number;
  recvTime: number;
  variables?: Record<string, string>;
}

const sandbox = new CodecSandbox(await loadQuickJS(), workerData as CodecLimits);
let retired = false;
parentPort!.on('message', (requests: Request[]) => {
  for (const r of requests) {
    if (retired) return; // the main thread resends these to the next worker
    const outcome = sandbox.decode(r.script, { bytes: r.bytes, fPort: r.fPort, recvTime: new Date(r.recvTime), ...(r.variables ? { variables: r.variables } : {}) });
    parentPort!.postMessage({ id: r.id, outcome });
    if (sandbox.poisoned) {
      // A codec hit a hard limit and its runtime was abandoned: start afresh in a new worker.
      // Messages on one port arrive in order: the outcome above reaches the main thread first.
      parentPort!.postMessage({ recycle: true });
      retired = true;
    }
  }
});
parentPort!.postMessage({ ready: true });
