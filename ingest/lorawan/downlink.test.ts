import { describe, expect, it } from 'vitest';
import gwPb from '@chirpstack/chirpstack-api/gw/gw_pb.js';
import durationPb from 'google-protobuf/google/protobuf/duration_pb.js';
import { buildDownlinkFrame, openDownlinkFrame } from './downlink-frame.js';
import { decodeGatewayDownlink, decodeGatewayTxAck, encodeGatewayDownlink, encodeGatewayTxAck, txAckOutcome, type GatewayDownlink } from './gateway-downlink.js';
import { encodeDownlinkMac, parseDownlinkMac, type DownlinkMacCommand } from './mac-downlink.js';
import { loraPacket as lp } from './lora-packet-reference.js';
import { hex, loraPacket } from './test-vectors.js';

const nwkSKey = hex(loraPacket.nwkSKey);
const appSKey = hex(loraPacket.appSKey);
const keys = { devAddr: '49be7df1', nwkSKey, appSKey };

describe('downlink data frames (spec 1.0.4 §4.3, MIC with Dir = 1)', () => {
  it('builds lora-packet\'s "data packet MIC for ACK" downlink byte for byte', () => {
    expect(buildDownlinkFrame({ devAddr: '49be7df1', fCnt32: 2, ack: true, fPort: 1, nwkSKey }).toString('hex')).toBe(loraPacket.ackDownlinkFrame);
  });

  it('encrypts an application payload lora-packet decrypts, and a device opens it again', () => {
    const phy = buildDownlinkFrame({ ...keys, fCnt32: 70_000, confirmed: true, fPort: 12, payload: Buffer.from('dim 40'), fOpts: encodeDownlinkMac([{ name: 'DevStatusReq' }]) });
    const packet = lp.fromWire(phy);
    expect(packet.getMType()).toBe('Confirmed Data Down');
    expect(lp.decrypt(packet, appSKey, nwkSKey, Buffer.from([1, 0])).toString()).toBe('dim 40');
    expect(lp.verifyMIC(packet, nwkSKey, undefined, Buffer.from([1, 0]))).toBe(true);
    const opened = openDownlinkFrame(phy, keys, 69_999);
    expect(opened).toMatchObject({ confirmed: true, fCnt32: 70_000, fPort: 12 });
    expect(opened!.payload.toString()).toBe('dim 40');
    expect(parseDownlinkMac(opened!.fOpts)).toEqual([{ name: 'DevStatusReq' }]);
    expect(openDownlinkFrame(phy, { ...keys, nwkSKey: appSKey }, 69_999)).toBeNull();
  });

  it('puts MAC commands on FPort 0 encrypted with the NwkSKey', () => {
    const mac = encodeDownlinkMac([{ name: 'LinkADRReq', dataRate: 5, txPowerIndex: 1, channelMask: 0xff, channelMaskControl: 0, nbTrans: 1 }]);
    const opened = openDownlinkFrame(buildDownlinkFrame({ ...keys, fCnt32: 0, fPort: 0, payload: mac }), keys, null)!;
    expect(opened.fPort).toBe(0);
    expect(parseDownlinkMac(opened.payload)).toEqual([{ name: 'LinkADRReq', dataRate: 5, txPowerIndex: 1, channelMask: 0xff, channelMaskControl: 0, nbTrans: 1 }]);
    expect(() => buildDownlinkFrame({ ...keys, fCnt32: 0, fPort: 0, payload: mac, fOpts: mac })).toThrow(/either/);
  });
});

describe('downlink MAC commands (spec 1.0.4 §5)', () => {
  it('encodes LinkCheckAns, LinkADRReq, DevStatusReq and DeviceTimeAns with their CIDs and lengths', () => {
    const time = new Date('2026-12-05T10:00:00.500Z');
    const commands: DownlinkMacCommand[] = [
      { name: 'LinkCheckAns', marginDb: 12, gatewayCount: 3 },
      { name: 'LinkADRReq', dataRate: 5, txPowerIndex: 2, channelMask: 0x0000, channelMaskControl: 6, nbTrans: 1 },
      { name: 'DevStatusReq' },
      { name: 'DeviceTimeAns', time },
    ];
    const bytes = encodeDownlinkMac(commands);
    expect(bytes.toString('hex')).toBe('020c03' + '0352000061' + '06' + '0d' + bytes.subarray(10).toString('hex'));
    // GPS seconds: 2026-12-05T10:00:00Z is 1,449,050,400 s after 1980-01-06 in UTC; GPS runs 18 s ahead.
    expect(bytes.readUInt32LE(10)).toBe((Date.UTC(2026, 11, 5, 10) - Date.UTC(1980, 0, 6)) / 1000 + 18);
    expect(bytes[14]).toBe(128);
    expect(parseDownlinkMac(bytes)).toEqual(commands);
  });

  it('keeps a margin within 0–254', () => {
    expect(encodeDownlinkMac([{ name: 'LinkCheckAns', marginDb: -3, gatewayCount: 1 }])[1]).toBe(0);
  });
});

