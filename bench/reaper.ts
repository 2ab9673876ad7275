/**
 * Tests end what they start (issue 26): a process or folder a test run starts is listed
 * for the run's reaper (test/reaper.mjs), which removes whatever is still there when the
 * run ends, however it ends (a failed hook, a timeout, the runner killed). A no-op
 * outside a test run: the registry file is named by STADTFUNK_REAPER_FILE, which the
 * tests' global setup sets. Benchmarks register their brokers and children too, since
 * the tests run them.
 */
import { appendFileSync } from 'node:fs';

export interface ReaperEntry {
  /** A process to end (SIGTERM, then SIGKILL). */
  pid?: number;
  /** A process group to end (a detached child and everything it started in its group). */
  group?: number;
  /** A folder to remove; an embedded PostgreSQL running in it (postmaster.pid) is stopped first. */
  dir?: string;
  /** Part of the process's command line; a pid that no longer runs it is left alone (Linux). */
  match?: string;
}

export function reapAfterRun(entry: ReaperEntry): void {
  const file = process.env.STADTFUNK_REAPER_FILE;
  if (file) appendFileSync(file, `${JSON.stringify(entry)}\n`);
}
