/**
 * Brings the whole service up and down: database (embedded or external), migrations,
 * broker (embedded or external), decoders, ingest, HTTP API.
 *
 * Start order puts the ingest subscription before anyone may publish to the embedded
 * broker; stop order is the reverse: stop HTTP, stop taking messages and commit what
 * was taken, close the broker, close the pool, stop embedded PostgreSQL.
 *
 * An external database or broker is waited for (dependency-wait.ts); meanwhile, and until
 * the API listens, a stand-in on the HTTP port answers 503 saying what start-up waits for
 * (api/waiting-server.ts). The embedded default starts as before, without either.
 */
import { readFileSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';
import type pg from 'pg';
import type { Logger } from 'pino';
import { buildApp, type ServiceStatus } from './api/app.js';
import { startWaitingServer, type StartingStatus, type WaitingServer } from './api/waiting-server.js';
import { addressOf, waitForDependencies, type Dependency } from './dependency-wait.js';
import { LiveBus } from './api/live-bus.js';
import { startStaMqtt, type StaMqtt } from './api/sta/index.js';
import { redactUrl, type Config } from './config.js';
import { atRoot } from './package-root.js';
import { createDecoders } from './decoders/index.js';
import { DeviceDirectory, probeBroker, sourcesFromConfig, startEmbeddedBroker, startIngest, type EmbeddedBroker, type Ingest } from './ingest/index.js';
import { applyTimescalePolicies, assertPortFree, checkDatabase, closePool, createPool, migrate, probeDatabase, readingsKeyCollation, startEmbeddedPostgres, type EmbeddedPostgresHandle, type WriteBatch, type WriteResult } from './storage/index.js';

const version = (JSON.parse(readFileSync(atRoot('package.json'), 'utf8')) as { version: string }).version;

/** A broker URL as clients may be told it: no user name or password. */
function withoutCredentials(url: string): string {
  const u = new URL(url);
  u.username = '';
  u.password = '';
  return u.toString().replace(/\/$/, '');
}

export interface Service {
  app: FastifyInstance;
  pool: pg.Pool;
  /** Base URL of the HTTP API. */
  httpUrl: string;
  /** The broker ingest uses (embedded or external). */
  mqttUrl: string;
  databaseUrl: string;
  timescale: boolean;
  ingest: Ingest;
  devices: DeviceDirectory;
  liveBus: LiveBus;
  stop(): Promise<void>;
}

/** Opens the database (embedded when no URL is given) and brings the schema up to date. */
export async function openDatabase(
  config: Readonly<Config>,
  log: Logger,
): Promise<{ pool: pg.Pool; url: string; embedded: EmbeddedPostgresHandle | null; timescale: boolean }> {
  let embedded: EmbeddedPostgresHandle | null = null;
  let url = config.databaseUrl;
  if (url === null) {
    embedded = await startEmbeddedPostgres({ dataDir: config.dataDir, port: config.embeddedDatabasePort, log: log.child({ part: 'embedded-postgres' }) });
    url = embedded.url;
  }
  const pool = createPool({ url, log, max: 20 });
  try {
    const { applied, timescale } = await migrate(pool);
    log.info({ applied: applied.length, timescale }, applied.length ? 'migrations applied' : 'schema up to date');
    if (timescale) await applyTimescalePolicies(pool, config.timescale);
    const keys = await readingsKeyCollation(pool);
    if (!keys.bytewise) {
      log.warn({ collation: keys.collation },
        `the readings' identifiers compare under collation ${keys.collation}, not byte by byte: every ingest batch costs the database more CPU for its index keys (twice as much under de_DE.UTF-8, measured). Create the database with LC_COLLATE 'C' (README, Production)`);
    }
    return { pool, url, embedded, timescale };
  } catch (error) {
    await closePool(pool).catch(() => undefined);
    await embedded?.stop().catch(() => undefined);
    throw error;
  }
}

export interface StartOptions {
  /** Aborted (SIGTERM, SIGINT) while start-up waits for the database or broker: start-up ends with an AbortError. */
  signal?: AbortSignal;
}

/**
 * Waits for the external database and broker (none when both are embedded), with a
 * stand-in on the HTTP port meanwhile; null for the embedded default.
 */
async function waitForExternalParts(config: Readonly<Config>, log: Logger, signal: AbortSignal | undefined): Promise<WaitingServer | null> {
  if (config.databaseUrl === null && config.mqttUrl === null) return null;
  const database: Dependency | null = config.databaseUrl === null ? null : {
    name: 'PostgreSQL', address: addressOf(config.databaseUrl, 5432), probe: () => probeDatabase(config.databaseUrl!),
  };
  const broker: Dependency | null = config.mqttUrl === null ? null : {
    name: 'the MQTT broker', address: addressOf(config.mqttUrl, config.mqttUrl.startsWith('mqtts:') ? 8883 : 1883),
    probe: () => probeBroker({ url: config.mqttUrl!, clientId: config.mqtt.clientId, protocolVersion: config.mqtt.protocolVersion, username: config.mqtt.username, password: config.mqtt.password }),
  };
  const parts: Pick<StartingStatus, 'database' | 'broker'> = {
    database: database ? { ok: false, embedded: false, reason: `checking ${database.name} at ${database.address}` } : { ok: false, embedded: true, reason: 'starts once the broker answers' },
    broker: broker ? { ok: false, embedded: false, reason: `checking ${broker.name} at ${broker.address}` } : { ok: false, embedded: true, reason: 'starts once the database answers' },
  };
  let phase: string | null = null;
  const status = (): StartingStatus => ({
    reason: phase ?? [database && parts.database.reason, broker && parts.broker.reason].filter(Boolean).join('; '),
    ...parts,
  });
  const server = await startWaitingServer({ host: config.httpHost, port: config.httpPort, version, status });
  try {
    await waitForDependencies([database, broker].filter((d): d is Dependency => d !== null), {
      log,
      ...(signal ? { signal } : {}),
      onWaiting(dependency, waiting) {
        const part = dependency === database ? parts.database : parts.broker;
        part.ok = waiting === null;
        if (waiting === null) delete part.reason;
        else part.reason = waiting;
      },
    });
  } catch (error) {
    await server.close();
    throw error;
  }
  phase = 'bringing the schema up to date and connecting ingest';
  return server;
}

export async function startService(config: Readonly<Config>, log: Logger, options: StartOptions = {}): Promise<Service> {
  log.info(
    {
      database: config.databaseUrl ? `external ${redactUrl(config.databaseUrl)}` : `embedded PostgreSQL on 127.0.0.1:${config.embeddedDatabasePort}, data in ${config.dataDir}`,
      broker: config.mqttUrl ? `external ${redactUrl(config.mqttUrl)}` : `embedded MQTT broker (aedes) on 127.0.0.1:${config.embeddedMqttPort}`,
    },
    'starting stadtfunk',
  );
  if (config.city.isDefault) {
    log.warn({ publisher: config.city.publisher, contact: config.city.contactEmail },
      'no CITY_* variable is set: open data, the catalog and DATEX II name the demonstration publisher. Set CITY_NAME, CITY_PUBLISHER, CITY_CONTACT_EMAIL and CITY_ARS (README, Configuration)');
  }
  const band450 = Object.values(config.ingest.concentratorBands).find((b) => config.lorawan.regions[b] && b !== 'EU868');
  if (config.lorawan.band450IsPlaceholder && band450 && config.ingest.concentratorPrefixes.some((p) => config.ingest.concentratorBands[p] === band450)) {
    log.warn({ band: band450 }, 'no LORAWAN_450_* variable is set: joins and downlinks in the 450 MHz band use a placeholder channel plan (451.35-451.65 MHz, RX2 451.75 MHz DR0). Set it from your licence (docs/otaa-and-downlinks.md)');
  }
  await assertPortFree(config.httpPort, 'HTTP API', 'HTTP_PORT', config.httpHost);
  const starting = await waitForExternalParts(config, log, options.signal);
  let db: Awaited<ReturnType<typeof openDatabase>>;
  try {
    db = await openDatabase(config, log);
  } catch (error) {
    await starting?.close();
    throw error;
  }
  const cleanups: (() => Promise<unknown>)[] = [async () => starting?.close(), async () => db.embedded?.stop(), () => closePool(db.pool)];
  const undo = async (): Promise<void> => {
    for (const cleanup of cleanups.reverse()) await cleanup().catch((error) => log.warn({ err: error }, 'cleanup failed'));
  };

  try {
    const decoders = await createDecoders();
    cleanups.push(async () => decoders.close());
    const devices = new DeviceDirectory(db.pool);
    let broker: EmbeddedBroker | null = null;
    let mqttUrl = config.mqttUrl;
    const liveBus = new LiveBus();
    // SensorThings MQTT starts once the HTTP API knows its address (absolute links); batches
    // committed before that are published by nobody, as nobody could have subscribed yet.
    let sta: StaMqtt | null = null;
    const ingestOptions = {
      config, pool: db.pool, log, decoder: decoders, devices,
      onCommitted: (batch: WriteBatch, result: WriteResult) => {
        liveBus.publishCommitted(batch, result);
        sta?.onCommitted(batch, result);
      },
    };
    if (mqttUrl === null) {
      broker = await startEmbeddedBroker({
        port: config.embeddedMqttPort,
        pool: db.pool,
        log: log.child({ part: 'embedded-broker' }),
        durableFilters: sourcesFromConfig(config).flatMap((s) => s.filters),
        ingestClientId: config.mqtt.clientId,
        maxPacketBytes: config.ingest.maxPacketBytes,
      });
      cleanups.push(() => broker!.close());
      mqttUrl = broker.url;
    }
    const ingest = await startIngest({ ...ingestOptions, mqttUrl });
    cleanups.push(() => ingest.stop());
    if (broker) {
      broker.open();
      broker.replayInbox().catch((error) => log.error({ err: error }, 'embedded broker: inbox replay failed'));
    }

    const status = async (): Promise<ServiceStatus> => {
      const database = await checkDatabase(db.pool);
      const brokerUp = ingest.connected();
      return {
        database: { ok: database.ok, embedded: db.embedded !== null, timescale: db.timescale, ...(database.ok ? {} : { reason: database.reason }) },
        broker: { ok: brokerUp, embedded: broker !== null, ...(brokerUp ? {} : { reason: 'ingest is not connected to the MQTT broker' }) },
      };
    };
    const app = await buildApp({
      pool: db.pool, log, version, status, liveBus, timescale: db.timescale, masterKey: config.masterKey,
      onDeviceChanged: (devEui) => devices.invalidate(devEui),
      openDataRateLimitPerMinute: config.api.openDataRateLimitPerMinute, parkingStaleAfterS: config.api.parkingStaleAfterS,
      city: config.city, publicUrl: config.api.publicUrl, trustedProxies: config.api.trustedProxies, lorawan: config.lorawan,
      sta: {
        queryTimeoutMs: config.sta.queryTimeoutMs,
        mqttEndpoint: config.sta.mqttPublicUrl !== null ? { url: config.sta.mqttPublicUrl }
          : broker ? { port: config.embeddedMqttPort } : { url: withoutCredentials(mqttUrl) },
      },
      auth: config.auth,
    });
    // The stand-in leaves the port to the API (on the port it had, should HTTP_PORT be 0).
    await starting?.close();
    await app.listen({ host: config.httpHost, port: starting?.port ?? config.httpPort });
    cleanups.push(() => app.close());
    const address = app.server.address();
    const port = typeof address === 'object' && address ? address.port : config.httpPort;
    const httpUrl = `http://${config.httpHost.includes(':') ? `[${config.httpHost}]` : config.httpHost}:${port}`;
    sta = await startStaMqtt({ config, pool: db.pool, log, timescale: db.timescale, broker, mqttUrl, baseUrl: config.api.publicUrl ?? httpUrl });
    cleanups.push(() => sta!.stop());
    log.info({ http: httpUrl, mqtt: redactUrl(mqttUrl), timescale: db.timescale }, 'stadtfunk is up');

    let stopping: Promise<void> | null = null;
    return {
      app,
      pool: db.pool,
      httpUrl,
      mqttUrl,
      databaseUrl: db.url,
      timescale: db.timescale,
      ingest,
      devices,
      liveBus,
      stop: () => (stopping ??= undo()),
    };
  } catch (error) {
    await undo();
    throw error;
  }
}
