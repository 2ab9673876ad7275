/**
 * LoRaWAN 1.0.x Join-request (spec 1.0.4 §6.2.4, §6.2.5):
 *
 *   PHYPayload = MHDR(0x00) | JoinEUI(8, LE) | DevEUI(8, LE) | DevNonce(2, LE) | MIC(4)
 *   cmac = AES-CMAC(AppKey, MHDR | JoinEUI | DevEUI | DevNonce),  MIC = cmac[0..3]
 *
 * (1.0.x calls the JoinEUI AppEUI; the bytes are the same.) A join-request travels in
 * clear: the MIC is all that ties it to the device's AppKey.
 */
import { timingSafeEqual } from 'node:crypto';
import { aesCmac } from './aes-cmac.js';
import { FrameRejectReason, type FrameRejectReasonCode } from './errors.js';

/** MHDR(1) + JoinEUI(8) + DevEUI(8) + DevNonce(2) + MIC(4). */
export const JOIN_REQUEST_BYTES = 23;
const MHDR_JOIN_REQUEST = 0x00;

export interface JoinRequest {
  /** 16 lower-case hex digits, most significant byte first (as printed on the label). */
  joinEui: string;
  devEui: string;
  /** 0–65535. */
  devNonce: number;
  mic: Buffer;
  /** MHDR … DevNonce: what the MIC covers. */
  micInput: Buffer;
  phyPayload: Buffer;
}

export type ParseJoinRequestResult =
  | { ok: true; request: JoinRequest }
  | { ok: false; reason: FrameRejectReasonCode; detail: string };

/** True when the PHYPayload's MType is Join-request (000), whatever its length. */
export function isJoinRequest(phyPayload: Buffer): boolean {
  return phyPayload.length > 0 && (phyPayload[0]! >> 5) === 0;
}

/** Parses a join-request; never throws. A wrong length or major version is `malformed_frame`. */
export function parseJoinRequest(phyPayload: Buffer): ParseJoinRequestResult {
  if (!isJoinRequest(phyPayload)) return { ok: false, reason: FrameRejectReason.malformedFrame, detail: 'not a join-request (MType 000)' };
  if ((phyPayload[0]! & 0b11) !== 0) return { ok: false, reason: FrameRejectReason.malformedFrame, detail: `join-request with major version ${phyPayload[0]! & 0b11}` };
  if (phyPayload.length !== JOIN_REQUEST_BYTES) {
    return { ok: false, reason: FrameRejectReason.malformedFrame, detail: `join-request of ${phyPayload.length} bytes, expected ${JOIN_REQUEST_BYTES}` };
  }
  return {
    ok: true,
    request: {
      joinEui: euiFromWire(phyPayload.subarray(1, 9)),
      devEui: euiFromWire(phyPayload.subarray(9, 17)),
      devNonce: phyPayload.readUInt16LE(17),
      mic: phyPayload.subarray(19, 23),
      micInput: phyPayload.subarray(0, 19),
      phyPayload,
    },
  };
}

/** The 4-byte MIC of a join-request under `appKey`. */
export function joinRequestMic(appKey: Buffer, micInput: Buffer): Buffer {
  return aesCmac(appKey, micInput).subarray(0, 4);
}

/** Constant-time check of a join-request's MIC. */
export function verifyJoinRequestMic(request: JoinRequest, appKey: Buffer): boolean {
  return timingSafeEqual(joinRequestMic(appKey, request.micInput), request.mic);
}

/** What an end-device sends (simulators, tests, benchmarks). */
export function buildJoinRequest(fields: { joinEui: string; devEui: string; devNonce: number; appKey: Buffer }): Buffer {
  if (!Number.isInteger(fields.devNonce) || fields.devNonce < 0 || fields.devNonce > 0xffff) throw new RangeError(`DevNonce ${fields.devNonce} is not 16 bits`);
  const micInput = Buffer.alloc(19);
  micInput[0] = MHDR_JOIN_REQUEST;
  euiToWire(fields.joinEui).copy(micInput, 1);
  euiToWire(fields.devEui).copy(micInput, 9);
  micInput.writeUInt16LE(fields.devNonce, 17);
  return Buffer.concat([micInput, joinRequestMic(fields.appKey, micInput)]);
}

/** An EUI-64 in air order (little-endian) → 16 lower-case hex digits, most significant first. */
export function euiFromWire(bytes: Buffer): string {
  return Buffer.from(bytes).reverse().toString('hex');
}

/** 16 hex digits → the 8 bytes in air order. */
export function euiToWire(eui: string): Buffer {
  if (!/^[0-9a-fA-F]{16}$/.test(eui)) throw new TypeError(`an EUI-64 is 16 hex digits, got "${eui}"`);
  return Buffer.from(eui, 'hex').reverse();
}
