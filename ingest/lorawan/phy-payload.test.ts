import { describe, expect, it } from 'vitest';
import { devAddrToWire, parsePhyPayload, type DataUpFrame } from './phy-payload.js';
import { chirpstackLrwn, hex, loraPacket } from './test-vectors.js';

function parseOk(frameHex: string): DataUpFrame {
  const result = parsePhyPayload(hex(frameHex));
  if (!result.ok) throw new Error(`expected a data frame, got ${result.reason}: ${result.detail}`);
  return result.frame;
}

describe('parsePhyPayload', () => {
  it('reads the fields of lora-packet\'s unconfirmed uplink vector (README / mic_test.ts)', () => {
    const frame = parseOk(loraPacket.testFrame);
    expect(frame.confirmed).toBe(false);
    expect(frame.devAddr).toBe('49be7df1');
    expect(frame.devAddrWire.toString('hex')).toBe('f17dbe49');
    expect(frame.fCtrl).toEqual({ adr: false, adrAckReq: false, ack: false, classB: false, fOptsLen: 0 });
    expect(frame.fCnt16).toBe(2);
    expect(frame.fOpts.length).toBe(0);
    expect(frame.fPort).toBe(1);
    expect(frame.frmPayload.toString('hex')).toBe('95437876');
    expect(frame.mic.toString('hex')).toBe(loraPacket.testMic);
    expect(frame.micInput.toString('hex')).toBe(loraPacket.testFrame.slice(0, -8).toLowerCase());
  });

  it('reads FOpts and a confirmed uplink from ChirpStack lrwn\'s 1.0.x doc-test frame', () => {
    const frame = parseOk(chirpstackLrwn.confirmedUplink);
    expect(frame.confirmed).toBe(true);
    expect(frame.devAddr).toBe('01020304');
    expect(frame.fCtrl.fOptsLen).toBe(3);
    expect(frame.fOpts.toString('hex')).toBe('067307');
    expect(frame.fCnt16).toBe(0);
    expect(frame.fPort).toBe(10);
    expect(frame.frmPayload.toString('hex')).toBe('e264d4f7');
    expect(frame.mic.toString('hex')).toBe(chirpstackLrwn.mic);
  });

  it('reads ADR, ADRACKReq, ACK and ClassB from FCtrl, and a 16-bit counter little-endian', () => {
    const bytes = hex(loraPacket.testFrame);
    bytes[5] = 0xf0;
    bytes.writeUInt16LE(0xabcd, 6);
    const result = parsePhyPayload(bytes);
    expect(result.ok && result.frame.fCtrl).toEqual({ adr: true, adrAckReq: true, ack: true, classB: true, fOptsLen: 0 });
    expect(result.ok && result.frame.fCnt16).toBe(0xabcd);
  });

  it('treats a frame without FPort as having no payload', () => {
    const frame = parseOk('40f17dbe49000500' + 'deadbeef');
    expect(frame.fPort).toBeNull();
    expect(frame.frmPayload.length).toBe(0);
  });

  it.each([
    ['a join-request', loraPacket.joinRequestFrame, 'join_request_unsupported'],
    ['a rejoin-request (MType 110)', 'c0' + '00'.repeat(18), 'join_request_unsupported'],
    ['a join-accept', loraPacket.joinAcceptFrame, 'downlink_frame'],
    ['an unconfirmed data down', loraPacket.ackDownlinkFrame, 'downlink_frame'],
    ['a confirmed data down', 'a0f17dbe4900020001954378762b11ff0d', 'downlink_frame'],
    ['a proprietary frame (lrwn doc-test)', chirpstackLrwn.proprietary, 'proprietary_frame'],
  ])('rejects %s with a typed reason', (_name, frameHex, reason) => {
    const result = parsePhyPayload(hex(frameHex));
    expect(result.ok).toBe(false);
    expect(!result.ok && result.reason).toBe(reason);
  });

  it.each([
    ['an empty buffer', ''],
    ['a data frame shorter than 12 bytes', '40f17dbe490002002b11ff'],
    ['FOptsLen past the MIC', '40f17dbe4905020001954378762b11ff0d'.slice(0, 26)],
    ['major version 01', '41f17dbe4900020001954378762b11ff0d'],
    ['FPort 0 together with FOpts', '40f17dbe4901020002' + '00' + 'aabbccdd'],
  ])('rejects %s as malformed_frame', (_name, frameHex) => {
    const result = parsePhyPayload(hex(frameHex));
    expect(!result.ok && result.reason).toBe('malformed_frame');
  });

  it('rejects a PHYPayload longer than 255 bytes', () => {
    const result = parsePhyPayload(Buffer.concat([hex(loraPacket.testFrame), Buffer.alloc(250)]));
    expect(!result.ok && result.reason).toBe('malformed_frame');
  });
});

describe('devAddrToWire', () => {
  it('reverses the displayed DevAddr into air order', () => {
    expect(devAddrToWire('49be7df1').toString('hex')).toBe('f17dbe49');
  });
  it('refuses anything but 8 hex digits', () => {
    expect(() => devAddrToWire('49be7df')).toThrow(TypeError);
  });
});
