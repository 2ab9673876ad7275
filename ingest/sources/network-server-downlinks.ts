/**
 * Application downlinks for devices behind a network server, through its MQTT
 * integration, and what it reports back about them.
 *
 * ChirpStack v4 (integration.proto, DownlinkCommand, TxAckEvent, AckEvent):
 *   publish `{prefix}/{applicationId}/device/{devEui}/command/down` with
 *   `{"id": UUID, "devEui", "confirmed", "fPort", "data": base64}`; it reports
 *   `…/event/txack` (a gateway took it: queueItemId) and `…/event/ack` (queueItemId,
 *   acknowledged) for confirmed ones.
 * The Things Stack v3 (MQTT server, ApplicationDownlinks):
 *   publish `{prefix}/{app}[@{tenant}]/devices/{deviceId}/down/push` with
 *   `{"downlinks": [{"f_port", "frm_payload": base64, "confirmed", "priority", "correlation_ids"}]}`;
 *   it reports `…/down/sent`, `…/down/ack`, `…/down/nack`, `…/down/failed` carrying the
 *   downlink (and its correlation_ids) under downlink_sent / downlink_ack / downlink_nack /
 *   downlink_failed.downlink.
 *
 * stadtfunk's queue id travels in the command (as a UUID for ChirpStack, as a correlation
 * id for The Things Stack) and comes back in the reports.
 */
import integrationPb from '@chirpstack/chirpstack-api/integration/integration_pb.js';
import '../protobuf-guard.js';
import type { NetworkServerReport } from '../../storage/index.js';

const UUID_PREFIX = '5f0d0000-0000-4000-8000-';
const CORRELATION_PREFIX = 'stadtfunk:downlink:';

/** A queue id as the UUID ChirpStack wants for a queue item. */
export function queueItemUuid(id: number): string {
  return UUID_PREFIX + id.toString(16).padStart(12, '0');
}

/** The queue id inside a ChirpStack queueItemId, or null when the item is not one of ours. */
export function queueIdFromUuid(uuid: string | undefined): number | null {
  if (!uuid || !uuid.toLowerCase().startsWith(UUID_PREFIX)) return null;
  const id = parseInt(uuid.slice(UUID_PREFIX.length), 16);
  return Number.isSafeInteger(id) && id > 0 ? id : null;
}

/** ChirpStack's downlink topic for a device whose uplinks came on `{prefix}/{app}/device/{devEui}/event/up`. */
export function chirpstackDownlinkTopic(prefix: string, applicationId: string, devEui: string): string {
  return `${prefix}/${applicationId}/device/${devEui}/command/down`;
}

/** The Things Stack's downlink topic for a device whose uplinks came on `{prefix}/{app}/devices/{id}/up`. */
export function ttsDownlinkTopic(prefix: string, application: string, deviceId: string): string {
  return `${prefix}/${application}/devices/${deviceId}/down/push`;
}

export interface NetworkServerDownlink {
  id: number;
  devEui: string;
  fPort: number;
  payload: Buffer;
  confirmed: boolean;
}

export function chirpstackDownlinkCommand(item: NetworkServerDownlink): Buffer {
  return Buffer.from(JSON.stringify({ id: queueItemUuid(item.id), devEui: item.devEui, confirmed: item.confirmed, fPort: item.fPort, data: item.payload.toString('base64') }));
}

export function ttsDownlinkPush(item: NetworkServerDownlink): Buffer {
  return Buffer.from(JSON.stringify({
    downlinks: [{ f_port: item.fPort, frm_payload: item.payload.toString('base64'), confirmed: item.confirmed, priority: 'NORMAL', correlation_ids: [`${CORRELATION_PREFIX}${item.id}`] }],
  }));
}

const { TxAckEvent, AckEvent } = integrationPb;

/** A ChirpStack `txack` or `ack` event about one of our queue items; null for anything else. */
export function chirpstackDownlinkReport(event: string, payload: Buffer): NetworkServerReport | null {
  let queueItemId: string | undefined;
  let acknowledged = false;
  if (payload[0] === 0x7b) {
    const v = JSON.parse(payload.toString('utf8')) as { queueItemId?: unknown; acknowledged?: unknown };
    queueItemId = typeof v.queueItemId === 'string' ? v.queueItemId : undefined;
    acknowledged = v.acknowledged === true;
  } else if (event === 'txack') {
    queueItemId = TxAckEvent.deserializeBinary(payload).getQueueItemId();
  } else {
    const ack = AckEvent.deserializeBinary(payload);
    queueItemId = ack.getQueueItemId();
    acknowledged = ack.getAcknowledged();
  }
  const queueId = queueIdFromUuid(queueItemId);
  if (queueId === null) return null;
  if (event === 'txack') return { queueId, event: 'txack', detail: null };
  return acknowledged ? { queueId, event: 'ack', detail: null } : { queueId, event: 'nack', detail: 'the device did not acknowledge it (ChirpStack ack event)' };
}

const TTS_EVENTS: Record<string, { field: string; event: NetworkServerReport['event'] }> = {
  sent: { field: 'downlink_sent', event: 'txack' },
  ack: { field: 'downlink_ack', event: 'ack' },
  nack: { field: 'downlink_nack', event: 'nack' },
  failed: { field: 'downlink_failed', event: 'failed' },
};

/** A The Things Stack `down/{sent|ack|nack|failed}` event about one of our queue items; null for anything else. */
export function ttsDownlinkReport(event: string, payload: Buffer): NetworkServerReport | null {
  const kind = TTS_EVENTS[event];
  if (!kind) return null;
  const v = JSON.parse(payload.toString('utf8')) as Record<string, unknown>;
  const body = v[kind.field] as { correlation_ids?: unknown; downlink?: { correlation_ids?: unknown }; error?: { message_format?: unknown } } | undefined;
  const ids = [v.correlation_ids, body?.correlation_ids, body?.downlink?.correlation_ids].flatMap((x) => (Array.isArray(x) ? x : []));
  const ours = ids.find((x): x is string => typeof x === 'string' && x.startsWith(CORRELATION_PREFIX));
  const queueId = ours ? Number(ours.slice(CORRELATION_PREFIX.length)) : NaN;
  if (!Number.isSafeInteger(queueId) || queueId <= 0) return null;
  const reason = typeof body?.error?.message_format === 'string' ? body.error.message_format : null;
  return { queueId, event: kind.event, detail: kind.event === 'failed' ? `The Things Stack: ${reason ?? 'downlink failed'}` : kind.event === 'nack' ? 'the device did not acknowledge it (The Things Stack)' : null };
}
