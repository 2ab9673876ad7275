import { createCipheriv, randomBytes } from 'node:crypto';
import { loraPacket as loraPacketLib } from './lora-packet-reference.js';
import { describe, expect, it } from 'vitest';
import { cryptFrmPayload, decryptUplinkPayload, frmPayloadKeyFor } from './decrypt.js';
import { buildUplinkFrame } from './frame-builder.js';
import { parsePhyPayload, type DataUpFrame } from './phy-payload.js';
import { chirpstackLrwn, hex, loraPacket } from './test-vectors.js';

function frameOf(bytes: Buffer): DataUpFrame {
  const result = parsePhyPayload(bytes);
  if (!result.ok) throw new Error(result.detail);
  return result.frame;
}

/** The keystream block by block as spec 1.0.4 §4.3.3 writes it, with a fresh AES-ECB context: the reference for decrypt.ts, which encrypts all A blocks in one call of a context kept per key. */
function specKeystreamXor(key: Buffer, payload: Buffer, devAddrWire: Buffer, fCnt32: number): Buffer {
  const out = Buffer.alloc(payload.length);
  const ecb = createCipheriv('aes-128-ecb', key, null);
  ecb.setAutoPadding(false);
  for (let i = 1; (i - 1) * 16 < payload.length; i++) {
    const a = Buffer.alloc(16);
    a[0] = 0x01;
    devAddrWire.copy(a, 6);
    a.writeUInt32LE(fCnt32, 10);
    a[15] = i;
    const s = ecb.update(a);
    for (let j = 0; j < 16 && (i - 1) * 16 + j < payload.length; j++) out[(i - 1) * 16 + j] = (payload[(i - 1) * 16 + j] ?? 0) ^ (s[j] ?? 0);
  }
  return out;
}

describe('FRMPayload decryption', () => {
  it('decrypts lora-packet\'s "test" vector (decrypt_test.ts)', () => {
    const frame = frameOf(hex(loraPacket.testFrame));
    expect(decryptUplinkPayload(hex(loraPacket.appSKey), frame.frmPayload, frame.devAddrWire, 2).toString()).toBe(loraPacket.testPlaintext);
  });

  it('decrypts lora-packet\'s 44-byte payload across three keystream blocks (decrypt_test.ts)', () => {
    const frame = frameOf(hex(loraPacket.largeFrame));
    expect(decryptUplinkPayload(hex(loraPacket.appSKey), frame.frmPayload, frame.devAddrWire, 4).toString()).toBe(loraPacket.largePlaintext);
  });

  it('scrambles under a wrong key exactly as lora-packet\'s "bad key" vector (decrypt_test.ts)', () => {
    const frame = frameOf(hex(loraPacket.testFrame));
    expect(decryptUplinkPayload(hex(loraPacket.wrongAppSKey), frame.frmPayload, frame.devAddrWire, 2).toString('hex')).toBe(loraPacket.wrongKeyOutput);
  });

  it('decrypts ChirpStack lrwn\'s 1.0.x confirmed-uplink doc-test payload to 01020304', () => {
    const frame = frameOf(hex(chirpstackLrwn.confirmedUplink));
    expect(decryptUplinkPayload(hex(chirpstackLrwn.appSKey), frame.frmPayload, frame.devAddrWire, 0).toString('hex')).toBe(chirpstackLrwn.plaintext);
  });

  it('matches the spec\'s block-by-block A_i keystream for a 242-byte payload (16 blocks)', () => {
    const key = randomBytes(16);
    const devAddrWire = randomBytes(4);
    const payload = randomBytes(242);
    expect(cryptFrmPayload(key, payload, devAddrWire, 0xfedcba98)).toEqual(specKeystreamXor(key, payload, devAddrWire, 0xfedcba98));
  });

  it('needs the full counter: a frame at 70000 decrypts with 70000, as lora-packet does given upper bits 0x0001', () => {
    const appSKey = hex(loraPacket.appSKey);
    const nwkSKey = hex(loraPacket.nwkSKey);
    const bytes = buildUplinkFrame({ devAddr: '49be7df1', fCnt32: 70_000, fPort: 5, payload: Buffer.from('parking bay 17 free'), nwkSKey, appSKey });
    const frame = frameOf(bytes);
    expect(decryptUplinkPayload(appSKey, frame.frmPayload, frame.devAddrWire, 70_000).toString()).toBe('parking bay 17 free');
    expect(decryptUplinkPayload(appSKey, frame.frmPayload, frame.devAddrWire, 4_464).toString()).not.toBe('parking bay 17 free');
    expect(loraPacketLib.decrypt(loraPacketLib.fromWire(bytes), appSKey, nwkSKey, hex('0100')).toString()).toBe('parking bay 17 free');
  });

  it('gives the spec\'s keystream for every payload length and counter when one key Buffer is used again and again, between uses of another key', () => {
    const key = randomBytes(16);
    const other = randomBytes(16);
    const devAddrWire = Buffer.from('04030201', 'hex');
    for (let length = 1; length <= 242; length += 7) {
      const payload = randomBytes(length);
      const fCnt32 = 65_530 + length;
      expect(cryptFrmPayload(key, payload, devAddrWire, fCnt32).toString('hex')).toBe(specKeystreamXor(key, payload, devAddrWire, fCnt32).toString('hex'));
      expect(cryptFrmPayload(other, payload, devAddrWire, fCnt32).toString('hex')).toBe(specKeystreamXor(other, payload, devAddrWire, fCnt32).toString('hex'));
    }
  });

  it('uses a key Buffer\'s bytes of now when it was changed in place since its last use', () => {
    const key = randomBytes(16);
    const payload = randomBytes(40);
    const devAddrWire = Buffer.from('04030201', 'hex');
    cryptFrmPayload(key, payload, devAddrWire, 1);
    key[0] = (key[0] ?? 0) ^ 0xff;
    expect(cryptFrmPayload(key, payload, devAddrWire, 1).toString('hex')).toBe(specKeystreamXor(Buffer.from(key), payload, devAddrWire, 1).toString('hex'));
  });

  it('is its own inverse', () => {
    const key = randomBytes(16);
    const plain = Buffer.from('occupied');
    expect(cryptFrmPayload(key, cryptFrmPayload(key, plain, hex('01020304'), 9), hex('01020304'), 9)).toEqual(plain);
  });

  it('returns an empty buffer for an empty payload', () => {
    expect(decryptUplinkPayload(randomBytes(16), Buffer.alloc(0), hex('01020304'), 1).length).toBe(0);
  });
});

describe('frmPayloadKeyFor', () => {
  it.each([
    [0, 'nwkSKey'],
    [1, 'appSKey'],
    [223, 'appSKey'],
    [224, null],
    [255, null],
  ])('FPort %i uses %s', (fPort, key) => {
    expect(frmPayloadKeyFor(fPort)).toBe(key);
  });
});
