/**
 * Open-loop load: requests start on a fixed schedule (every 1/rate seconds, cycling
 * through `paths`) whether or not earlier ones have been answered, as k6's
 * constant-arrival-rate executor does. Latency counts from the scheduled start, so a
 * stalled service cannot hide its backlog (no coordinated omission). autocannon's
 * `overallRate` sends each second's quota in a burst at the start of the second, so its
 * p99 measured the burst.
 */
import http from 'node:http';
import { percentile } from './environment.js';

export interface PacedResult {
  requestedRps: number;
  rps: number;
  p50Ms: number;
  p99Ms: number;
  errors: number;
}

export async function paced(baseUrl: string, paths: string[], rate: number, durationS: number, headers: Record<string, string> = {}): Promise<PacedResult> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
  const latencies: number[] = [];
  let errors = 0;
  const started = performance.now();
  const total = Math.round(rate * durationS);
  const pending: Promise<void>[] = [];
  for (let i = 0; i < total; i++) {
    const due = started + (i * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((resolve) => setTimeout(resolve, wait));
    // A wait under a millisecond is not waited (timers are not that fine): such a request
    // starts a little early, and counts from when it started.
    const from = Math.min(due, performance.now());
    pending.push(new Promise<void>((resolve) => {
      const req = http.get(new URL(paths[i % paths.length]!, baseUrl), { agent, headers }, (res) => {
        res.on('data', () => undefined);
        res.on('end', () => {
          if (res.statusCode === 200) latencies.push(performance.now() - from);
          else errors++;
          resolve();
        });
      });
      req.on('error', () => {
        errors++;
        resolve();
      });
    }));
  }
  await Promise.all(pending);
  const elapsedS = (performance.now() - started) / 1000;
  agent.destroy();
  latencies.sort((a, b) => a - b);
  return { requestedRps: rate, rps: latencies.length / elapsedS, p50Ms: percentile(latencies, 50), p99Ms: percentile(latencies, 99), errors };
}
