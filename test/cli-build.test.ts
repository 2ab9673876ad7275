/**
 * The shipped CLI (issue 26, item 7): bin/stadtfunk.js runs the compiled JavaScript in
 * dist/ (built by the global setup when a source is newer), `--help` loads no command
 * module and none of the service's libraries, and a build older than a source is not
 * run: the CLI takes the sources through tsx and says so. How fast it starts is measured,
 * not asserted here (docs/benchmarks.md).
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildState, root } from '../bin/build-state.js';

const cli = path.join(root, 'bin', 'stadtfunk.js');

function run(args: string[], env: Record<string, string> = {}, nodeArgs: string[] = []) {
  const r = spawnSync(process.execPath, [...nodeArgs, cli, ...args], { cwd: root, env: { PATH: process.env.PATH ?? '', ENV_FILE: 'off', ...env }, encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('the stadtfunk command', () => {
  it('runs the build in dist/, and --help imports no command module and no service library', () => {
    expect(buildState()).toBe('fresh');
    const record = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'stadtfunk-imports-')), 'imports.txt');
    const r = run(['--help'], { RECORD_IMPORTS_FILE: record }, ['--import', path.join(root, 'test', 'fixtures', 'record-imports.mjs')]);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^usage: stadtfunk <command>/);
    for (const name of ['start', 'migrate', 'simulate', 'bench', 'apikey', 'codec', 'redecode']) expect(r.stdout).toContain(`  ${name} `);
    const urls = fs.readFileSync(record, 'utf8').trim().split('\n');
    const own = urls.filter((u) => u.startsWith(`file://${root}/`) && !u.includes('/node_modules/')).map((u) => u.slice(`file://${root}/`.length));
    expect(own).toContain('dist/cli/main.js');
    expect(own.filter((f) => f.endsWith('.ts'))).toEqual([]);
    expect(own.filter((f) => f.startsWith('dist/') && f !== 'dist/cli/main.js')).toEqual([]);
    expect(urls.filter((u) => u.includes('/node_modules/'))).toEqual([]);
    fs.rmSync(path.dirname(record), { recursive: true });
  });

  it('answers a command\'s --help and an unknown command from the build', () => {
    const usage = run(['apikey', '--help']);
    expect(usage.status).toBe(0);
    expect(usage.stdout).toContain('usage: stadtfunk apikey');
    const unknown = run(['frobnicate']);
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toContain('unknown command "frobnicate"');
  });

  it('never runs a build older than a source: it runs the sources and says so', () => {
    const stamp = path.join(root, 'dist', '.built');
    const { atime, mtime } = fs.statSync(stamp);
    fs.utimesSync(stamp, new Date(0), new Date(0));
    try {
      expect(buildState()).toBe('stale');
      const r = run(['--help']);
      expect(r.status).toBe(0);
      expect(r.stderr).toContain('the sources are newer than dist/; running them through tsx');
      expect(r.stdout).toMatch(/^usage: stadtfunk <command>/);
    } finally {
      fs.utimesSync(stamp, atime, mtime);
    }
    expect(buildState()).toBe('fresh');
  });
});
