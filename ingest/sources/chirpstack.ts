/**
 * Source adapter for the ChirpStack v4 MQTT application integration:
 * `{prefix}/{applicationId}/device/{devEui}/event/{up|status|log|…}`.
 * Uplinks become Uplinks, status events device health, log events about codec or
 * MIC errors dead letters, txack/ack events settle our downlinks. The other event types
 * ChirpStack publishes carry nothing stadtfunk stores and are ignored; any other type
 * is a dead letter `unknown_event`.
 */
import type { ChirpstackEncoding } from '../../config.js';
import { DeadLetterReason, IngestError } from '../errors.js';
import {
  chirpstackUplinkFromJson,
  parseJson,
  parseTime,
  validateLogEventJson,
  validateStatusEventJson,
  validateUplinkEventJson,
} from './chirpstack-json.js';
import { decodeChirpstackProtobuf } from './chirpstack-protobuf.js';
import { chirpstackDownlinkReport, chirpstackDownlinkTopic } from './network-server-downlinks.js';
import type { SourceAdapter, SourceResult } from './types.js';

/**
 * ChirpStack's integration events that carry nothing to store (chirpstack/src/integration/mqtt.rs,
 * integration.proto): JoinEvent (the session is the network server's), LocationEvent,
 * IntegrationEvent (from other integrations).
 */
const IGNORED_EVENTS = new Set(['join', 'location', 'integration']);

/** ChirpStack log codes that mean the message never became an uplink event (integration.proto LogCode). */
const DEAD_LETTER_LOG_CODES = new Set(['UPLINK_CODEC', 'UPLINK_MIC', 'UPLINK_F_CNT_RESET', 'UPLINK_F_CNT_RETRANSMISSION', 'F_CNT_DOWN', 'UPLINK_FCNT_RETRANSMISSION']);

export interface ChirpstackOptions {
  prefix: string;
  encoding: ChirpstackEncoding;
  /** Band label for radio metadata, e.g. `EU868`. */
  band?: string | null;
  now?: () => Date;
}

export function chirpstackSource(options: ChirpstackOptions): SourceAdapter {
  const depth = options.prefix.split('/').length;
  const now = options.now ?? (() => new Date());
  const decodeProtobuf = decodeChirpstackProtobuf(DEAD_LETTER_LOG_CODES, options.band ?? null);

  function parseEvent(event: string, payload: Buffer, devEui: string): SourceResult {
    // A message that starts with `{` is JSON whatever the configured encoding; otherwise the configured encoding decides.
    if (payload[0] !== 0x7b && options.encoding === 'protobuf') return decodeProtobuf(event, payload, devEui, now());
    const value = parseJson(payload);
    switch (event) {
      case 'up':
        return { kind: 'uplink', uplink: chirpstackUplinkFromJson(validateUplinkEventJson(value, devEui), devEui, now(), options.band ?? null) };
      case 'status': {
        const status = validateStatusEventJson(value);
        const external = status.externalPowerSource ?? false;
        const unknown = status.batteryLevelUnavailable ?? false;
        return {
          kind: 'health',
          health: {
            devEui,
            time: parseTime(status.time, now(), 'time', devEui),
            batteryLevelPercent: external || unknown ? null : (status.batteryLevel ?? 0),
            externalPower: external,
            marginDb: status.margin ?? 0,
          },
        };
      }
      default: {
        const log = validateLogEventJson(value);
        const code = log.code ?? 'UNKNOWN';
        if (!DEAD_LETTER_LOG_CODES.has(code)) return { kind: 'ignored' };
        return { kind: 'dead_letter', reason: `chirpstack_${code.toLowerCase()}`, detail: log.description ?? code, devEui };
      }
    }
  }

  return {
    name: 'chirpstack',
    filters: [`${options.prefix}/+/device/+/event/+`],
    parse(topic, payload): SourceResult {
      const levels = topic.split('/');
      const devEui = levels[depth + 2]?.toLowerCase() ?? '';
      const event = levels[depth + 4] ?? '';
      if (levels.length !== depth + 5 || levels[depth + 1] !== 'device' || levels[depth + 3] !== 'event' || !/^[0-9a-f]{16}$/.test(devEui)) {
        throw new IngestError(DeadLetterReason.unexpectedTopic, `topic does not look like ${options.prefix}/{applicationId}/device/{devEui}/event/{type}`);
      }
      if (event === 'txack' || event === 'ack') {
        // Reports about downlinks we handed to ChirpStack; those about other queue items are not ours.
        let report;
        try {
          report = chirpstackDownlinkReport(event, payload);
        } catch (error) {
          throw new IngestError(payload[0] === 0x7b ? DeadLetterReason.invalidJson : DeadLetterReason.invalidProtobuf, `${event} event: ${(error as Error).message}`, { devEui });
        }
        return report ? { kind: 'downlink_report', report } : { kind: 'ignored' };
      }
      if (IGNORED_EVENTS.has(event)) return { kind: 'ignored' };
      if (event !== 'up' && event !== 'status' && event !== 'log') {
        throw new IngestError(DeadLetterReason.unknownEvent, `event type "${event.slice(0, 64)}" is no ChirpStack integration event`, { devEui });
      }
      const result = parseEvent(event, payload, devEui);
      // Downlinks for this device go back through the same application.
      if (result.kind === 'uplink') result.route = { devEui, route: 'chirpstack', topic: chirpstackDownlinkTopic(options.prefix, levels[depth]!, devEui) };
      return result;
    },
  };
}
