/**
 * Tests end what they start, also when a run fails or is killed (issue 26, item 7). A
 * nested test run (test/fixtures/leak.fixture.ts, with the real global setup and its
 * embedded PostgreSQL) leaves a detached child behind and then fails with a clean-up
 * hook that times out, or hangs until its runner is killed with SIGKILL (as CI does at a
 * time limit). Afterwards neither the embedded PostgreSQL, nor its folder, nor the
 * child may be left: the run's reaper (test/reaper.mjs) removed them.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { root } from '../bin/build-state.js';
import { eventually } from './helpers.js';

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

interface Leak {
  databaseDir: string;
  postmaster: number;
  child: number;
}

/** Starts the nested run; resolves once its test has started everything, with what it started. */
async function nestedRun(mode: 'fail' | 'hang') {
  const report = path.join(mkdtempSync(path.join(os.tmpdir(), 'stadtfunk-leak-')), 'report.json');
  const env: Record<string, string> = { ...(process.env as Record<string, string>), LEAK_MODE: mode, LEAK_REPORT: report };
  // Its own embedded PostgreSQL and broker, not this run's services; its own reaper.
  for (const name of ['TEST_DATABASE_URL', 'TEST_MQTT_URL', 'STADTFUNK_REAPER_FILE', 'VITEST', 'VITEST_WORKER_ID', 'VITEST_POOL_ID', 'NODE_OPTIONS']) delete env[name];
  const runner = spawn(process.execPath, [path.join(root, 'node_modules', 'vitest', 'vitest.mjs'), 'run', '--config', 'test/fixtures/vitest.leak.config.ts'], {
    cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true,
  });
  let output = '';
  runner.stdout.on('data', (d) => (output += d));
  runner.stderr.on('data', (d) => (output += d));
  const exited = new Promise<number | null>((resolve) => runner.on('exit', (code) => resolve(code)));
  const started = await eventually(async () => (existsSync(report) && readFileSync(report, 'utf8') ? (JSON.parse(readFileSync(report, 'utf8')) as Omit<Leak, 'postmaster'>) : undefined), { timeoutMs: 120_000, intervalMs: 200 })
    .catch((error: unknown) => {
      runner.kill('SIGKILL');
      throw new Error(`the nested run did not start its test:\n${output}`, { cause: error });
    });
  const leak: Leak = { ...started, postmaster: Number(readFileSync(path.join(started.databaseDir, 'postgres', 'postmaster.pid'), 'utf8').split('\n')[0]) };
  rmSync(path.dirname(report), { recursive: true, force: true });
  return { runner, exited, leak, output: () => output };
}

async function nothingLeft(leak: Leak): Promise<void> {
  await eventually(async () => (!alive(leak.postmaster) && !existsSync(leak.databaseDir) && !alive(leak.child) ? true : undefined), { timeoutMs: 30_000, intervalMs: 100 });
}

describe('after a test run', () => {
  it('that failed, with a clean-up hook timed out, no embedded PostgreSQL, folder or child is left', async () => {
    const run = await nestedRun('fail');
    expect(alive(run.leak.postmaster)).toBe(true);
    expect(alive(run.leak.child)).toBe(true);
    expect(await run.exited, run.output()).toBe(1);
    expect(run.output()).toContain('failing on purpose');
    await nothingLeft(run.leak);
  });

  it('that was killed (SIGKILL) mid-test, no embedded PostgreSQL, folder or child is left', async () => {
    const run = await nestedRun('hang');
    expect(alive(run.leak.postmaster)).toBe(true);
    process.kill(-run.runner.pid!, 'SIGKILL');
    await run.exited;
    run.runner.stdout?.destroy();
    run.runner.stderr?.destroy();
    await nothingLeft(run.leak);
  });
});
