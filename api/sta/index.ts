/** SensorThings API: the HTTP routes (registered by app.ts) and the MQTT side the service starts. */
import type pg from 'pg';
import type { Logger } from 'pino';
import { attributionLine, LICENCE } from '../../city-profile.js';
import type { Config } from '../../config.js';
import type { EmbeddedBroker } from '../../ingest/index.js';
import type { WriteBatch, WriteResult } from '../../storage/index.js';
import { StaMqttPublisher } from './mqtt-publisher.js';
import { EmbeddedTransport, ExternalTransport, NoTransport, type StaTransport } from './mqtt-transport.js';
import { STA_PREFIX } from './routes.js';
import { STA_METRICS } from './vocabulary.js';
import { ZoneSampler } from './zone-sampler.js';

export { staRoutes, STA_PREFIX, type StaOptions } from './routes.js';
export { ZoneSampler, type ZoneSamplerOptions } from './zone-sampler.js';

export interface StaMqtt {
  onCommitted(batch: WriteBatch, result: WriteResult): void;
  stop(): Promise<void>;
}

/**
 * The MQTT side: on the embedded broker, every topic someone subscribes to; on an external
 * one, the kinds STA_MQTT_TOPICS names (nothing with `off`, series are still catalogued).
 * With it the parking zones' sampler (zone-sampler.ts), which publishes what it samples
 * through the same transport.
 */
export async function startStaMqtt(options: {
  config: Readonly<Config>;
  pool: pg.Pool;
  log: Logger;
  timescale: boolean;
  broker: EmbeddedBroker | null;
  mqttUrl: string;
  /** Base of absolute links in messages (PUBLIC_URL, or the HTTP API's own address). */
  baseUrl: string;
}): Promise<StaMqtt> {
  const { config, log } = options;
  let transport: StaTransport;
  if (options.broker) transport = new EmbeddedTransport(options.broker.aedes);
  else if (config.sta.mqttTopics.length === 0) transport = new NoTransport();
  else {
    transport = new ExternalTransport({
      url: options.mqttUrl, clientId: `${config.mqtt.clientId}-sta`, username: config.mqtt.username, password: config.mqtt.password,
      log: log.child({ part: 'sta-mqtt' }), topics: config.sta.mqttTopics,
    });
  }
  const links = { base: `${options.baseUrl}${STA_PREFIX}`, licence: { id: LICENCE.id, name: LICENCE.name, url: LICENCE.url }, attribution: attributionLine(config.city) };
  const publisher = new StaMqttPublisher({ pool: options.pool, log: log.child({ part: 'sta' }), transport, metrics: STA_METRICS, timescale: options.timescale, links });
  await publisher.start();
  const sampler = config.sta.zoneSampleIntervalMs > 0
    ? new ZoneSampler({ pool: options.pool, log: log.child({ part: 'sta-zones' }), intervalMs: config.sta.zoneSampleIntervalMs, staleAfterS: config.api.parkingStaleAfterS, transport, links })
    : null;
  sampler?.start();
  return {
    onCommitted: (batch, result) => publisher.onCommitted(batch, result),
    async stop() {
      // The sampler publishes through the publisher's transport: it stops first.
      await sampler?.stop();
      await publisher.stop();
    },
  };
}
