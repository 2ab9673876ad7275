/**
 * Source adapter for The Things Stack v3 MQTT integration:
 * `{prefix}/{applicationId}[@{tenantId}]/devices/{deviceId}/up` (the `@tenant` part is
 * absent on open-source installs). Field names from The Things Stack's
 * ApplicationUp / ApplicationUplink messages as its MQTT server marshals them (snake_case);
 * `settings.frequency` arrives as a string there (uint64 in protojson).
 *
 * Event types: `up` becomes an Uplink, `down/{sent|ack|nack|failed}` settle our downlinks;
 * `join`, `down/queued`, `down/invalidated` and our own `down/push`/`down/replace` (the
 * filter sees them too) carry nothing to store and are ignored (The Things Stack's
 * pkg/applicationserver/io/pubsub/topics layout). Any other type is a dead letter
 * `unknown_event`. `location/solved` and `service/data` have one level more than the
 * filters take and never arrive.
 *
 * Identity: The Things Stack has no deduplication id in the message, but the message is
 * the same bytes on every redelivery, so `tts:{devEui}:{f_cnt}:{uplink received_at}` is
 * stable for one uplink and different for a counter reset (new received_at). A message
 * without received_at gets `tts:{devEui}:{f_cnt}:h{hash}`, the hash over its port, payload
 * and correlation ids (which name this one uplink in The Things Stack), and this
 * service's clock as its time; the writer claims that identity so a redelivery, which
 * would bring another clock time, is not stored again.
 */
import { createHash } from 'node:crypto';
import { Type, type Static } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import { DeadLetterReason, IngestError } from '../errors.js';
import type { Reception } from '../types.js';
import { markBest, parseJson, parseOptionalTime, parseTime } from './chirpstack-json.js';
import { ttsDownlinkReport, ttsDownlinkTopic } from './network-server-downlinks.js';
import type { SourceAdapter, SourceResult } from './types.js';

const RxMetadata = Type.Object({
  gateway_ids: Type.Optional(Type.Object({ gateway_id: Type.Optional(Type.String()), eui: Type.Optional(Type.String()) })),
  rssi: Type.Optional(Type.Number()),
  channel_rssi: Type.Optional(Type.Number()),
  snr: Type.Optional(Type.Number()),
  time: Type.Optional(Type.String()),
  received_at: Type.Optional(Type.String()),
});
const UplinkMessage = Type.Object({
  f_port: Type.Optional(Type.Integer({ minimum: 0, maximum: 255 })),
  f_cnt: Type.Optional(Type.Integer({ minimum: 0, maximum: 0xffffffff })),
  frm_payload: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9+/]*={0,2}$' })),
  confirmed: Type.Optional(Type.Boolean()),
  rx_metadata: Type.Optional(Type.Array(RxMetadata)),
  settings: Type.Optional(
    Type.Object({
      frequency: Type.Optional(Type.Union([Type.String({ pattern: '^\\d+$' }), Type.Integer()])),
      data_rate: Type.Optional(
        Type.Object({ lora: Type.Optional(Type.Object({ bandwidth: Type.Optional(Type.Integer()), spreading_factor: Type.Optional(Type.Integer()) })) }),
      ),
    }),
  ),
  received_at: Type.Optional(Type.String({ maxLength: 64 })),
});
const TtsUp = Type.Object({
  end_device_ids: Type.Object({
    device_id: Type.String(),
    dev_eui: Type.String({ pattern: '^[0-9a-fA-F]{16}$' }),
  }),
  correlation_ids: Type.Optional(Type.Array(Type.String())),
  received_at: Type.Optional(Type.String({ maxLength: 64 })),
  uplink_message: UplinkMessage,
});
type TtsUp = Static<typeof TtsUp>;
const checkUp = TypeCompiler.Compile(TtsUp);

/** Event types that carry nothing to store: under `…/devices/{device}/` and under `…/down/`. */
const IGNORED_EVENTS = new Set(['join']);
const IGNORED_DOWN_EVENTS = new Set(['push', 'replace', 'queued', 'invalidated']);
const REPORTED_DOWN_EVENTS = new Set(['sent', 'ack', 'nack', 'failed']);

export interface TtsOptions {
  prefix: string;
  band?: string | null;
  now?: () => Date;
}

