/**
 * ChirpStack v4 application integration events in JSON (protojson of
 * `integration.UplinkEvent`, `StatusEvent`, `LogEvent`). ChirpStack omits fields
 * with default values (fCnt 0, fPort 0, empty data, confirmed false, rssi 0…), so
 * every such field defaults here. Field names: ChirpStack api/proto/integration/integration.proto.
 */
import { Type, type Static } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import { IngestError, DeadLetterReason } from '../errors.js';
import { parseRfc3339 } from '../time.js';
import type { Reception, RadioMeta, Uplink } from '../types.js';

const DeviceInfo = Type.Object({ devEui: Type.String({ pattern: '^[0-9a-fA-F]{16}$' }) });
const RxInfo = Type.Object({
  gatewayId: Type.Optional(Type.String()),
  rssi: Type.Optional(Type.Number()),
  snr: Type.Optional(Type.Number()),
  gwTime: Type.Optional(Type.String()),
  nsTime: Type.Optional(Type.String()),
});
const TxInfo = Type.Object({
  frequency: Type.Optional(Type.Union([Type.Number(), Type.String({ pattern: '^\\d+$' })])),
  modulation: Type.Optional(
    Type.Object({
      lora: Type.Optional(
        Type.Object({
          bandwidth: Type.Optional(Type.Number()),
          spreadingFactor: Type.Optional(Type.Number()),
        }),
      ),
    }),
  ),
});
const UplinkEvent = Type.Object({
  // The uplink identity (a UUID from ChirpStack): printable ASCII, so it is the same key wherever it is stored.
  deduplicationId: Type.String({ minLength: 1, maxLength: 100, pattern: '^[\\x20-\\x7e]+$' }),
  time: Type.Optional(Type.String({ maxLength: 64 })),
  deviceInfo: DeviceInfo,
  fCnt: Type.Optional(Type.Integer({ minimum: 0, maximum: 0xffffffff })),
  fPort: Type.Optional(Type.Integer({ minimum: 0, maximum: 255 })),
  confirmed: Type.Optional(Type.Boolean()),
  dr: Type.Optional(Type.Integer()),
  data: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9+/]*={0,2}$' })),
  rxInfo: Type.Optional(Type.Array(RxInfo)),
  txInfo: Type.Optional(TxInfo),
});
export type ChirpstackUplinkEventJson = Static<typeof UplinkEvent>;
const StatusEvent = Type.Object({
  deduplicationId: Type.Optional(Type.String()),
  time: Type.Optional(Type.String()),
  deviceInfo: DeviceInfo,
  margin: Type.Optional(Type.Integer()),
  externalPowerSource: Type.Optional(Type.Boolean()),
  batteryLevelUnavailable: Type.Optional(Type.Boolean()),
  batteryLevel: Type.Optional(Type.Number()),
});
const LogEvent = Type.Object({
  time: Type.Optional(Type.String()),
  deviceInfo: Type.Optional(DeviceInfo),
  level: Type.Optional(Type.String()),
  code: Type.Optional(Type.String()),
  description: Type.Optional(Type.String()),
});

const checkUplink = TypeCompiler.Compile(UplinkEvent);
const checkStatus = TypeCompiler.Compile(StatusEvent);
const checkLog = TypeCompiler.Compile(LogEvent);

export function parseJson(payload: Buffer): unknown {
  try {
    return JSON.parse(payload.toString('utf8'));
  } catch (error) {
    throw new IngestError(DeadLetterReason.invalidJson, `not valid JSON: ${(error as Error).message}`, { cause: error });
  }
}

/** First schema violation as `path: message`, for dead-letter details. */
function firstError(check: { Errors(value: unknown): Iterable<{ path: string; message: string }> }, value: unknown): string {
  for (const e of check.Errors(value)) return `${e.path || '/'}: ${e.message}`;
  return 'invalid';
}

/** Marks the reception with the best signal: highest SNR, then highest RSSI. */
export function markBest(receptions: Omit<Reception, 'best'>[]): Reception[] {
  let best = -1;
  receptions.forEach((r, i) => {
    const b = receptions[best];
    if (best < 0 || !b || (r.snrDb ?? -Infinity) > (b.snrDb ?? -Infinity) ||
        ((r.snrDb ?? -Infinity) === (b.snrDb ?? -Infinity) && (r.rssiDbm ?? -Infinity) > (b.rssiDbm ?? -Infinity))) best = i;
  });
  return receptions.map((r, i) => ({ ...r, best: i === best }));
}

