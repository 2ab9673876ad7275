/**
 * Builds LoRaWAN 1.0.x uplink data frames the way an ABP end-device does: encrypt
 * FRMPayload with the full 32-bit counter, put its 16 low bits on the air, MIC over
 * B0 | msg. Used by tests, the crypto benchmark and simulators, so they send exactly
 * what a real device sends.
 */
import { cryptFrmPayload, frmPayloadKeyFor } from './decrypt.js';
import { computeUplinkMic } from './mic.js';
import { devAddrToWire, MAX_PHY_PAYLOAD_BYTES } from './phy-payload.js';

export interface UplinkFrameFields {
  /** 8 hex digits, most significant byte first. */
  devAddr: string;
  /** Full 32-bit counter; only its low 16 bits are transmitted. */
  fCnt32: number;
  /** null: no port and no payload. Default 1. */
  fPort?: number | null;
  /** Plaintext FRMPayload (for FPort 0: MAC commands). Default empty. */
  payload?: Buffer;
  confirmed?: boolean;
  adr?: boolean;
  adrAckReq?: boolean;
  ack?: boolean;
  /** Plain MAC commands for FOpts, at most 15 bytes. */
  fOpts?: Buffer;
  nwkSKey: Buffer;
  /** Needed when fPort is 1–223. */
  appSKey?: Buffer;
}

/** The PHYPayload bytes of an uplink data frame. */
export function buildUplinkFrame(fields: UplinkFrameFields): Buffer {
  const fPort = fields.fPort === undefined ? 1 : fields.fPort;
  const payload = fields.payload ?? Buffer.alloc(0);
  const fOpts = fields.fOpts ?? Buffer.alloc(0);
  if (fOpts.length > 15) throw new RangeError('FOpts holds at most 15 bytes');
  if (fPort === null && payload.length > 0) throw new RangeError('a payload needs an FPort');
  const devAddrWire = devAddrToWire(fields.devAddr);

  let encrypted: Buffer = Buffer.alloc(0);
  if (fPort !== null && payload.length > 0) {
    const keyName = frmPayloadKeyFor(fPort);
    if (keyName === null) throw new RangeError(`FPort ${fPort} is reserved`);
    const key = keyName === 'nwkSKey' ? fields.nwkSKey : fields.appSKey;
    if (!key) throw new TypeError(`FPort ${fPort} needs an AppSKey`);
    encrypted = cryptFrmPayload(key, payload, devAddrWire, fields.fCnt32, 'up');
  }

  const header = Buffer.alloc(8);
  header[0] = (fields.confirmed ? 4 : 2) << 5;
  devAddrWire.copy(header, 1);
  header[5] = (fields.adr ? 0x80 : 0) | (fields.adrAckReq ? 0x40 : 0) | (fields.ack ? 0x20 : 0) | fOpts.length;
  header.writeUInt16LE(fields.fCnt32 & 0xffff, 6);
  const micInput = Buffer.concat([header, fOpts, fPort === null ? Buffer.alloc(0) : Buffer.from([fPort]), encrypted]);
  if (micInput.length + 4 > MAX_PHY_PAYLOAD_BYTES) throw new RangeError('frame longer than 255 bytes');
  return Buffer.concat([micInput, computeUplinkMic(fields.nwkSKey, micInput, devAddrWire, fields.fCnt32)]);
}
