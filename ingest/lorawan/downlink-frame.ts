/**
 * LoRaWAN 1.0.x downlink data frames (spec 1.0.4 §4.3):
 *
 *   MHDR (0x60 unconfirmed, 0xA0 confirmed) | DevAddr(4, LE) | FCtrl | FCnt(2, LE) | FOpts(0..15)
 *   | [FPort | FRMPayload] | MIC(4)
 *
 * Downlink FCtrl: ADR (bit 7), RFU, ACK (bit 5), FPending (bit 4), FOptsLen (bits 3..0).
 * FRMPayload is encrypted with the AppSKey on FPort 1–223 and with the NwkSKey on FPort 0
 * (MAC commands too long for FOpts); the MIC uses B0 with Dir = 1 and the 32-bit FCntDown.
 * `openDownlinkFrame` is the device's side, for simulators and tests.
 */
import { timingSafeEqual } from 'node:crypto';
import { cryptFrmPayload, frmPayloadKeyFor } from './decrypt.js';
import { computeDownlinkMic } from './mic.js';
import { devAddrToWire, MAX_PHY_PAYLOAD_BYTES } from './phy-payload.js';

export interface DownlinkFrameFields {
  devAddr: string;
  /** Full 32-bit FCntDown; its low 16 bits go on the air. */
  fCnt32: number;
  confirmed?: boolean;
  /** Acknowledges the device's confirmed uplink. */
  ack?: boolean;
  adr?: boolean;
  /** More downlinks wait: the device should send an uplink soon. */
  fPending?: boolean;
  /** MAC commands in clear, at most 15 bytes. */
  fOpts?: Buffer;
  /** null: no port, no payload. */
  fPort?: number | null;
  payload?: Buffer;
  nwkSKey: Buffer;
  appSKey?: Buffer;
}

export function buildDownlinkFrame(f: DownlinkFrameFields): Buffer {
  const fPort = f.fPort === undefined ? null : f.fPort;
  const payload = f.payload ?? Buffer.alloc(0);
  const fOpts = f.fOpts ?? Buffer.alloc(0);
  if (fOpts.length > 15) throw new RangeError('FOpts holds at most 15 bytes');
  if (fPort === null && payload.length > 0) throw new RangeError('a payload needs an FPort');
  if (fPort === 0 && fOpts.length > 0) throw new RangeError('MAC commands go either in FOpts or on FPort 0, not both');
  const devAddrWire = devAddrToWire(f.devAddr);
  let encrypted: Buffer = Buffer.alloc(0);
  if (fPort !== null && payload.length > 0) {
    const keyName = frmPayloadKeyFor(fPort);
    if (keyName === null) throw new RangeError(`FPort ${fPort} is reserved`);
    const key = keyName === 'nwkSKey' ? f.nwkSKey : f.appSKey;
    if (!key) throw new TypeError(`FPort ${fPort} needs an AppSKey`);
    encrypted = cryptFrmPayload(key, payload, devAddrWire, f.fCnt32, 'down');
  }
  const header = Buffer.alloc(8);
  header[0] = (f.confirmed ? 5 : 3) << 5;
  devAddrWire.copy(header, 1);
  header[5] = (f.adr ? 0x80 : 0) | (f.ack ? 0x20 : 0) | (f.fPending ? 0x10 : 0) | fOpts.length;
  header.writeUInt16LE(f.fCnt32 & 0xffff, 6);
  const micInput = Buffer.concat([header, fOpts, fPort === null ? Buffer.alloc(0) : Buffer.from([fPort]), encrypted]);
  if (micInput.length + 4 > MAX_PHY_PAYLOAD_BYTES) throw new RangeError('frame longer than 255 bytes');
  return Buffer.concat([micInput, computeDownlinkMic(f.nwkSKey, micInput, devAddrWire, f.fCnt32)]);
}

export interface OpenedDownlink {
  confirmed: boolean;
  devAddr: string;
  ack: boolean;
  adr: boolean;
  fPending: boolean;
  fCnt32: number;
  fOpts: Buffer;
  fPort: number | null;
  /** Decrypted FRMPayload. */
  payload: Buffer;
}

/**
 * What a device does with a downlink: MIC with its NwkSKey at the 32-bit counter rebuilt
 * from its last one, then decrypt. null when it is not a data downlink for this session.
 * @param lastFCntDown The last FCntDown the device accepted, or null.
 */
export function openDownlinkFrame(phy: Buffer, keys: { devAddr: string; nwkSKey: Buffer; appSKey: Buffer }, lastFCntDown: number | null): OpenedDownlink | null {
  if (phy.length < 12) return null;
  const mType = phy[0]! >> 5;
  if (mType !== 3 && mType !== 5) return null;
  const devAddr = Buffer.from(phy.subarray(1, 5)).reverse().toString('hex');
  if (devAddr !== keys.devAddr) return null;
  const fCtrl = phy[5]!;
  const fOptsLen = fCtrl & 0x0f;
  const micAt = phy.length - 4;
  if (8 + fOptsLen > micAt) return null;
  const fCnt16 = phy.readUInt16LE(6);
  const base = lastFCntDown === null ? 0 : lastFCntDown + 1;
  const fCnt32 = (base & ~0xffff) + fCnt16 + ((fCnt16 < (base & 0xffff)) ? 0x10000 : 0);
  const micInput = phy.subarray(0, micAt);
  if (!timingSafeEqual(computeDownlinkMic(keys.nwkSKey, micInput, phy.subarray(1, 5), fCnt32 >>> 0), phy.subarray(micAt))) return null;
  const hasPort = 8 + fOptsLen < micAt;
  const fPort = hasPort ? phy[8 + fOptsLen]! : null;
  const encrypted = hasPort ? phy.subarray(9 + fOptsLen, micAt) : Buffer.alloc(0);
  const key = fPort === 0 ? keys.nwkSKey : keys.appSKey;
  return {
    confirmed: mType === 5,
    devAddr,
    ack: (fCtrl & 0x20) !== 0,
    adr: (fCtrl & 0x80) !== 0,
    fPending: (fCtrl & 0x10) !== 0,
    fCnt32: fCnt32 >>> 0,
    fOpts: Buffer.from(phy.subarray(8, 8 + fOptsLen)),
    fPort,
    payload: encrypted.length > 0 ? cryptFrmPayload(key, encrypted, phy.subarray(1, 5), fCnt32 >>> 0, 'down') : Buffer.alloc(0),
  };
}
