/** Per-file isolation on the shared test services: an own database, own topics, own client ids. */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import pino from 'pino';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, inject } from 'vitest';
import { loadConfig, type Config } from '../config.js';
import { createPool, migrate, upsertDevice, upsertDeviceModel } from '../storage/index.js';
import type { GatewayDownlink } from '../ingest/lorawan/index.js';

export const testLog = pino({ level: process.env.TEST_LOG_LEVEL ?? 'error' });

/** The master key integration tests run the raw-frame layer with (a test value, never a real one). */
export const TEST_MASTER_KEY = Buffer.from('7e57'.repeat(16), 'hex');

export function uniqueName(prefix: string): string {
  return `${prefix}${randomBytes(5).toString('hex')}`;
}

export interface TestDatabase {
  url: string;
  pool: pg.Pool;
  timescale: boolean;
  drop(): Promise<void>;
}

/** A fresh database with the schema applied; drop() removes it. */
export async function createTestDatabase(): Promise<TestDatabase> {
  const adminUrl = inject('databaseAdminUrl');
  const name = uniqueName('sf_test_');
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`create database ${name}`);
  await admin.end();
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  const pool = createPool({ url: url.toString(), log: testLog, max: 10 });
  const { timescale } = await migrate(pool);
  return {
    url: url.toString(),
    pool,
    timescale,
    async drop() {
      await pool.end();
      const a = new pg.Client({ connectionString: adminUrl });
      await a.connect();
      await a.query(`drop database if exists ${name} with (force)`);
      await a.end();
    },
  };
}

/** Service configuration for a test: external test services, unique topic prefix and client id, any free HTTP port. */
export function testConfig(databaseUrl: string, overrides: Record<string, string> = {}): Readonly<Config> {
  const id = uniqueName('t');
  return loadConfig({
    DATABASE_URL: databaseUrl,
    MQTT_URL: inject('mqttUrl'),
    MQTT_PROTOCOL_VERSION: String(inject('mqttProtocolVersion')),
    MQTT_CLIENT_ID: `stadtfunk-${id}`,
    HTTP_PORT: '0',
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'error',
    INGEST_CHIRPSTACK_PREFIX: `${id}/application`,
    INGEST_TTS_PREFIX: `${id}/v3`,
    INGEST_CONCENTRATOR_PREFIXES: `${id}/eu868`,
    INGEST_BATCH_MAX_AGE_MS: '20',
    MASTER_KEY: TEST_MASTER_KEY.toString('hex'),
    ...overrides,
  });
}

export async function connectPublisher(url = inject('mqttUrl')): Promise<MqttClient> {
  return mqtt.connectAsync(url, { clientId: uniqueName('pub-'), protocolVersion: inject('mqttProtocolVersion'), reconnectPeriod: 0 });
}

/** Waits until `probe` returns a value other than undefined, checking after each interval. */
export async function eventually<T>(probe: () => Promise<T | undefined>, { timeoutMs = 15_000, intervalMs = 50 } = {}): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`, { cause: lastError });
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

export interface RunningTestService {
  db: TestDatabase;
  config: Readonly<Config>;
  service: import('../service.js').Service;
  publisher: MqttClient;
}

/**
 * Registers beforeAll/afterAll for a describe block: a fresh database (prepared by
 * `prepare`), the service on it with the test configuration plus `overrides`, and a
 * publisher on the test broker. The returned object is filled in before the tests run.
 */
export function useTestService(overrides: Record<string, string> = {}, prepare: (db: TestDatabase) => Promise<void> = async () => undefined): RunningTestService {
  const running = {} as RunningTestService;
  beforeAll(async () => {
    running.db = await createTestDatabase();
    await prepare(running.db);
    running.config = testConfig(running.db.url, overrides);
    const { startService } = await import('../service.js');
    running.service = await startService(running.config, testLog);
    running.publisher = await connectPublisher();
  });
  afterAll(async () => {
    await running.publisher?.endAsync();
    await running.service?.stop();
    await running.db?.drop();
  });
  return running;
}

export interface ConcentratorHarnessOptions {
  devEui: string;
  devAddr: string;
  /** The ABP session's keys (16 bytes each), stored sealed with TEST_MASTER_KEY. */
  nwkSKey: Buffer;
  appSKey: Buffer;
  /** The concentrator the device is heard by; its command/down topic is subscribed. */
  gatewayId: string;
  /** Service settings beside the concentrator prefix and its EU868 band. */
  overrides?: Record<string, string>;
}

export interface ConcentratorHarness {
  db: TestDatabase;
  service: import('../service.js').Service;
  /** `{unique}/eu868`: the concentrator topic prefix of this file. */
  prefix: string;
  /** Publishes as the concentrator (uplinks, event/ack). */
  publisher: MqttClient;
  /** Subscribed to the gateway's command/down as its bridge would be. */
  gateway: MqttClient;
  /** Every gw.DownlinkFrame the gateway got, in order; the tests take them out. */
  downlinks: GatewayDownlink[];
  stop(): Promise<void>;
}

/**
 * The concentrator path end to end for one ABP device (downlink tests): a fresh database
 * with the device registered, the service serving a concentrator prefix of its own in
 * EU868, a publisher for the concentrator's events and a gateway client that collects the
 * downlinks it is sent.
 */
export async function startConcentratorHarness(options: ConcentratorHarnessOptions): Promise<ConcentratorHarness> {
  const { startService } = await import('../service.js');
  const { createKeyVault, decodeGatewayDownlink, keyAad } = await import('../ingest/lorawan/index.js');
  const db = await createTestDatabase();
  const prefix = `${uniqueName('t')}/eu868`;
  const vault = createKeyVault(TEST_MASTER_KEY);
  await upsertDeviceModel(db.pool, { id: 'lpp', name: 'LPP', decoderKind: 'builtin', builtinName: 'cayenne-lpp' });
  await upsertDevice(db.pool, {
    devEui: options.devEui, modelId: 'lpp', devAddr: options.devAddr,
    nwkSKeySealed: vault.sealKey(options.nwkSKey, keyAad(options.devEui, 'nwkSKey')), appSKeySealed: vault.sealKey(options.appSKey, keyAad(options.devEui, 'appSKey')),
  });
  const service = await startService(testConfig(db.url, { INGEST_CONCENTRATOR_PREFIXES: prefix, INGEST_CONCENTRATOR_BANDS: `${prefix}=EU868`, ...options.overrides }), testLog);
  const downlinks: GatewayDownlink[] = [];
  const gateway = await mqtt.connectAsync(inject('mqttUrl'), { clientId: uniqueName('gw-'), protocolVersion: inject('mqttProtocolVersion') });
  gateway.on('message', (_topic, payload) => downlinks.push(decodeGatewayDownlink(payload)));
  await gateway.subscribeAsync(`${prefix}/gateway/${options.gatewayId}/command/down`, { qos: 1 });
  const publisher = await connectPublisher();
  return {
    db, service, prefix, publisher, gateway, downlinks,
    async stop() {
      await gateway.endAsync();
      await publisher.endAsync();
      await service.stop();
      await db.drop();
    },
  };
}
