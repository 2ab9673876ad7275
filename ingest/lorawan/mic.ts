/**
 * LoRaWAN 1.0.x uplink MIC (spec 1.0.4 §4.4):
 *
 *   B0  = 0x49 | 0x00×4 | Dir(0 = up) | DevAddr(4, LE) | FCntUp(4, LE) | 0x00 | len(msg)
 *   cmac = AES-CMAC(NwkSKey, B0 | msg),  msg = MHDR | FHDR | FPort | FRMPayload
 *   MIC  = cmac[0..3]
 *
 * B0 carries the FULL 32-bit counter although only its 16 low bits are on the air:
 * a frame at counter 70000 verifies with 70000, never with 70000 mod 65536 = 4464.
 */
import { timingSafeEqual } from 'node:crypto';
import { aesCmac } from './aes-cmac.js';
import type { DataUpFrame } from './phy-payload.js';

const B0_BYTES = 16;

/**
 * The 4-byte MIC of an uplink data frame.
 * @param nwkSKey 16-byte network session key.
 * @param micInput MHDR … FRMPayload (the PHYPayload without its MIC).
 * @param devAddrWire DevAddr in air order (little-endian).
 * @param fCnt32 Full 32-bit uplink frame counter.
 */
export function computeUplinkMic(nwkSKey: Buffer, micInput: Buffer, devAddrWire: Buffer, fCnt32: number): Buffer {
  return computeDataMic(nwkSKey, micInput, devAddrWire, fCnt32, 0);
}

/**
 * The 4-byte MIC of a downlink data frame: B0 with Dir = 1 and the 32-bit FCntDown
 * (spec 1.0.4 §4.4; in 1.0.x the ConfFCnt bytes of 1.1 stay 0).
 */
export function computeDownlinkMic(nwkSKey: Buffer, micInput: Buffer, devAddrWire: Buffer, fCntDown32: number): Buffer {
  return computeDataMic(nwkSKey, micInput, devAddrWire, fCntDown32, 1);
}

function computeDataMic(nwkSKey: Buffer, micInput: Buffer, devAddrWire: Buffer, fCnt32: number, dir: 0 | 1): Buffer {
  if (devAddrWire.length !== 4) throw new TypeError('DevAddr must be 4 bytes');
  if (!Number.isInteger(fCnt32) || fCnt32 < 0 || fCnt32 > 0xffffffff) throw new RangeError(`FCnt ${fCnt32} is not a 32-bit counter`);
  if (micInput.length > 255) throw new RangeError('MIC input longer than a PHYPayload');
  const block = Buffer.alloc(B0_BYTES + micInput.length);
  block[0] = 0x49;
  // bytes 1–4 stay 0x00; byte 5 is Dir (0 up, 1 down)
  block[5] = dir;
  devAddrWire.copy(block, 6);
  block.writeUInt32LE(fCnt32, 10);
  // byte 14 stays 0x00
  block[15] = micInput.length;
  micInput.copy(block, B0_BYTES);
  return aesCmac(nwkSKey, block).subarray(0, 4);
}

/** True when `frame`'s MIC matches under `nwkSKey` at the full counter `fCnt32` (constant-time compare). */
export function verifyUplinkMic(frame: DataUpFrame, nwkSKey: Buffer, fCnt32: number): boolean {
  const expected = computeUplinkMic(nwkSKey, frame.micInput, frame.devAddrWire, fCnt32);
  return frame.mic.length === 4 && timingSafeEqual(expected, frame.mic);
}
