/**
 * Reason codes of the LoRaWAN frame layer. Each one is also a dead-letter reason, so
 * operators can count and filter rejected frames by it. Details that travel with a
 * reason name DevAddr, DevEUI and counters, never key material.
 */
export const FrameRejectReason = {
  /** Not a well-formed LoRaWAN 1.0.x uplink data frame (length, FOpts, major version…). */
  malformedFrame: 'malformed_frame',
  /** Rejoin-request (LoRaWAN 1.1: stadtfunk serves 1.0.x joins only), or a join-request given to the data-frame parser. */
  joinRequestUnsupported: 'join_request_unsupported',
  /** Join-request from a DevEUI that is not registered (or decommissioned). */
  unknownDevEui: 'unknown_deveui',
  /** Join-request whose JoinEUI is not the one registered for its DevEUI. */
  unknownJoinEui: 'unknown_joineui',
  /** Join-request from a device registered without an AppKey (ABP). */
  notOtaa: 'not_otaa',
  /** The device's sealed AppKey does not open (another MASTER_KEY, or tampered). */
  keyUnreadable: 'key_unreadable',
  /** LoRaWAN 1.0.0–1.0.3: a DevNonce this device used before (a replayed join-request). */
  devNonceReused: 'devnonce_reused',
  /** LoRaWAN 1.0.4: a DevNonce not above the last one (a replayed or old join-request). */
  devNonceNotIncreasing: 'devnonce_not_increasing',
  /** The device's 24-bit JoinNonce is used up: it needs a new AppKey. */
  joinNonceExhausted: 'join_nonce_exhausted',
  /** No region parameters for the band the frame came in on: it cannot be answered. */
  noRegion: 'no_region',
  /** Neither receive window can carry the downlink (its data rate unknown, or too long). */
  noDownlinkWindow: 'no_downlink_window',
  /** MType 111: vendor-specific frame without a LoRaWAN MIC. */
  proprietaryFrame: 'proprietary_frame',
  /** Join-accept or data down: a concentrator heard another network server's downlink. */
  downlinkFrame: 'downlink_frame',
  /** No ABP device is registered under the frame's DevAddr. */
  unknownDevAddr: 'unknown_devaddr',
  /** No candidate's NwkSKey produced the frame's MIC. */
  micMismatch: 'mic_mismatch',
  /** Valid MIC, but the 32-bit counter is below the last accepted one. */
  replay: 'replay',
  /** Valid MIC, counter equal to the last accepted one: the frame was already taken. */
  retransmission: 'retransmission',
  /** FPort 224 (certification test) or 225–255 (RFU), not used by city sensors. */
  reservedFPort: 'reserved_fport',
} as const;

export type FrameRejectReasonCode = (typeof FrameRejectReason)[keyof typeof FrameRejectReason];

/** Reasons a gateway-bridge message cannot be turned into a frame. */
export const GatewayFrameRejectReason = {
  invalidJson: 'invalid_json',
  invalidProtobuf: 'invalid_protobuf',
  /** Decodes, but a required field is missing or out of range. */
  invalidMessage: 'invalid_message',
  /** The concentrator reported a bad or missing CRC: the bytes cannot be trusted. */
  crcNotOk: 'crc_not_ok',
} as const;

export type GatewayFrameRejectReasonCode = (typeof GatewayFrameRejectReason)[keyof typeof GatewayFrameRejectReason];

/** Thrown when a sealed key cannot be opened (tampered, wrong AAD, wrong master key, bad format). */
export class KeyVaultError extends Error {
  readonly code = 'STADTFUNK_ERR_KEY_VAULT';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'KeyVaultError';
  }
}
