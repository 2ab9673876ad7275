/**
 * Coded ingest errors. Each code is also the dead-letter reason, so operators can
 * count and filter by it.
 */
export const DeadLetterReason = {
  invalidJson: 'invalid_json',
  invalidProtobuf: 'invalid_protobuf',
  invalidMessage: 'invalid_message',
  unexpectedTopic: 'unexpected_topic',
  /**
   * An event type the source does not know (not one its network server or bridge
   * publishes): a newer version's event, or a publisher writing where it should not.
   * Known event types that carry nothing to store (joins, locations…) are ignored instead.
   */
  unknownEvent: 'unknown_event',
  oversizePayload: 'oversize_payload',
  unknownDevice: 'unknown_device',
  decommissionedDevice: 'decommissioned_device',
  decodeFailed: 'decode_failed',
  networkServerLog: 'network_server_log',
  internalError: 'internal_error',
  /** The database refused the message's rows (a value it cannot store): written alone, it still failed. */
  storageRefused: 'storage_refused',
} as const;
export type DeadLetterReasonCode = (typeof DeadLetterReason)[keyof typeof DeadLetterReason] | (string & {});

export class IngestError extends Error {
  readonly code: string;
  readonly devEui: string | null;
  constructor(readonly reason: DeadLetterReasonCode, message: string, options?: { cause?: unknown; devEui?: string }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'IngestError';
    this.code = `STADTFUNK_ERR_${reason.toUpperCase()}`;
    this.devEui = options?.devEui ?? null;
  }
}