/**
 * A message's time field, `fallback` when it is absent. Only RFC 3339 with an offset is a
 * time (ingest/time.ts); anything else is an invalid message naming the field.
 */
export function parseTime(value: string | undefined, fallback: Date, field: string, devEui?: string): Date {
  return parseOptionalTime(value, field, devEui) ?? fallback;
}

/**
 * An optional time field, null when absent. A reception time that is present but no time
 * makes the message a dead letter as well, rather than null: ChirpStack and The Things
 * Stack never write one, so it is a broken or forged producer, and the uplink kept with
 * its time quietly missing would hide that; the dead letter keeps the bytes to replay.
 * The concentrator path (gateway-frame.ts) refuses such a frame the same way.
 */
export function parseOptionalTime(value: string | undefined, field: string, devEui?: string): Date | null {
  if (value === undefined) return null;
  const parsed = parseRfc3339(value);
  if ('time' in parsed) return parsed.time;
  throw new IngestError(DeadLetterReason.invalidMessage, `${field} "${value.slice(0, 64)}" ${parsed.problem}`, devEui ? { devEui } : undefined);
}

export function chirpstackUplinkFromJson(event: ChirpstackUplinkEventJson, topicDevEui: string, now: Date, band: string | null): Uplink {
  const devEui = event.deviceInfo.devEui.toLowerCase();
  if (devEui !== topicDevEui) {
    throw new IngestError(DeadLetterReason.invalidMessage, `deviceInfo.devEui ${devEui} does not match the topic's ${topicDevEui}`, { devEui });
  }
  const lora = event.txInfo?.modulation?.lora;
  const radio: RadioMeta = {
    frequencyHz: event.txInfo?.frequency === undefined ? null : Number(event.txInfo.frequency),
    spreadingFactor: lora?.spreadingFactor ?? null,
    bandwidthHz: lora?.bandwidth ?? null,
    dataRate: event.dr === undefined ? (lora ? `SF${lora.spreadingFactor ?? '?'}BW${(lora.bandwidth ?? 0) / 1000}` : null) : `DR${event.dr}`,
    band,
    receptions: markBest(
      (event.rxInfo ?? []).map((rx, i) => ({
        gatewayId: (rx.gatewayId ?? '').toLowerCase(),
        rssiDbm: rx.rssi ?? 0,
        snrDb: rx.snr ?? 0,
        receivedAt: parseOptionalTime(rx.gwTime, `rxInfo[${i}].gwTime`, devEui) ?? parseOptionalTime(rx.nsTime, `rxInfo[${i}].nsTime`, devEui),
      })),
    ),
  };
  // Without a time the deduplicationId alone is the identity; the writer claims it, so a
  // redelivery (another `now`) is recognised although uplinks are keyed by (id, received_at).
  const uplink: Uplink = {
    id: event.deduplicationId,
    devEui,
    receivedAt: parseTime(event.time, now, 'time', devEui),
    fCnt: event.fCnt ?? 0,
    fPort: event.fPort ?? 0,
    payload: Buffer.from(event.data ?? '', 'base64'),
    source: 'chirpstack',
    radio,
    confirmed: event.confirmed ?? false,
  };
  if (!event.time) uplink.localTime = true;
  return uplink;
}

export function validateUplinkEventJson(value: unknown, devEui: string | null): ChirpstackUplinkEventJson {
  if (!checkUplink.Check(value)) {
    throw new IngestError(DeadLetterReason.invalidMessage, `uplink event ${firstError(checkUplink, value)}`, devEui ? { devEui } : undefined);
  }
  return value;
}

export function validateStatusEventJson(value: unknown): Static<typeof StatusEvent> {
  if (!checkStatus.Check(value)) throw new IngestError(DeadLetterReason.invalidMessage, `status event ${firstError(checkStatus, value)}`);
  return value;
}

export function validateLogEventJson(value: unknown): Static<typeof LogEvent> {
  if (!checkLog.Check(value)) throw new IngestError(DeadLetterReason.invalidMessage, `log event ${firstError(checkLog, value)}`);
  return value;
}
