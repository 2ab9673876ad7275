/** The ingest stage: MQTT in, batches committed, acknowledgements out. */
import type pg from 'pg';
import type { Logger } from 'pino';
import type { Config } from '../config.js';
import { DeviceDirectory } from './device-directory.js';
import { startMqttConsumer, type MqttConsumer } from './mqtt-consumer.js';
import { IngestPipeline, type UplinkDecoder } from './pipeline.js';
import { chirpstackSource } from './sources/chirpstack.js';
import type { SourceAdapter } from './sources/types.js';
import { ttsSource } from './sources/tts.js';
import { concentratorSource } from './sources/concentrator.js';
import { RawFrameResolver } from './raw-frames.js';
import { DownlinkMaintenance } from './downlink-maintenance.js';
import { GatewayRoutes } from './gateway-routes.js';
import { DownlinkPublisher } from './outgoing-downlinks.js';
import { OpsHistory } from './ops-history.js';
import * as metrics from './metrics.js';
import type { WriteBatch, WriteResult } from '../storage/index.js';

export type { Uplink, Reception, RadioMeta, UplinkSource } from './types.js';
export { DeviceDirectory } from './device-directory.js';
export { startEmbeddedBroker, type EmbeddedBroker } from './embedded-broker.js';
export { compileTopicFilter } from './topic-filter.js';
export { probeBroker, type BrokerProbeOptions } from './broker-probe.js';

export interface IngestOptions {
  config: Readonly<Config>;
  mqttUrl: string;
  pool: pg.Pool;
  log: Logger;
  decoder: UplinkDecoder;
  devices: DeviceDirectory;
  onCommitted?: (batch: WriteBatch, result: WriteResult) => void;
}

export interface Ingest {
  /** Topic filters subscribed (without the shared-subscription prefix). */
  filters: string[];
  connected(): boolean;
  inFlight(): number;
  /** Writes the ops history counted so far now instead of at the next minute (tests, shutdown). */
  flushHistory(): Promise<void>;
  /** Stop taking messages, write what was taken (waiting at most timeoutMs, default 7 s), acknowledge it, disconnect. */
  stop(timeoutMs?: number): Promise<void>;
}

export function sourcesFromConfig(config: Readonly<Config>): SourceAdapter[] {
  const sources: SourceAdapter[] = [];
  if (config.ingest.chirpstackPrefix) {
    sources.push(chirpstackSource({ prefix: config.ingest.chirpstackPrefix, encoding: config.ingest.chirpstackEncoding }));
  }
  if (config.ingest.ttsPrefix) sources.push(ttsSource({ prefix: config.ingest.ttsPrefix }));
  for (const prefix of config.ingest.concentratorPrefixes) {
    sources.push(concentratorSource({ prefix, band: config.ingest.concentratorBands[prefix] ?? prefix.toUpperCase() }));
  }
  return sources;
}

export async function startIngest(options: IngestOptions): Promise<Ingest> {
  const { config, log } = options;
  // Downlinks leave through a client of their own (outgoing-downlinks.ts).
  const publisher = new DownlinkPublisher({
    url: options.mqttUrl, clientId: `${config.mqtt.clientId}-down`, protocolVersion: config.mqtt.protocolVersion,
    username: config.mqtt.username, password: config.mqtt.password, log: log.child({ stage: 'ingest', part: 'downlinks' }),
  });
  const maintenance = new DownlinkMaintenance({
    pool: options.pool, publisher, log: log.child({ stage: 'ingest', part: 'downlinks' }),
    ackTimeoutMs: config.lorawan.downlinkAckTimeoutMs, maxAttempts: config.lorawan.downlinkMaxAttempts,
  });
  const gateways = new GatewayRoutes();
  const history = new OpsHistory({ pool: options.pool, log: log.child({ stage: 'ingest', part: 'ops-history' }) });
  history.start();
  const pipeline = new IngestPipeline({
    history,
    pool: options.pool,
    log: log.child({ stage: 'ingest' }),
    sources: sourcesFromConfig(config),
    devices: options.devices,
    decoder: options.decoder,
    batchMaxSize: config.ingest.batchMaxSize,
    batchMaxAgeMs: config.ingest.batchMaxAgeMs,
    maxPayloadBytes: config.ingest.maxPayloadBytes,
    ...(options.onCommitted ? { onCommitted: options.onCommitted } : {}),
    onRoom: () => consumer?.resume(),
    ...(config.masterKey && config.ingest.concentratorPrefixes.length > 0
      ? {
          rawFrames: {
            resolver: new RawFrameResolver(options.pool, config.masterKey, { lorawan: config.lorawan, gateways }),
            dedupWindowMs: config.ingest.dedupWindowMs,
            joinDedupWindowMs: config.lorawan.joinDedupWindowMs,
            gateways,
          },
        }
      : {}),
    downlinks: publisher,
    downlinkMaxAttempts: config.lorawan.downlinkMaxAttempts,
  });
  maintenance.start();
  const filters = pipeline.filters();
  const group = config.mqtt.sharedGroup;
  let consumer: MqttConsumer | null = null;
  let accepting = true;
  const stopDownlinks = async (): Promise<void> => {
    await maintenance.stop();
    await publisher.close();
  };
  consumer = await startMqttConsumer({
    url: options.mqttUrl,
    clientId: config.mqtt.clientId,
    topics: group ? filters.map((f) => `$share/${group}/${f}`) : filters,
    protocolVersion: config.mqtt.protocolVersion,
    username: config.mqtt.username,
    password: config.mqtt.password,
    maxInFlight: config.ingest.maxInFlight,
    maxInFlightBytes: config.ingest.maxInFlightBytes,
    maxPayloadBytes: config.ingest.maxPayloadBytes,
    maxPacketBytes: config.ingest.maxPacketBytes,
    log: log.child({ stage: 'ingest', part: 'mqtt' }),
    held: () => pipeline.busy(),
    onMessage: (message) => {
      // After stop() began, messages are left unacknowledged: the broker keeps them for the session.
      if (!accepting) return;
      pipeline.accept(message);
    },
  }).catch(async (error: unknown) => {
    await stopDownlinks();
    throw error;
  });
  const inFlight = consumer.inFlight;
  const uncount = metrics.countInFlight(inFlight);
  return {
    filters,
    connected: () => consumer?.connected() ?? false,
    inFlight: () => consumer?.inFlight() ?? 0,
    flushHistory: () => history.flush(),
    async stop(timeoutMs = 7_000) {
      accepting = false;
      // With the database down the flush would retry forever: give up after timeoutMs and
      // leave those messages unacknowledged; the broker delivers them again next time.
      let timer: NodeJS.Timeout | undefined;
      const gaveUp = await Promise.race([
        pipeline.flush().then(() => false),
        new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(true), timeoutMs))),
      ]);
      clearTimeout(timer);
      if (gaveUp) log.warn('shutdown: pending batch not committed in time; it stays unacknowledged and will be redelivered');
      pipeline.stop();
      await history.stop();
      await consumer?.close();
      uncount();
      await stopDownlinks();
    },
  };
}
