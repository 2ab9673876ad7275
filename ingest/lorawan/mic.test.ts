import { loraPacket as loraPacketLib } from './lora-packet-reference.js';
import { describe, expect, it } from 'vitest';
import { buildUplinkFrame } from './frame-builder.js';
import { computeUplinkMic, verifyUplinkMic } from './mic.js';
import { parsePhyPayload, type DataUpFrame } from './phy-payload.js';
import { chirpstackLrwn, hex, loraPacket } from './test-vectors.js';

function frameOf(bytes: Buffer): DataUpFrame {
  const result = parsePhyPayload(bytes);
  if (!result.ok) throw new Error(result.detail);
  return result.frame;
}

describe('LoRaWAN 1.0 uplink MIC', () => {
  it('reproduces lora-packet\'s data-up MIC 2b11ff0d (mic_test.ts)', () => {
    const frame = frameOf(hex(loraPacket.testFrame));
    expect(computeUplinkMic(hex(loraPacket.nwkSKey), frame.micInput, frame.devAddrWire, 2).toString('hex')).toBe(loraPacket.testMic);
    expect(verifyUplinkMic(frame, hex(loraPacket.nwkSKey), 2)).toBe(true);
  });

  it('reproduces lora-packet\'s MIC 2a3518af of a frame with an empty payload (mic_test.ts)', () => {
    const frame = frameOf(hex(loraPacket.emptyFrame));
    expect(frame.frmPayload.length).toBe(0);
    expect(verifyUplinkMic(frame, hex(loraPacket.nwkSKey), 3)).toBe(true);
  });

  it('reproduces the MIC of ChirpStack lrwn\'s 1.0.x confirmed-uplink doc-test (FOpts present)', () => {
    const frame = frameOf(hex(chirpstackLrwn.confirmedUplink));
    expect(computeUplinkMic(hex(chirpstackLrwn.nwkSKey), frame.micInput, frame.devAddrWire, 0).toString('hex')).toBe(chirpstackLrwn.mic);
  });

  it('reproduces the MIC of ChirpStack lrwn\'s relay ForwardUplinkReq doc-test (FCnt 10 in B0)', () => {
    const frame = frameOf(hex(chirpstackLrwn.relayForwardUplink));
    expect(frame.fCnt16).toBe(10);
    expect(computeUplinkMic(hex(chirpstackLrwn.relayNwkSKey), frame.micInput, frame.devAddrWire, 10).toString('hex')).toBe(chirpstackLrwn.relayMic);
    expect(verifyUplinkMic(frame, hex(chirpstackLrwn.relayNwkSKey), 11)).toBe(false);
  });

  it('detects a MIC with one wrong byte (lora-packet mic_test.ts "bodged MIC")', () => {
    const frame = frameOf(hex('40F17DBE49000300012A3518AA'));
    expect(verifyUplinkMic(frame, hex(loraPacket.nwkSKey), 3)).toBe(false);
  });

  it('fails under another NwkSKey', () => {
    const frame = frameOf(hex(loraPacket.testFrame));
    expect(verifyUplinkMic(frame, hex(chirpstackLrwn.nwkSKey), 2)).toBe(false);
  });

  describe('a frame at counter 70000 (0x00011170) built with lora-packet\'s published keys', () => {
    const nwkSKey = hex(loraPacket.nwkSKey);
    const appSKey = hex(loraPacket.appSKey);
    const bytes = buildUplinkFrame({ devAddr: '49be7df1', fCnt32: 70_000, fPort: 1, payload: Buffer.from('city'), nwkSKey, appSKey });
    const frame = frameOf(bytes);

    it('carries only the low 16 bits on the air', () => {
      expect(frame.fCnt16).toBe(70_000 - 65_536);
    });

    it('verifies with the full 32-bit counter', () => {
      expect(verifyUplinkMic(frame, nwkSKey, 70_000)).toBe(true);
    });

    it('does not verify with the 16 bits on the air', () => {
      expect(verifyUplinkMic(frame, nwkSKey, 4_464)).toBe(false);
    });

    it('agrees with lora-packet given the counter\'s upper 16 bits (0x0001, in air order 01 00)', () => {
      // lora-packet appends FCntMSBytes to the little-endian 16 bits in B0 as given, so they go in air order.
      const packet = loraPacketLib.fromWire(bytes);
      expect(loraPacketLib.verifyMIC(packet, nwkSKey, undefined, hex('0100'))).toBe(true);
      expect(loraPacketLib.verifyMIC(packet, nwkSKey)).toBe(false);
    });
  });

  it('refuses a counter outside 32 bits', () => {
    const frame = frameOf(hex(loraPacket.testFrame));
    expect(() => computeUplinkMic(hex(loraPacket.nwkSKey), frame.micInput, frame.devAddrWire, 2 ** 32)).toThrow(RangeError);
  });
});
