/**
 * Real services for the integration tests, started once per run:
 * - PostgreSQL: TEST_DATABASE_URL (a server where we may create databases), or an
 *   embedded PostgreSQL in a temporary directory on a free port.
 * - MQTT: TEST_MQTT_URL (e.g. Mosquitto, MQTT 5), or an aedes broker on a free port (MQTT 3.1.1).
 * Each test file then creates its own database (test/helpers.ts) and uses its own topics.
 */
import { spawn, spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import fs from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Aedes } from 'aedes';
import pino from 'pino';
import type { TestProject } from 'vitest/node';
import { buildState, root } from '../bin/build-state.js';
import { reapAfterRun } from '../bench/reaper.js';
import { startEmbeddedPostgres } from '../storage/embedded-postgres.js';

declare module 'vitest' {
  export interface ProvidedContext {
    databaseAdminUrl: string;
    databaseKind: string;
    /** The embedded cluster's folder; '' with TEST_DATABASE_URL. */
    databaseDir: string;
    mqttUrl: string;
    mqttProtocolVersion: 4 | 5;
    mqttKind: string;
  }
}

export { freePort } from '../bench/free-port.js';
import { freePort } from '../bench/free-port.js';

/**
 * Tests that start `stadtfunk` as a child process run bin/stadtfunk.js, which runs dist/:
 * built here when a source is newer than it, so no test runs a stale build (and none
 * falls back to the slow tsx start either).
 */
function buildIfStale(): void {
  const state = buildState();
  if (state === 'fresh') return;
  const result = spawnSync(process.execPath, [path.join(root, 'bin', 'build.js')], { cwd: root, stdio: 'inherit' });
  if (result.status !== 0 || buildState() !== 'fresh') throw new Error(`building dist/ for the tests failed (${state} before): see the tsc output above`);
}

/**
 * The run's reaper (test/reaper.mjs), a detached process that cleans up what the run
 * registered (bench/reaper.ts) when this process is gone, or at teardown. Returns the
 * teardown step: ask it to clean up now and wait until it has.
 */
function startReaper(): () => Promise<void> {
  const file = path.join(os.tmpdir(), `stadtfunk-test-reaper-${process.pid}-${Date.now()}.jsonl`);
  writeFileSync(file, '');
  const reaper = spawn(process.execPath, [path.join(root, 'test', 'reaper.mjs'), String(process.pid), file], { detached: true, stdio: 'ignore' });
  reaper.unref();
  // Inherited by the test workers, which start after the global setup.
  process.env.STADTFUNK_REAPER_FILE = file;
  return async () => {
    const gone = new Promise((resolve) => reaper.once('exit', resolve));
    if (reaper.exitCode === null) reaper.kill('SIGUSR2');
    await Promise.race([gone, new Promise((r) => setTimeout(r, 15_000).unref())]);
  };
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  buildIfStale();
  const log = pino({ level: process.env.TEST_LOG_LEVEL ?? 'error' });
  const teardown: (() => Promise<void>)[] = [startReaper()];

  const externalDb = process.env.TEST_DATABASE_URL;
  if (externalDb) {
    project.provide('databaseAdminUrl', externalDb);
    project.provide('databaseKind', 'external');
    project.provide('databaseDir', '');
  } else {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'stadtfunk-test-pg-'));
    reapAfterRun({ dir });
    const pg = await startEmbeddedPostgres({ dataDir: dir, port: await freePort(), log, portVariable: 'test port' });
    project.provide('databaseAdminUrl', pg.adminUrl);
    project.provide('databaseKind', 'embedded');
    project.provide('databaseDir', dir);
    teardown.push(async () => {
      await pg.stop();
      await fs.rm(dir, { recursive: true, force: true });
    });
  }

  const externalMqtt = process.env.TEST_MQTT_URL;
  if (externalMqtt) {
    project.provide('mqttUrl', externalMqtt);
    project.provide('mqttProtocolVersion', 5);
    project.provide('mqttKind', 'external');
  } else {
    const broker = await Aedes.createBroker();
    const server = net.createServer(broker.handle);
    const port = await freePort();
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
    project.provide('mqttUrl', `mqtt://127.0.0.1:${port}`);
    project.provide('mqttProtocolVersion', 4);
    project.provide('mqttKind', 'aedes');
    teardown.push(async () => {
      await new Promise<void>((resolve) => broker.close(() => resolve()));
      await new Promise<void>((resolve) => server.close(() => resolve()));
    });
  }

  return async () => {
    for (const step of teardown.reverse()) await step();
  };
}
