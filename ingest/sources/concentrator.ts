/**
 * Source adapter for concentrators speaking the ChirpStack gateway-bridge format:
 * `{prefix}/gateway/{gatewayId}/event/up` (gw.UplinkFrame), `…/event/stats`
 * (gw.GatewayStats) and `…/event/ack` (gw.DownlinkTxAck, the answer to a downlink),
 * protobuf or JSON (a message starting with `{` is JSON). Frames go on to the LoRaWAN
 * frame layer with the prefix and encoding to answer them in; stats become concentrator
 * health; acks settle the downlinks stadtfunk published. The bridge's other events carry
 * nothing to store and are ignored; any other event type is a dead letter `unknown_event`.
 */
import { decodeGatewayTxAck } from '../lorawan/gateway-downlink.js';
import {
  decodeGatewayStatsJson,
  decodeGatewayStatsProtobuf,
  decodeUplinkFrameJson,
  decodeUplinkFrameProtobuf,
  type GatewayDecodeResult,
} from '../lorawan/index.js';
import { DeadLetterReason, IngestError } from '../errors.js';
import type { SourceAdapter, SourceResult } from './types.js';

/**
 * Gateway events ChirpStack reads but stadtfunk has no use for (chirpstack/src/gateway/backend/mqtt.rs):
 * command results (`exec`), raw packet-forwarder events (`raw`), Gateway Mesh (`mesh`, `mesh-heartbeat`).
 */
const IGNORED_EVENTS = new Set(['exec', 'raw', 'mesh', 'mesh-heartbeat']);

export interface ConcentratorOptions {
  prefix: string;
  /** Band label of this prefix's concentrators, e.g. `450MHz`. */
  band: string | null;
}

function unwrap<T>(result: GatewayDecodeResult<T>): T {
  if (!result.ok) throw new IngestError(result.reason, result.detail);
  return result.value;
}

export function concentratorSource(options: ConcentratorOptions): SourceAdapter {
  const depth = options.prefix.split('/').length;
  return {
    name: 'concentrator',
    filters: [`${options.prefix}/gateway/+/event/+`],
    parse(topic, payload): SourceResult {
      const levels = topic.split('/');
      const gatewayId = levels[depth + 1]?.toLowerCase() ?? '';
      const event = levels[depth + 3];
      if (levels.length !== depth + 4 || levels[depth] !== 'gateway' || levels[depth + 2] !== 'event' || !/^[0-9a-f]{16}$/.test(gatewayId)) {
        throw new IngestError(DeadLetterReason.unexpectedTopic, `topic does not look like ${options.prefix}/gateway/{gatewayId}/event/{up|stats}`);
      }
      const json = payload[0] === 0x7b;
      if (event === 'up') {
        const frame = unwrap(json ? decodeUplinkFrameJson(payload) : decodeUplinkFrameProtobuf(payload));
        if (frame.gatewayId !== gatewayId) {
          throw new IngestError(DeadLetterReason.invalidMessage, `rxInfo.gatewayId ${frame.gatewayId} does not match the topic's ${gatewayId}`);
        }
        return { kind: 'frame', frame, band: options.band, prefix: options.prefix, encoding: json ? 'json' : 'protobuf' };
      }
      if (event === 'stats') {
        const stats = unwrap(json ? decodeGatewayStatsJson(payload) : decodeGatewayStatsProtobuf(payload));
        if (stats.gatewayId !== gatewayId) {
          throw new IngestError(DeadLetterReason.invalidMessage, `gatewayId ${stats.gatewayId} does not match the topic's ${gatewayId}`);
        }
        return { kind: 'concentrator_stats', stats, band: options.band };
      }
      if (event === 'ack') {
        const ack = unwrap(decodeGatewayTxAck(payload, json));
        if (ack.gatewayId !== gatewayId) {
          throw new IngestError(DeadLetterReason.invalidMessage, `gatewayId ${ack.gatewayId} does not match the topic's ${gatewayId}`);
        }
        return { kind: 'tx_ack', ack };
      }
      if (IGNORED_EVENTS.has(event!)) return { kind: 'ignored' };
      throw new IngestError(DeadLetterReason.unknownEvent, `event type "${event!.slice(0, 64)}" is no gateway bridge event`);
    },
  };
}