describe('gateway bridge downlink messages (gw.proto)', () => {
  const frame: GatewayDownlink = {
    downlinkId: 4_000_000_123,
    gatewayId: '0016c001f1500002',
    context: Buffer.from('00112233', 'hex'),
    items: [
      { phyPayload: hex(loraPacket.ackDownlinkFrame), tx: { window: 'rx1', frequencyHz: 868_300_000, dataRate: 5, spreadingFactor: 7, bandwidthHz: 125_000, powerDbm: 16, delayS: 1 } },
      { phyPayload: hex(loraPacket.ackDownlinkFrame), tx: { window: 'rx2', frequencyHz: 869_525_000, dataRate: 0, spreadingFactor: 12, bandwidthHz: 125_000, powerDbm: 29, delayS: 2 } },
    ],
  };

  it.each(['json', 'protobuf'] as const)('writes a DownlinkFrame in %s that reads back to the same frame', (encoding) => {
    const bytes = encodeGatewayDownlink(frame, encoding);
    const back = decodeGatewayDownlink(bytes);
    expect(back).toEqual({ ...frame, items: frame.items.map((i) => ({ ...i, tx: { ...i.tx, dataRate: -1 } })) });
  });

  /** The same frame through google-protobuf's generated classes (what the bridge's gw.proto defines). */
  function generated(f: GatewayDownlink): Buffer {
    const out = new gwPb.DownlinkFrame();
    out.setDownlinkId(f.downlinkId);
    out.setGatewayId(f.gatewayId);
    out.setItemsList(f.items.map((item) => {
      const lora = new gwPb.LoraModulationInfo();
      lora.setBandwidth(item.tx.bandwidthHz);
      lora.setSpreadingFactor(item.tx.spreadingFactor);
      lora.setCodeRate(gwPb.CodeRate.CR_4_5);
      lora.setPolarizationInversion(true);
      const modulation = new gwPb.Modulation();
      modulation.setLora(lora);
      const duration = new durationPb.Duration();
      duration.setSeconds(item.tx.delayS);
      const delay = new gwPb.DelayTimingInfo();
      delay.setDelay(duration);
      const timing = new gwPb.Timing();
      timing.setDelay(delay);
      const tx = new gwPb.DownlinkTxInfo();
      tx.setFrequency(item.tx.frequencyHz);
      tx.setPower(item.tx.powerDbm);
      tx.setModulation(modulation);
      tx.setTiming(timing);
      tx.setContext(new Uint8Array(f.context));
      const i = new gwPb.DownlinkFrameItem();
      i.setPhyPayload(new Uint8Array(item.phyPayload));
      i.setTxInfo(tx);
      return i;
    }));
    return Buffer.from(out.serializeBinary());
  }

  it('writes the same protobuf bytes as the generated classes', () => {
    const join = { window: 'rx1' as const, frequencyHz: 451_350_000, dataRate: 3, spreadingFactor: 9, bandwidthHz: 250_000, powerDbm: -3, delayS: 5 };
    const variants: GatewayDownlink[] = [
      frame,
      { ...frame, downlinkId: 0, context: Buffer.alloc(0) },
      { ...frame, downlinkId: 1, gatewayId: '', items: [{ phyPayload: Buffer.alloc(200, 7), tx: join }, { phyPayload: Buffer.alloc(33, 1), tx: { ...join, window: 'rx2', delayS: 6, powerDbm: 20 } }] },
      { ...frame, downlinkId: 0xffffffff, context: Buffer.alloc(8, 0xee), items: [{ phyPayload: Buffer.alloc(0), tx: { ...join, frequencyHz: 0, powerDbm: 0, delayS: 0 } }] },
    ];
    for (const v of variants) expect(encodeGatewayDownlink(v, 'protobuf').toString('hex')).toBe(generated(v).toString('hex'));
  });

  it('writes protojson field names, enum names and the delay as a Duration string', () => {
    const json = JSON.parse(encodeGatewayDownlink(frame, 'json').toString());
    expect(json.items[0].txInfo).toEqual({
      frequency: 868_300_000, power: 16, context: 'ABEiMw==', timing: { delay: { delay: '1s' } },
      modulation: { lora: { bandwidth: 125_000, spreadingFactor: 7, codeRate: 'CR_4_5', polarizationInversion: true } },
    });
  });

  it.each(['json', 'protobuf'] as const)('reads a DownlinkTxAck in %s: which window went out, or why none did', (encoding) => {
    const read = (statuses: string[]) => {
      const r = decodeGatewayTxAck(encodeGatewayTxAck({ gatewayId: '0016c001f1500002', downlinkId: 77, statuses }, encoding), encoding === 'json');
      if (!r.ok) throw new Error(r.detail);
      return r.value;
    };
    expect(read(['OK', 'IGNORED'])).toEqual({ gatewayId: '0016c001f1500002', downlinkId: 77, statuses: ['OK', 'IGNORED'] });
    expect(txAckOutcome(read(['OK', 'IGNORED']))).toEqual({ status: 'OK', window: 'rx1' });
    expect(txAckOutcome(read(['TOO_LATE', 'OK']))).toEqual({ status: 'OK', window: 'rx2' });
    expect(txAckOutcome(read(['COLLISION_PACKET', 'DUTY_CYCLE_OVERFLOW']))).toEqual({ status: 'COLLISION_PACKET', window: null });
  });

  it('refuses a malformed ack with a reason', () => {
    expect(decodeGatewayTxAck(Buffer.from('{"gatewayId":"x"}'), true)).toMatchObject({ ok: false, reason: 'invalid_message' });
    expect(decodeGatewayTxAck(Buffer.from('{'), true)).toMatchObject({ ok: false, reason: 'invalid_json' });
    expect(decodeGatewayTxAck(Buffer.from([0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f]), false)).toMatchObject({ ok: false, reason: 'invalid_protobuf' });
  });
});
