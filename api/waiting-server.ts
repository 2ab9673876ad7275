/**
 * The HTTP port while the service starts against an external database or broker: /health
 * answers 503 naming what start-up waits for, every other path 503 with the same words
 * and Retry-After. It stands in for the API, which is built from what start-up learns
 * (the schema brought up to date, TimescaleDB or not, ingest's state for /health); once
 * start-up is done it is closed, its open connections with it, and the API listens on
 * the same port.
 *
 * Plain node:http, not Fastify: two answers, no routes, nothing to validate.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

/** Where start-up stands, as /health tells it. */
export interface StartingStatus {
  /** What start-up is doing now, one line. */
  reason: string;
  database: { ok: boolean; embedded: boolean; reason?: string };
  broker: { ok: boolean; embedded: boolean; reason?: string };
}

export interface WaitingServerOptions {
  host: string;
  port: number;
  version: string;
  status(): StartingStatus;
}

export interface WaitingServer {
  /** The port it listens on (the configured one, or the one given for port 0). */
  port: number;
  /** Stops listening and drops its connections (kept-alive ones too); safe to call twice. */
  close(): Promise<void>;
}

export async function startWaitingServer(options: WaitingServerOptions): Promise<WaitingServer> {
  const server = http.createServer((request, response) => {
    const status = options.status();
    const health = (request.url ?? '/').split('?')[0] === '/health';
    const body = health
      ? {
          status: 'unavailable', reason: status.reason,
          database: { ...status.database, timescale: false }, broker: status.broker, version: options.version,
        }
      : { error: 'Service Unavailable', code: 'STADTFUNK_ERR_STARTING', message: `stadtfunk is starting: ${status.reason}` };
    response.writeHead(503, { 'content-type': 'application/json; charset=utf-8', 'retry-after': '5', connection: 'close' });
    response.end(JSON.stringify(body));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  let closing: Promise<void> | null = null;
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      (closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      })),
  };
}
