/**
 * The rules every `gw.UplinkFrame` passes, whichever encoding it came in: both decoders
 * (protojson in gateway-frame.ts, protobuf in uplink-frame-wire.ts) reduce a message to
 * these fields, and `uplinkFrameFrom` checks and normalises them once.
 */
import gwPb from '@chirpstack/chirpstack-api/gw/gw_pb.js';
import { GatewayFrameRejectReason, type GatewayFrameRejectReasonCode } from './errors.js';
import type { GatewayDecodeResult, GatewayUplinkFrame } from './gateway-frame.js';
import { MAX_PHY_PAYLOAD_BYTES } from './phy-payload.js';

const { CodeRate, CRCStatus } = gwPb;
const CODE_RATE_NAMES = new Map(Object.entries(CodeRate).map(([name, value]) => [value as number, name]));
const CRC_STATUS_NAMES = new Map(Object.entries(CRCStatus).map(([name, value]) => [value as number, name]));

/**
 * Bounds a concentrator message is held to, whichever encoding it came in: the JSON
 * schemas in gateway-frame.ts and the wire reader in uplink-frame-wire.ts both use these.
 */
export const FRAME_LIMITS = {
  gatewayIdPattern: '^[0-9a-fA-F]{16}$',
  maxSpreadingFactor: 12,
  rssiDbm: { min: -300, max: 100 },
  snrDb: { min: -100, max: 100 },
  maxContextBytes: 768,
  maxMetadataKeyLength: 256,
  maxMetadataValueLength: 1024,
} as const;

/** A decode that failed, with its reason and what was wrong. */
export function rejected<T>(reason: GatewayFrameRejectReasonCode, detail: string): GatewayDecodeResult<T> {
  return { ok: false, reason, detail };
}

/** A decoded message's fields; proto3 defaults (0, empty) where the message left them out. */
export interface UplinkFrameFields {
  phyPayload: Buffer | null;
  /** 16 hex digits, as sent (checked by the decoder). */
  gatewayId: string;
  /** Enum name or number; undefined is proto3's default NO_CRC. */
  crcStatus: string | number | undefined;
  uplinkId: number;
  frequencyHz: number;
  modulation: GatewayUplinkFrame['modulation'];
  spreadingFactor: number;
  bandwidthHz: number;
  /** Enum name or number; null when the frame is not LoRa. */
  codeRate: string | number | null;
  rssiDbm: number;
  snrDb: number;
  /** An Error when the encoding's time text did not parse. */
  gwTime: Date | null | Error;
  nsTime: Date | null | Error;
  context: Buffer;
  metadata: Record<string, string>;
}

export function uplinkFrameFrom(f: UplinkFrameFields): GatewayDecodeResult<GatewayUplinkFrame> {
  const gatewayId = f.gatewayId.toLowerCase();
  const crcStatus = f.crcStatus === undefined ? 'NO_CRC' : typeof f.crcStatus === 'number' ? CRC_STATUS_NAMES.get(f.crcStatus) : f.crcStatus;
  // The concentrator could not confirm the bytes (as ChirpStack Gateway Mesh's
  // concentratord backend, frames with CRC != CRC_OK are discarded).
  if (crcStatus !== 'CRC_OK') return rejected(GatewayFrameRejectReason.crcNotOk, `concentrator ${gatewayId} reported CRC status ${crcStatus ?? f.crcStatus}`);
  const phyPayload = f.phyPayload;
  if (!phyPayload || phyPayload.length === 0 || phyPayload.length > MAX_PHY_PAYLOAD_BYTES) {
    return rejected(GatewayFrameRejectReason.invalidMessage, `phyPayload of ${phyPayload?.length ?? 0} bytes`);
  }
  if (f.gwTime instanceof Error) return rejected(GatewayFrameRejectReason.invalidMessage, f.gwTime.message);
  if (f.nsTime instanceof Error) return rejected(GatewayFrameRejectReason.invalidMessage, f.nsTime.message);
  const codeRate = f.codeRate === null ? null : typeof f.codeRate === 'number' ? (CODE_RATE_NAMES.get(f.codeRate) ?? null) : f.codeRate;
  return {
    ok: true,
    value: {
      phyPayload,
      gatewayId,
      uplinkId: f.uplinkId === 0 ? null : f.uplinkId,
      frequencyHz: f.frequencyHz === 0 ? null : f.frequencyHz,
      modulation: f.modulation,
      spreadingFactor: f.spreadingFactor || null,
      bandwidthHz: f.bandwidthHz === 0 ? null : f.bandwidthHz,
      codeRate: codeRate === 'CR_UNDEFINED' ? null : codeRate,
      rssiDbm: f.rssiDbm,
      snrDb: f.snrDb,
      gwTime: f.gwTime,
      nsTime: f.nsTime,
      context: f.context,
      metadata: f.metadata,
    },
  };
}
