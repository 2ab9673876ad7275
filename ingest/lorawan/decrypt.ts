/**
 * FRMPayload encryption (spec 1.0.4 §4.3.3). The keystream is S = AES-K(A1) | AES-K(A2) | …
 *
 *   Ai = 0x01 | 0x00×4 | Dir | DevAddr(4, LE) | FCnt(4, LE, full 32 bits) | 0x00 | i
 *
 * and FRMPayload = plaintext XOR S (so the same function encrypts and decrypts).
 * K is AppSKey for FPort 1–223 and NwkSKey for FPort 0 (MAC commands).
 *
 * The A blocks of one payload (at most 16: a PHYPayload has at most 255 bytes) are
 * encrypted in one AES-128-ECB call, by a context each key keeps for as long as the key
 * Buffer lives: creating an OpenSSL context costs more than the few blocks of a frame.
 */
import { createCipheriv, type Cipheriv } from 'node:crypto';
import { KeyContexts } from './key-contexts.js';
import { MAX_PHY_PAYLOAD_BYTES } from './phy-payload.js';

/** Which session key encrypts a port's FRMPayload; null for ports 224–255 (test / RFU). */
export function frmPayloadKeyFor(fPort: number): 'nwkSKey' | 'appSKey' | null {
  if (fPort === 0) return 'nwkSKey';
  if (fPort >= 1 && fPort <= 223) return 'appSKey';
  return null;
}

/** A key's AES-128-ECB context. */
const ecbContexts = new KeyContexts<Cipheriv>((key) => {
  const cipher = createCipheriv('aes-128-ecb', key, null);
  cipher.setAutoPadding(false);
  return cipher;
});

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
  const blocks = Math.ceil(payload.length / 16);
  const a = Buffer.alloc(blocks * 16);
  for (let i = 0; i < blocks; i++) {
    const at = i * 16;
    a[at] = 0x01;
    a[at + 5] = dir === 'up' ? 0 : 1;
    devAddrWire.copy(a, at + 6);
    a.writeUInt32LE(fCnt32, at + 10);
    a[at + 15] = i + 1;
  }
  const keystream = ecbContexts.get(key).update(a);
  const out = Buffer.allocUnsafe(payload.length);
  for (let i = 0; i < payload.length; i++) out[i] = (payload[i] ?? 0) ^ (keystream[i] ?? 0);
  return out;
}

/** Decrypts an uplink FRMPayload (Dir = 0). */
export function decryptUplinkPayload(key: Buffer, frmPayload: Buffer, devAddrWire: Buffer, fCnt32: number): Buffer {
  return cryptFrmPayload(key, frmPayload, devAddrWire, fCnt32, 'up');
}
