/**
 * Publishes what ingest decided to send, after the transaction that decided it committed:
 * join-accepts and data downlinks to concentrators (`{prefix}/gateway/{id}/command/down`),
 * and application downlinks to ChirpStack or The Things Stack (their downlink topics).
 *
 * Design note. A downlink is published only once its record (and the counter, session or
 * queue state it moves) is committed, so a crash can lose a publication but never send a
 * frame the database does not know: the record then gets no event/ack and is marked lost
 * (NO_ACK) after LORAWAN_DOWNLINK_ACK_TIMEOUT_MS, and an application downlink it carried
 * goes back to the queue. The publisher is its own MQTT client (clean session, QoS 1):
 * the ingest consumer's session holds back PUBACKs until commit and should not carry
 * time-critical traffic behind them. A downlink is useless after its receive window, so
 * nothing is retried here; the gateway bridge says TOO_LATE for one that came late.
 */
import mqtt, { type MqttClient } from 'mqtt';
import type { Logger } from 'pino';
import type { PlannedDownlink } from '../storage/index.js';
import type { DownlinkTxItem } from './lorawan/class-a-windows.js';
import { encodeGatewayDownlink, gatewayDownlinkTopic, type BridgeEncoding } from './lorawan/gateway-downlink.js';
import * as metrics from './downlink-metrics.js';

/** A concentrator downlink waiting for its id (given by the transaction that records it). */
export interface OutgoingDownlink {
  prefix: string;
  encoding: BridgeEncoding;
  gatewayId: string;
  context: Buffer;
  items: { phyPayload: Buffer; tx: DownlinkTxItem }[];
  /** When the first copy of the uplink (or join-request) reached ingest. */
  firstSeenAt: Date;
  /** When that uplink's dedup window closed (null: not measured). */
  windowClosedAt?: number | null;
}

/**
 * Messages of planned downlinks, kept beside the batch that plans them: the batch may be
 * written more than once (a retry) with the same planned objects.
 */
export const outgoingOf = new WeakMap<PlannedDownlink, OutgoingDownlink>();

export interface DownlinkPublisherOptions {
  url: string;
  clientId: string;
  protocolVersion: 4 | 5;
  username?: string | null;
  password?: string | null;
  log: Logger;
}

/** Connection failures are logged as a warning once they last this long. */
const OUTAGE_WARNING_AFTER_MS = 5_000;

export class DownlinkPublisher {
  private readonly client: MqttClient;

  constructor(private readonly options: DownlinkPublisherOptions) {
    this.client = mqtt.connect(options.url, {
      clientId: options.clientId,
      clean: true,
      protocolVersion: options.protocolVersion,
      reconnectPeriod: 1000,
      // The embedded broker refuses every client but ingest's until ingest has subscribed
      // ("server unavailable"); mqtt.js would give up after such a CONNACK without this.
      reconnectOnConnackError: true,
      connectTimeout: 10_000,
      ...(options.username ? { username: options.username } : {}),
      ...(options.password ? { password: options.password } : {}),
    });
    // Connection trouble is logged by reason only (the error object can hold the options), once per outage,
    // and only once it lasts: the embedded broker refuses clients until ingest has subscribed, so the
    // first attempts at start-up fail as a matter of course.
    let failingSince: number | null = null;
    let warned = false;
    this.client.on('connect', () => {
      failingSince = null;
      warned = false;
    });
    this.client.on('error', (error) => {
      failingSince ??= Date.now();
      if (warned || Date.now() - failingSince < OUTAGE_WARNING_AFTER_MS) {
        options.log.debug({ reason: error.message }, 'downlink publisher: broker connection failed; retrying');
        return;
      }
      warned = true;
      options.log.warn({ reason: error.message }, 'downlink publisher: broker connection failed; retrying every second');
    });
  }

  connected(): boolean {
    return this.client.connected;
  }

  /** Publishes the recorded downlinks of a committed batch. */
  publishRecorded(recorded: readonly { planned: PlannedDownlink; id: number }[]): void {
    for (const { planned, id } of recorded) {
      const message = outgoingOf.get(planned);
      if (!message) continue;
      const payload = encodeGatewayDownlink({ downlinkId: id, gatewayId: message.gatewayId, context: message.context, items: message.items }, message.encoding);
      this.client.publish(gatewayDownlinkTopic(message.prefix, message.gatewayId), payload, { qos: 1 }, (error) => {
        if (error) this.options.log.warn({ reason: error.message, downlinkId: id, devEui: planned.record.devEui }, 'downlink not published; it will count as lost');
      });
      metrics.downlinksPublished.inc({ kind: planned.record.kind });
      if (message.windowClosedAt != null) metrics.downlinkSchedule.observe((performance.now() - message.windowClosedAt) / 1000);
    }
  }

  /** Publishes one message to a network server's downlink topic; resolves when the broker took it. */
  publishRaw(topic: string, payload: Buffer): Promise<void> {
    return new Promise((resolve, reject) => this.client.publish(topic, payload, { qos: 1 }, (error) => (error ? reject(error) : resolve())));
  }

  async close(): Promise<void> {
    await this.client.endAsync();
  }
}
