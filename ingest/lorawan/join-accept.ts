/**
 * LoRaWAN 1.0.x Join-accept and the session keys of a join (spec 1.0.4 §6.2.6, §6.2.7):
 *
 *   msg = MHDR(0x20) | JoinNonce(3, LE) | NetID(3, LE) | DevAddr(4, LE) | DLSettings(1) | RxDelay(1) | [CFList(16)]
 *   MIC = AES-CMAC(AppKey, msg)[0..3]
 *   PHYPayload = MHDR | aes128_decrypt(AppKey, msg[1..] | MIC)
 *
 * The network server *decrypts* (AES-ECB) so that the device, which only has the
 * encrypt primitive, *encrypts* to read it. The session keys:
 *
 *   NwkSKey = aes128_encrypt(AppKey, 0x01 | JoinNonce | NetID | DevNonce | pad16)
 *   AppSKey = aes128_encrypt(AppKey, 0x02 | JoinNonce | NetID | DevNonce | pad16)
 *
 * (1.0.x; the 1.1 derivation with OptNeg set is not served.) 1.0.3 calls the JoinNonce
 * AppNonce; the bytes are the same.
 */
import { createCipheriv, createDecipheriv, timingSafeEqual } from 'node:crypto';
import { aesCmac } from './aes-cmac.js';
import { devAddrToWire } from './phy-payload.js';

const MHDR_JOIN_ACCEPT = 0x20;

export interface JoinAcceptFields {
  /** 24-bit; per device, never repeated (1.0.4 devices want it to increase). */
  joinNonce: number;
  /** NetID as 6 hex digits, most significant first. */
  netId: string;
  /** 8 hex digits, most significant first. */
  devAddr: string;
  /** 0–7: RX1 data rate = uplink DR − offset (region rules). */
  rx1DrOffset: number;
  /** 0–15: the RX2 data rate index. */
  rx2DataRate: number;
  /** Seconds from the end of the uplink to RX1, 1–15 (0 means 1). */
  rxDelayS: number;
  /** Optional 16-byte CFList (region-specific). */
  cfList: Buffer | null;
}

function ecb(key: Buffer, data: Buffer, decrypt: boolean): Buffer {
  const cipher = decrypt ? createDecipheriv('aes-128-ecb', key, null) : createCipheriv('aes-128-ecb', key, null);
  cipher.setAutoPadding(false);
  return Buffer.concat([cipher.update(data), cipher.final()]);
}

/** The clear join-accept message (MHDR … CFList), before MIC and encryption. */
export function joinAcceptMessage(f: JoinAcceptFields): Buffer {
  if (!Number.isInteger(f.joinNonce) || f.joinNonce < 0 || f.joinNonce > 0xffffff) throw new RangeError(`JoinNonce ${f.joinNonce} is not 24 bits`);
  if (!/^[0-9a-fA-F]{6}$/.test(f.netId)) throw new TypeError(`NetID must be 6 hex digits, got "${f.netId}"`);
  if (f.rx1DrOffset < 0 || f.rx1DrOffset > 7 || f.rx2DataRate < 0 || f.rx2DataRate > 15) throw new RangeError('RX1DROffset is 0–7 and RX2DataRate 0–15');
  if (f.rxDelayS < 0 || f.rxDelayS > 15) throw new RangeError('RxDelay is 0–15 s');
  if (f.cfList && f.cfList.length !== 16) throw new RangeError('a CFList is 16 bytes');
  const out = Buffer.alloc(13 + (f.cfList ? 16 : 0));
  out[0] = MHDR_JOIN_ACCEPT;
  out.writeUIntLE(f.joinNonce, 1, 3);
  Buffer.from(f.netId, 'hex').reverse().copy(out, 4);
  devAddrToWire(f.devAddr).copy(out, 7);
  // DLSettings: bit 7 OptNeg (0 for 1.0.x), bits 6..4 RX1DROffset, bits 3..0 RX2DataRate.
  out[11] = ((f.rx1DrOffset & 0x07) << 4) | (f.rx2DataRate & 0x0f);
  out[12] = f.rxDelayS & 0x0f;
  f.cfList?.copy(out, 13);
  return out;
}

/** The join-accept PHYPayload as sent: MIC over the clear message, then encrypted with the AppKey. */
export function buildJoinAccept(appKey: Buffer, fields: JoinAcceptFields): Buffer {
  const message = joinAcceptMessage(fields);
  const mic = aesCmac(appKey, message).subarray(0, 4);
  const encrypted = ecb(appKey, Buffer.concat([message.subarray(1), mic]), true);
  return Buffer.concat([message.subarray(0, 1), encrypted]);
}

export interface OpenedJoinAccept extends JoinAcceptFields {
  micValid: boolean;
}

/**
 * What an end-device does with a join-accept (simulators and tests): encrypt with the
 * AppKey to read it, check the MIC. null when the length is not 17 or 33 bytes.
 */
export function openJoinAccept(appKey: Buffer, phyPayload: Buffer): OpenedJoinAccept | null {
  if ((phyPayload.length !== 17 && phyPayload.length !== 33) || phyPayload[0] !== MHDR_JOIN_ACCEPT) return null;
  const clear = Buffer.concat([phyPayload.subarray(0, 1), ecb(appKey, phyPayload.subarray(1), false)]);
  const message = clear.subarray(0, clear.length - 4);
  const mic = clear.subarray(clear.length - 4);
  return {
    joinNonce: message.readUIntLE(1, 3),
    netId: Buffer.from(message.subarray(4, 7)).reverse().toString('hex'),
    devAddr: Buffer.from(message.subarray(7, 11)).reverse().toString('hex'),
    rx1DrOffset: (message[11]! >> 4) & 0x07,
    rx2DataRate: message[11]! & 0x0f,
    rxDelayS: message[12]! & 0x0f,
    cfList: message.length > 13 ? Buffer.from(message.subarray(13)) : null,
    micValid: timingSafeEqual(aesCmac(appKey, message).subarray(0, 4), mic),
  };
}

export interface SessionKeys {
  nwkSKey: Buffer;
  appSKey: Buffer;
}

/** NwkSKey and AppSKey of a LoRaWAN 1.0.x join. */
export function deriveSessionKeys(appKey: Buffer, joinNonce: number, netId: string, devNonce: number): SessionKeys {
  if (appKey.length !== 16) throw new TypeError(`AppKey must be 16 bytes, got ${appKey.length}`);
  const block = (type: number): Buffer => {
    const b = Buffer.alloc(16);
    b[0] = type;
    b.writeUIntLE(joinNonce, 1, 3);
    Buffer.from(netId, 'hex').reverse().copy(b, 4);
    b.writeUInt16LE(devNonce, 7);
    return b;
  };
  const both = ecb(appKey, Buffer.concat([block(0x01), block(0x02)]), false);
  return { nwkSKey: both.subarray(0, 16), appSKey: both.subarray(16, 32) };
}
