/**
 * PHYPayload parser for LoRaWAN 1.0.x uplink data frames (spec 1.0.4 §4):
 *
 *   PHYPayload = MHDR(1) | MACPayload | MIC(4)
 *   MACPayload = FHDR | [FPort(1) | FRMPayload]
 *   FHDR       = DevAddr(4, little-endian) | FCtrl(1) | FCnt(2, little-endian) | FOpts(0..15)
 *
 * Only what an ABP network server takes from a concentrator is accepted: unconfirmed
 * and confirmed data up. Everything else gets a typed rejection so it can be counted.
 * The parser copies nothing it does not have to: the Buffers it returns are views of
 * the input (`subarray`), so the caller must not reuse the input buffer.
 */
import { FrameRejectReason, type FrameRejectReasonCode } from './errors.js';

/** A LoRa PHYPayload is at most 255 bytes (the radio's length field is one byte). */
export const MAX_PHY_PAYLOAD_BYTES = 255;
/** MHDR + DevAddr + FCtrl + FCnt + MIC: the shortest data frame. */
const MIN_DATA_FRAME_BYTES = 1 + 4 + 1 + 2 + 4;

/** MType values, spec §4.2.1 (table "MAC message types"). */
export const MType = {
  joinRequest: 0,
  joinAccept: 1,
  unconfirmedDataUp: 2,
  unconfirmedDataDown: 3,
  confirmedDataUp: 4,
  confirmedDataDown: 5,
  /** RFU in 1.0.x, rejoin-request in 1.1. */
  rejoinRequest: 6,
  proprietary: 7,
} as const;

/** Uplink FCtrl, spec §4.3.1 (bit 4 is ClassB since 1.0.2, RFU before). */
export interface UplinkFCtrl {
  adr: boolean;
  adrAckReq: boolean;
  ack: boolean;
  classB: boolean;
  /** Length of FOpts in bytes, 0–15. */
  fOptsLen: number;
}

/** A parsed uplink data frame. FRMPayload is still encrypted, FCnt still 16 bits. */
export interface DataUpFrame {
  confirmed: boolean;
  /** DevAddr as 8 lower-case hex digits, most significant byte first (as people write it). */
  devAddr: string;
  /** DevAddr as on the air (little-endian): this order goes into the B0 and A blocks. */
  devAddrWire: Buffer;
  fCtrl: UplinkFCtrl;
  /** The 16 least significant bits of the frame counter, as transmitted. */
  fCnt16: number;
  /** MAC commands piggy-backed in the header (clear text in 1.0.x). */
  fOpts: Buffer;
  /** null when the frame carries no port (and so no FRMPayload). */
  fPort: number | null;
  /** Encrypted FRMPayload; empty when absent. */
  frmPayload: Buffer;
  mic: Buffer;
  /** MHDR … FRMPayload: the bytes the MIC is computed over. */
  micInput: Buffer;
  /** The whole PHYPayload. */
  phyPayload: Buffer;
}

export type ParsePhyPayloadResult =
  | { ok: true; frame: DataUpFrame }
  | { ok: false; reason: FrameRejectReasonCode; detail: string };

function reject(reason: FrameRejectReasonCode, detail: string): ParsePhyPayloadResult {
  return { ok: false, reason, detail };
}

/** Parses one PHYPayload; never throws. */
export function parsePhyPayload(phyPayload: Buffer): ParsePhyPayloadResult {
  if (phyPayload.length === 0) return reject(FrameRejectReason.malformedFrame, 'empty PHYPayload');
  if (phyPayload.length > MAX_PHY_PAYLOAD_BYTES) {
    return reject(FrameRejectReason.malformedFrame, `PHYPayload of ${phyPayload.length} bytes exceeds ${MAX_PHY_PAYLOAD_BYTES}`);
  }
  const mhdr = phyPayload[0] ?? 0;
  const mType = mhdr >> 5;
  const major = mhdr & 0b11;
  switch (mType) {
    case MType.joinRequest:
      return reject(FrameRejectReason.joinRequestUnsupported, 'a join-request is not a data frame (joins go through join-processor.ts)');
    case MType.rejoinRequest:
      return reject(FrameRejectReason.joinRequestUnsupported, 'rejoin-request (LoRaWAN 1.1) frames are not served');
    case MType.proprietary:
      return reject(FrameRejectReason.proprietaryFrame, 'proprietary frame (MType 111)');
    case MType.joinAccept:
    case MType.unconfirmedDataDown:
    case MType.confirmedDataDown:
      return reject(FrameRejectReason.downlinkFrame, `downlink frame (MType ${mType}) heard by a concentrator`);
    default:
      break;
  }
  // Major 00 is LoRaWAN R1; the other values are RFU (spec §4.2.2).
  if (major !== 0) return reject(FrameRejectReason.malformedFrame, `unsupported major version ${major}`);
  if (phyPayload.length < MIN_DATA_FRAME_BYTES) {
    return reject(FrameRejectReason.malformedFrame, `data frame of ${phyPayload.length} bytes is shorter than ${MIN_DATA_FRAME_BYTES}`);
  }

  const micOffset = phyPayload.length - 4;
  const fCtrlByte = phyPayload[5] ?? 0;
  const fOptsLen = fCtrlByte & 0x0f;
  const fOptsEnd = 8 + fOptsLen;
  if (fOptsEnd > micOffset) {
    return reject(FrameRejectReason.malformedFrame, `FOptsLen ${fOptsLen} runs past the end of the frame`);
  }
  const hasPort = fOptsEnd < micOffset;
  const fPort = hasPort ? (phyPayload[fOptsEnd] ?? 0) : null;
  // Spec §4.3.1.6 / §5: MAC commands are either in FOpts or in FRMPayload on port 0, never both.
  if (fPort === 0 && fOptsLen > 0) {
    return reject(FrameRejectReason.malformedFrame, 'FPort 0 with non-empty FOpts');
  }
  const devAddrWire = phyPayload.subarray(1, 5);
  return {
    ok: true,
    frame: {
      confirmed: mType === MType.confirmedDataUp,
      devAddr: Buffer.from(devAddrWire).reverse().toString('hex'),
      devAddrWire,
      fCtrl: {
        adr: (fCtrlByte & 0x80) !== 0,
        adrAckReq: (fCtrlByte & 0x40) !== 0,
        ack: (fCtrlByte & 0x20) !== 0,
        classB: (fCtrlByte & 0x10) !== 0,
        fOptsLen,
      },
      fCnt16: phyPayload.readUInt16LE(6),
      fOpts: phyPayload.subarray(8, fOptsEnd),
      fPort,
      frmPayload: hasPort ? phyPayload.subarray(fOptsEnd + 1, micOffset) : phyPayload.subarray(micOffset, micOffset),
      mic: phyPayload.subarray(micOffset),
      micInput: phyPayload.subarray(0, micOffset),
      phyPayload,
    },
  };
}

/** DevAddr hex (big-endian, as displayed) → the 4 bytes in air order. */
export function devAddrToWire(devAddr: string): Buffer {
  if (!/^[0-9a-fA-F]{8}$/.test(devAddr)) throw new TypeError(`DevAddr must be 8 hex digits, got "${devAddr}"`);
  return Buffer.from(devAddr, 'hex').reverse();
}
