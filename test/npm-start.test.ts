/**
 * `npm start` on the embedded default, as a user runs it: a real child process with
 * an embedded PostgreSQL and broker under a fresh DATA_DIR.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import fs from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort } from './global-setup.js';
import { eventually } from './helpers.js';
import { warnings } from './ingest-process.js';
import { reapAfterRun } from '../bench/reaper.js';
import { embeddedServerSettings } from '../storage/embedded-postgres.js';

const root = path.resolve(import.meta.dirname, '..');

interface Run {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

/** Every service this file started: a failed assertion must not leave one running. */
const started: ChildProcess[] = [];

function start(env: Record<string, string>): Run {
  const child = spawn(process.execPath, [path.join(root, 'bin/stadtfunk.js'), 'start'], {
    cwd: root,
    // ENV_FILE=off: a developer's .env in the checkout must not change what is tested.
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ENV_FILE: 'off', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    // A process group of its own, as a shell gives a foreground job: Ctrl-C is a SIGINT to the group.
    detached: true,
  });
  if (child.pid) reapAfterRun({ group: child.pid });
  let out = '';
  child.stdout?.on('data', (d) => (out += d));
  child.stderr?.on('data', (d) => (out += d));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  started.push(child);
  return { child, output: () => out, exited };
}

describe('npm start on the embedded default', () => {
  const dirs: string[] = [];
  afterAll(async () => {
    for (const child of started) {
      if (child.exitCode !== null || child.signalCode !== null) continue;
      const gone = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGKILL');
      await gone;
    }
    for (const d of dirs) await fs.rm(d, { recursive: true, force: true });
  });

  it('comes up healthy, shuts down cleanly on SIGTERM and reuses its data on the next start', async () => {
    const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'stadtfunk-start-'));
    reapAfterRun({ dir: dataDir });
    dirs.push(dataDir);
    const env = {
      DATA_DIR: dataDir,
      HTTP_PORT: String(await freePort()),
      EMBEDDED_DATABASE_PORT: String(await freePort()),
      EMBEDDED_MQTT_PORT: String(await freePort()),
      LOG_LEVEL: 'info',
      // A city profile of its own: the demonstration profile warns at start (by design).
      CITY_NAME: 'Teststadt', CITY_PUBLISHER: 'Stadt Teststadt', CITY_CONTACT_EMAIL: 'opendata@teststadt.example', CITY_ARS: '051110000000',
    };
    const first = start(env);
    const health = await eventually(async () => {
      const res = await fetch(`http://127.0.0.1:${env.HTTP_PORT}/health`);
      return res.status === 200 ? res.json() : undefined;
    }, { timeoutMs: 60_000, intervalMs: 200 });
    expect(health).toMatchObject({ status: 'ok', database: { ok: true, embedded: true }, broker: { ok: true, embedded: true } });
    expect(first.output()).toContain('embedded PostgreSQL on 127.0.0.1:' + env.EMBEDDED_DATABASE_PORT);

    const password = (await fs.readFile(path.join(dataDir, 'postgres.password'), 'utf8')).trim();
    const url = `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${env.EMBEDDED_DATABASE_PORT}/stadtfunk`;
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    await client.query(`insert into assets (id, kind) values ('lamp-kept', 'street_lamp')`);
    // The embedded server runs with its write settings, not PostgreSQL's defaults (128MB, 1GB, 5min).
    const settings = await client.query<{ name: string; setting: string; unit: string | null }>(
      `select name, setting, unit from pg_settings where name in ('shared_buffers', 'max_wal_size', 'checkpoint_timeout') order by name`,
    );
    const expected = embeddedServerSettings(os.totalmem());
    expect(settings.rows).toEqual([
      { name: 'checkpoint_timeout', setting: '900', unit: 's' },
      { name: 'max_wal_size', setting: '4096', unit: 'MB' },
      { name: 'shared_buffers', setting: String((Number.parseInt(expected.shared_buffers!, 10) * 1024) / 8), unit: '8kB' },
    ]);
    await client.end();

    const stopAsked = Date.now();
    first.child.kill('SIGTERM');
    expect(await first.exited).toBe(0);
    expect(Date.now() - stopAsked).toBeLessThan(10_000);
    expect(first.output()).toContain('stopped cleanly');

    const second = start(env);
    await eventually(async () => ((await fetch(`http://127.0.0.1:${env.HTTP_PORT}/health`)).status === 200 ? true : undefined), { timeoutMs: 60_000, intervalMs: 200 });
    const again = new pg.Client({ connectionString: url });
    await again.connect();
    const kept = await again.query(`select id from assets where id = 'lamp-kept'`);
    await again.end();
    expect(kept.rowCount).toBe(1);

    // Ctrl-C in the terminal: SIGINT to every process of the foreground group. The embedded
    // server must not take it directly (it would end the service's connections while the
    // service still commits); the service stops it last, after its own ordered stop.
    process.kill(-second.child.pid!, 'SIGINT');
    expect(await second.exited).toBe(0);
    expect(second.output()).toContain('stopped cleanly');
    expect(warnings(second.output())).toEqual([]);
    expect(existsSync(path.join(dataDir, 'postgres', 'postmaster.pid'))).toBe(false);
  });

  it('says why the embedded PostgreSQL did not start, in the one line it prints', async () => {
    const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'stadtfunk-broken-'));
    reapAfterRun({ dir: dataDir });
    dirs.push(dataDir);
    // A cluster directory that claims a version but holds no configuration (a half-copied backup).
    await fs.mkdir(path.join(dataDir, 'postgres'));
    await fs.writeFile(path.join(dataDir, 'postgres', 'PG_VERSION'), '18\n');
    const run = start({ DATA_DIR: dataDir, HTTP_PORT: String(await freePort()), EMBEDDED_DATABASE_PORT: String(await freePort()), EMBEDDED_MQTT_PORT: String(await freePort()) });
    expect(await run.exited).toBe(1);
    const line = run.output().split('\n').find((l) => l.startsWith('stadtfunk: start-up failed'));
    expect(line).toContain(`embedded PostgreSQL did not start (cluster ${path.join(dataDir, 'postgres')}`);
    expect(run.output()).toContain('postgresql.conf');
  });

  it('names the port and the variable when a port is taken', async () => {
    const blocker = net.createServer();
    const port = await freePort();
    await new Promise<void>((resolve) => blocker.listen(port, '127.0.0.1', resolve));
    try {
      const run = start({ HTTP_PORT: String(port), DATA_DIR: path.join(os.tmpdir(), 'stadtfunk-unused') });
      expect(await run.exited).toBe(1);
      expect(run.output()).toContain(`port ${port}`);
      expect(run.output()).toContain('HTTP_PORT');
    } finally {
      blocker.close();
    }
  });

  it('stops with one line naming a bad variable', async () => {
    const run = start({ HTTP_PORT: 'eighty' });
    expect(await run.exited).toBe(1);
    expect(run.output().trim()).toBe('stadtfunk: configuration error: HTTP_PORT: "eighty" is not a whole number (example: HTTP_PORT=3000)');
  });
});
