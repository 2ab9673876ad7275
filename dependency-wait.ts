/**
 * Start-up waits for an external database and broker instead of giving up on them
 * (issue 26, item 7): in a compose file or after a power cut the service often starts
 * before PostgreSQL or the broker listens, and an exit there only hands the waiting to a
 * restart policy that may not exist. Each dependency is probed, then probed again after
 * a pause that doubles from `initialDelayMs` up to `maxDelayMs`; every failed attempt is
 * logged with what is awaited, where, and when the next attempt comes. A refusal that
 * waiting cannot mend (a wrong password, a database that does not exist) ends start-up
 * with its reason at once.
 */
import type { Logger } from 'pino';
import type { ProbeResult } from './storage/index.js';

export interface Dependency {
  /** What it is, as a log line names it: `PostgreSQL`, `the MQTT broker`. */
  name: string;
  /** `host:port` (no credentials). */
  address: string;
  probe(): Promise<ProbeResult>;
}

export interface WaitOptions {
  log: Logger;
  /** Ends the wait (SIGTERM during start-up): the promise rejects with an AbortError. */
  signal?: AbortSignal;
  /** First pause between attempts, ms. Default 500. */
  initialDelayMs?: number;
  /** Longest pause between attempts, ms. Default 15,000. */
  maxDelayMs?: number;
  /** Told what is awaited and why (`null` once the dependency answers), for /health. */
  onWaiting?(dependency: Dependency, waiting: string | null): void;
}

/** Resolves once every dependency answers; rejects when one refuses for good or `signal` aborts. */
export async function waitForDependencies(dependencies: Dependency[], options: WaitOptions): Promise<void> {
  // One failing for good ends the others' waits too.
  const stop = new AbortController();
  const signal = options.signal ? AbortSignal.any([options.signal, stop.signal]) : stop.signal;
  try {
    await Promise.all(dependencies.map((d) => waitFor(d, { ...options, signal })));
  } catch (error) {
    stop.abort();
    throw error;
  }
}

async function waitFor(dependency: Dependency, options: WaitOptions & { signal: AbortSignal }): Promise<void> {
  const { log, signal } = options;
  const initial = options.initialDelayMs ?? 500;
  const max = options.maxDelayMs ?? 15_000;
  const where = `${dependency.name} at ${dependency.address}`;
  for (let attempt = 1; ; attempt++) {
    signal.throwIfAborted();
    const result = await dependency.probe();
    signal.throwIfAborted();
    if (result.ok) {
      if (attempt > 1) log.info({ attempts: attempt }, `${where} answers`);
      options.onWaiting?.(dependency, null);
      return;
    }
    if (result.fatal) throw new Error(`${where} refused the connection, and waiting will not change that: ${result.reason}`);
    const delayMs = Math.min(initial * 2 ** (attempt - 1), max);
    const waiting = `waiting for ${where} (attempt ${attempt}, next in ${formatSeconds(delayMs)} s)`;
    log.warn({ reason: result.reason }, waiting);
    options.onWaiting?.(dependency, `${waiting}: ${result.reason}`);
    await pause(delayMs, signal);
  }
}

/** The global setTimeout (not node:timers/promises), so that tests can run the pauses on fake timers. */
function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const done = (): void => {
      signal.removeEventListener('abort', aborted);
      resolve();
    };
    const timer = setTimeout(done, ms);
    const aborted = (): void => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    signal.addEventListener('abort', aborted, { once: true });
  });
}

function formatSeconds(ms: number): string {
  return String(Math.round(ms / 100) / 10);
}

/** `host:port` of a database or broker URL, for what the logs and /health say; the URL without credentials if it does not parse. */
export function addressOf(url: string, defaultPort: number): string {
  try {
    const u = new URL(url);
    const host = u.hostname || (u.searchParams.get('host') ?? 'localhost');
    return `${host}:${u.port || defaultPort}`;
  } catch {
    return url.replace(/\/\/[^@/]*@/, '//');
  }
}
