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
parentPort!.on('message', (requests: Request[]) => {
  for (const r of requests) {
    const outcome = sandbox.decode(r.script, { bytes: r.bytes, fPort: r.fPort, recvTime: new Date(r.recvTime), ...(r.variables ? { variables: r.variables } : {}) });
    parentPort!.postMessage({ id: r.id, outcome });
  }
});
parentPort!.postMessage({ ready: true });
