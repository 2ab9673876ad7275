import { Writable } from 'node:stream';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { addressOf, waitForDependencies, type Dependency } from './dependency-wait.js';
import type { ProbeResult } from './storage/index.js';

/** A real pino logger whose lines land in `lines`. */
function capture(): { log: pino.Logger; lines: { level: number; msg: string; reason?: string }[] } {
  const lines: { level: number; msg: string; reason?: string }[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      lines.push(JSON.parse(chunk.toString()) as { level: number; msg: string });
      callback();
    },
  });
  return { log: pino({ level: 'info' }, sink), lines };
}

/** A dependency whose probe answers from `results` in turn (the last one from then on). */
function scripted(name: string, results: ProbeResult[]): Dependency & { attempts: number } {
  const d = {
    name, address: 'db.example:5432', attempts: 0,
    probe: async () => results[Math.min(d.attempts++, results.length - 1)]!,
  };
  return d;
}

const down: ProbeResult = { ok: false, reason: 'connect ECONNREFUSED', fatal: false };

describe('waitForDependencies', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('probes again after pauses that double up to the cap, saying what it waits for', async () => {
    const { log, lines } = capture();
    const db = scripted('PostgreSQL', [down, down, down, down, down, { ok: true }]);
    const said: (string | null)[] = [];
    const done = waitForDependencies([db], { log, initialDelayMs: 500, maxDelayMs: 4_000, onWaiting: (_d, w) => said.push(w) });
    await vi.advanceTimersByTimeAsync(500 + 1_000 + 2_000 + 4_000 + 4_000);
    await done;
    expect(db.attempts).toBe(6);
    expect(lines.filter((l) => l.level === 40).map((l) => l.msg)).toEqual([
      'waiting for PostgreSQL at db.example:5432 (attempt 1, next in 0.5 s)',
      'waiting for PostgreSQL at db.example:5432 (attempt 2, next in 1 s)',
      'waiting for PostgreSQL at db.example:5432 (attempt 3, next in 2 s)',
      'waiting for PostgreSQL at db.example:5432 (attempt 4, next in 4 s)',
      'waiting for PostgreSQL at db.example:5432 (attempt 5, next in 4 s)',
    ]);
    expect(lines.find((l) => l.level === 40)?.reason).toBe('connect ECONNREFUSED');
    expect(lines.at(-1)?.msg).toBe('PostgreSQL at db.example:5432 answers');
    expect(said.at(0)).toBe('waiting for PostgreSQL at db.example:5432 (attempt 1, next in 0.5 s): connect ECONNREFUSED');
    expect(said.at(-1)).toBeNull();
  });

  it('does not probe again before the pause is over', async () => {
    const { log } = capture();
    const db = scripted('PostgreSQL', [down, { ok: true }]);
    const done = waitForDependencies([db], { log, initialDelayMs: 1_000 });
    await vi.advanceTimersByTimeAsync(999);
    expect(db.attempts).toBe(1);
    await vi.advanceTimersByTimeAsync(1);
    await done;
    expect(db.attempts).toBe(2);
  });

  it('gives up at once on a refusal that waiting does not mend, and stops waiting for the others', async () => {
    const { log } = capture();
    const broker = scripted('the MQTT broker', [down]);
    const db = scripted('PostgreSQL', [{ ok: false, reason: 'password authentication failed for user "stadtfunk"', fatal: true }]);
    const done = waitForDependencies([broker, db], { log });
    await expect(done).rejects.toThrow('PostgreSQL at db.example:5432 refused the connection, and waiting will not change that: password authentication failed for user "stadtfunk"');
    await vi.advanceTimersByTimeAsync(60_000);
    expect(broker.attempts).toBe(1);
  });

  it('ends the wait when its signal aborts', async () => {
    const { log } = capture();
    const db = scripted('PostgreSQL', [down]);
    const stop = new AbortController();
    const done = waitForDependencies([db], { log, signal: stop.signal });
    await vi.advanceTimersByTimeAsync(1_600);
    stop.abort();
    await expect(done).rejects.toMatchObject({ name: 'AbortError' });
    await vi.advanceTimersByTimeAsync(60_000);
    expect(db.attempts).toBe(3);
  });
});

describe('addressOf', () => {
  it('names host and port without credentials', () => {
    expect(addressOf('postgres://stadtfunk:secret@db.example/stadtfunk', 5432)).toBe('db.example:5432');
    expect(addressOf('mqtt://user:pw@broker.example:1884', 1883)).toBe('broker.example:1884');
  });
});