export function ttsSource(options: TtsOptions): SourceAdapter {
  const depth = options.prefix.split('/').length;
  const now = options.now ?? (() => new Date());
  return {
    name: 'tts',
    filters: [`${options.prefix}/+/devices/+/+`, `${options.prefix}/+/devices/+/down/+`],
    parse(topic, payload): SourceResult {
      const levels = topic.split('/');
      if (levels.length === depth + 5 && levels[depth + 1] === 'devices' && levels[depth + 3] === 'down') {
        // Reports about downlinks we pushed; those about other downlinks are not ours.
        const event = levels[depth + 4]!;
        if (IGNORED_DOWN_EVENTS.has(event)) return { kind: 'ignored' };
        if (!REPORTED_DOWN_EVENTS.has(event)) {
          throw new IngestError(DeadLetterReason.unknownEvent, `event type "down/${event.slice(0, 64)}" is no The Things Stack event`);
        }
        let report;
        try {
          report = ttsDownlinkReport(event, payload);
        } catch (error) {
          throw new IngestError(DeadLetterReason.invalidJson, `down/${levels[depth + 4]} event: ${(error as Error).message}`);
        }
        return report ? { kind: 'downlink_report', report } : { kind: 'ignored' };
      }
      if (levels.length !== depth + 4 || levels[depth + 1] !== 'devices' || !levels[depth] || !levels[depth + 2]) {
        throw new IngestError(DeadLetterReason.unexpectedTopic, `topic does not look like ${options.prefix}/{application}[@{tenant}]/devices/{device}/{event}`);
      }
      const event = levels[depth + 3]!;
      if (IGNORED_EVENTS.has(event)) return { kind: 'ignored' };
      if (event !== 'up') throw new IngestError(DeadLetterReason.unknownEvent, `event type "${event.slice(0, 64)}" is no The Things Stack event`);
      const value = parseJson(payload);
      if (!checkUp.Check(value)) {
        const first = [...checkUp.Errors(value)][0];
        throw new IngestError(DeadLetterReason.invalidMessage, `uplink message ${first ? `${first.path}: ${first.message}` : 'invalid'}`);
      }
      const uplink = toUplink(value, levels[depth + 2]!, now(), options.band ?? null);
      return { kind: 'uplink', uplink, route: { devEui: uplink.devEui, route: 'tts', topic: ttsDownlinkTopic(options.prefix, levels[depth]!, levels[depth + 2]!) } };
    },
  };
}

function toUplink(up: TtsUp, topicDeviceId: string, now: Date, band: string | null) {
  const devEui = up.end_device_ids.dev_eui.toLowerCase();
  if (up.end_device_ids.device_id !== topicDeviceId) {
    throw new IngestError(DeadLetterReason.invalidMessage, `end_device_ids.device_id ${up.end_device_ids.device_id} does not match the topic's ${topicDeviceId}`, { devEui });
  }
  const m = up.uplink_message;
  const sourceTime = m.received_at ?? up.received_at;
  const receivedAt = m.received_at !== undefined ? parseTime(m.received_at, now, 'uplink_message.received_at', devEui) : parseTime(up.received_at, now, 'received_at', devEui);
  const lora = m.settings?.data_rate?.lora;
  const receptions: Omit<Reception, 'best'>[] = (m.rx_metadata ?? []).map((rx, i) => ({
    gatewayId: rx.gateway_ids?.eui?.toLowerCase() ?? rx.gateway_ids?.gateway_id ?? '',
    rssiDbm: rx.rssi ?? rx.channel_rssi ?? null,
    snrDb: rx.snr ?? null,
    receivedAt: parseOptionalTime(rx.time, `uplink_message.rx_metadata[${i}].time`, devEui) ?? parseOptionalTime(rx.received_at, `uplink_message.rx_metadata[${i}].received_at`, devEui),
  }));
  const fCnt = m.f_cnt ?? 0;
  return {
    id: `tts:${devEui}:${fCnt}:${sourceTime ? receivedAt.toISOString() : contentHash(up)}`,
    devEui,
    receivedAt,
    ...(sourceTime ? {} : { localTime: true as const }),
    fCnt,
    fPort: m.f_port ?? 0,
    payload: Buffer.from(m.frm_payload ?? '', 'base64'),
    source: 'tts' as const,
    confirmed: m.confirmed ?? false,
    radio: {
      frequencyHz: m.settings?.frequency === undefined ? null : Number(m.settings.frequency),
      spreadingFactor: lora?.spreading_factor ?? null,
      bandwidthHz: lora?.bandwidth ?? null,
      dataRate: lora ? `SF${lora.spreading_factor ?? '?'}BW${(lora.bandwidth ?? 0) / 1000}` : null,
      band,
      receptions: markBest(receptions),
    },
  };
}

/** `h` and 32 hex digits of SHA-256 over what tells one timeless uplink from another. */
function contentHash(up: TtsUp): string {
  const m = up.uplink_message;
  const content = JSON.stringify([m.f_port ?? 0, m.frm_payload ?? '', up.correlation_ids ?? []]);
  return `h${createHash('sha256').update(content).digest('hex').slice(0, 32)}`;
}
