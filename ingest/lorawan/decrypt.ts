/**
 * FRMPayload encryption (spec 1.0.4 §4.3.3). The keystream is S = AES-K(A1) | AES-K(A2) | …
 *
 *   Ai = 0x01 | 0x00×4 | Dir | DevAddr(4, LE) | FCnt(4, LE, full 32 bits) | 0x00 | i
 *
 * and FRMPayload = plaintext XOR S (so the same function encrypts and decrypts).
 * K is AppSKey for FPort 1–223 and NwkSKey for FPort 0 (MAC commands).
 *
 * Ai differs from A(i−1) only in its last byte, which holds i. That is exactly an
 * AES-CTR counter block starting at A1: CTR increments the block as a big-endian
 * integer, and i never carries out of the byte because a PHYPayload of at most
 * 255 bytes has at most 16 keystream blocks. So one AES-128-CTR pass with IV = A1
 * yields the spec's keystream.
 */
import { createCipheriv } from 'node:crypto';
import { MAX_PHY_PAYLOAD_BYTES } from './phy-payload.js';

/** Which session key encrypts a port's FRMPayload; null for ports 224–255 (test / RFU). */
export function frmPayloadKeyFor(fPort: number): 'nwkSKey' | 'appSKey' | null {
  if (fPort === 0) return 'nwkSKey';
  if (fPort >= 1 && fPort <= 223) return 'appSKey';
  return null;
}

/** Direction bit of the A and B0 blocks. */
export type Direction = 'up' | 'down';

/**
 * Encrypts or decrypts an FRMPayload (the operation is its own inverse).
 * @param key 16-byte AppSKey (FPort 1–223) or NwkSKey (FPort 0).
 * @param devAddrWire DevAddr in air order (little-endian).
 * @param fCnt32 Full 32-bit frame counter.
 */
export function cryptFrmPayload(key: Buffer, payload: Buffer, devAddrWire: Buffer, fCnt32: number, dir: Direction = 'up'): Buffer {
  if (key.length !== 16) throw new TypeError(`FRMPayload key must be 16 bytes, got ${key.length}`);
  if (devAddrWire.length !== 4) throw new TypeError('DevAddr must be 4 bytes');
  if (!Number.isInteger(fCnt32) || fCnt32 < 0 || fCnt32 > 0xffffffff) throw new RangeError(`FCnt ${fCnt32} is not a 32-bit counter`);
  if (payload.length > MAX_PHY_PAYLOAD_BYTES) throw new RangeError('FRMPayload longer than a PHYPayload');
  if (payload.length === 0) return Buffer.alloc(0);
  const a1 = Buffer.alloc(16);
  a1[0] = 0x01;
  a1[5] = dir === 'up' ? 0 : 1;
  devAddrWire.copy(a1, 6);
  a1.writeUInt32LE(fCnt32, 10);
  a1[15] = 1;
  return createCipheriv('aes-128-ctr', key, a1).update(payload);
}

/** Decrypts an uplink FRMPayload (Dir = 0). */
export function decryptUplinkPayload(key: Buffer, frmPayload: Buffer, devAddrWire: Buffer, fCnt32: number): Buffer {
  return cryptFrmPayload(key, frmPayload, devAddrWire, fCnt32, 'up');
}
