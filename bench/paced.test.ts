import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { paced } from './paced.js';

describe('paced (open-loop load)', () => {
  let server: http.Server;
  let base: string;
  let received = 0;
  beforeAll(async () => {
    // Answers /slow after 30 ms, /fail with 500.
    server = http.createServer((req, res) => {
      received++;
      if (req.url === '/fail') {
        res.statusCode = 500;
        res.end('no');
      } else setTimeout(() => res.end('ok'), 30);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('sends rate × duration requests and counts latency from the scheduled start', async () => {
    received = 0;
    const r = await paced(base, ['/slow'], 40, 1);
    expect(received).toBe(40);
    expect(r.errors).toBe(0);
    expect(r.requestedRps).toBe(40);
    expect(r.p50Ms).toBeGreaterThanOrEqual(30);
    expect(r.p99Ms).toBeGreaterThanOrEqual(r.p50Ms);
    expect(r.rps).toBeGreaterThan(0);
  });

  it('counts answers other than 200 as errors, not as latencies', async () => {
    const r = await paced(base, ['/fail', '/slow'], 20, 1);
    expect(r.errors).toBe(10);
    expect(r.p50Ms).toBeGreaterThanOrEqual(30);
  });
});
