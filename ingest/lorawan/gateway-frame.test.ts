import { createRequire } from 'node:module';
import gwPb from '@chirpstack/chirpstack-api/gw/gw_pb.js';
import commonPb from '@chirpstack/chirpstack-api/common/common_pb.js';
import { describe, expect, it } from 'vitest';
import {
  decodeGatewayStatsJson,
  decodeGatewayStatsProtobuf,
  decodeUplinkFrameJson,
  decodeUplinkFrameProtobuf,
  receptionOf,
  type GatewayUplinkFrame,
} from './gateway-frame.js';
import { hex, loraPacket } from './test-vectors.js';

const { UplinkFrame, UplinkTxInfo, UplinkRxInfo, Modulation, LoraModulationInfo, GatewayStats, CodeRate, CRCStatus } = gwPb;
const { Location } = commonPb;
type TimestampMessage = NonNullable<Parameters<InstanceType<typeof UplinkRxInfo>['setGwTime']>[0]>;
type CrcStatus = (typeof CRCStatus)[keyof typeof CRCStatus];
// google-protobuf (a dependency of @chirpstack/chirpstack-api, not of stadtfunk) is not
// typed for direct import; only Timestamp.fromDate is needed to build test messages.
const { Timestamp } = createRequire(import.meta.url)('google-protobuf/google/protobuf/timestamp_pb.js') as {
  Timestamp: { fromDate(date: Date): TimestampMessage };
};

const GW_TIME = new Date('2025-03-01T08:00:00.123Z');

function officialUplinkFrame(crc: CrcStatus = CRCStatus.CRC_OK): Uint8Array {
  const lora = new LoraModulationInfo();
  lora.setBandwidth(125_000);
  lora.setSpreadingFactor(10);
  lora.setCodeRate(CodeRate.CR_4_5);
  const modulation = new Modulation();
  modulation.setLora(lora);
  const tx = new UplinkTxInfo();
  tx.setFrequency(450_500_000);
  tx.setModulation(modulation);
  const rx = new UplinkRxInfo();
  rx.setGatewayId('0016C001FF10A235');
  rx.setUplinkId(4_242_424);
  rx.setGwTime(Timestamp.fromDate(GW_TIME));
  rx.setRssi(-97);
  rx.setSnr(5.5);
  rx.setChannel(2);
  rx.setContext(hex('0a0b0c0d'));
  rx.setCrcStatus(crc);
  rx.getMetadataMap().set('region_config_id', 'de450');
  const up = new UplinkFrame();
  up.setPhyPayload(hex(loraPacket.testFrame));
  up.setTxInfo(tx);
  up.setRxInfo(rx);
  return up.serializeBinary();
}

/** The same frame as the gateway bridge writes it with its JSON marshaler (protojson). */
const bridgeJson = {
  phyPayload: hex(loraPacket.testFrame).toString('base64'),
  txInfo: { frequency: 450500000, modulation: { lora: { bandwidth: 125000, spreadingFactor: 10, codeRate: 'CR_4_5' } } },
  rxInfo: {
    gatewayId: '0016c001ff10a235',
    uplinkId: 4242424,
    gwTime: '2025-03-01T08:00:00.123Z',
    rssi: -97,
    snr: 5.5,
    channel: 2,
    context: 'CgsMDQ==',
    metadata: { region_config_id: 'de450' },
    crcStatus: 'CRC_OK',
  },
};

const expected: GatewayUplinkFrame = {
  phyPayload: hex(loraPacket.testFrame),
  gatewayId: '0016c001ff10a235',
  uplinkId: 4_242_424,
  frequencyHz: 450_500_000,
  modulation: 'lora',
  spreadingFactor: 10,
  bandwidthHz: 125_000,
  codeRate: 'CR_4_5',
  rssiDbm: -97,
  snrDb: 5.5,
  gwTime: GW_TIME,
  nsTime: null,
  context: hex('0a0b0c0d'),
  metadata: { region_config_id: 'de450' },
};

describe('gw.UplinkFrame', () => {
  it('decodes a frame built and serialised with the official chirpstack-api classes', () => {
    expect(decodeUplinkFrameProtobuf(officialUplinkFrame())).toEqual({ ok: true, value: expected });
  });

  it('decodes the gateway bridge\'s JSON of the same frame to the same value', () => {
    expect(decodeUplinkFrameJson(JSON.stringify(bridgeJson))).toEqual({ ok: true, value: expected });
    expect(decodeUplinkFrameJson(Buffer.from(JSON.stringify(bridgeJson)))).toEqual({ ok: true, value: expected });
  });

  it('reads omitted proto3 defaults: snr 0 dB, no frequency, no modulation', () => {
    const json = { phyPayload: bridgeJson.phyPayload, rxInfo: { gatewayId: '0016c001ff10a235', crcStatus: 'CRC_OK' } };
    const result = decodeUplinkFrameJson(JSON.stringify(json));
    expect(result.ok && result.value).toMatchObject({ snrDb: 0, rssiDbm: 0, frequencyHz: null, modulation: null, spreadingFactor: null, gwTime: null, uplinkId: null });
  });

  it.each([
    ['BAD_CRC', CRCStatus.BAD_CRC],
    ['NO_CRC', CRCStatus.NO_CRC],
  ])('rejects a frame with CRC status %s', (_name, crc) => {
    expect(decodeUplinkFrameProtobuf(officialUplinkFrame(crc))).toMatchObject({ ok: false, reason: 'crc_not_ok' });
  });

  it('rejects JSON without crcStatus (proto3 default NO_CRC)', () => {
    const { crcStatus: _omitted, ...rxInfo } = bridgeJson.rxInfo;
    expect(decodeUplinkFrameJson(JSON.stringify({ ...bridgeJson, rxInfo }))).toMatchObject({ ok: false, reason: 'crc_not_ok' });
  });

  it.each([
    ['text that is not JSON', '{"phyPayload":', 'invalid_json'],
    ['a message without rxInfo', JSON.stringify({ phyPayload: bridgeJson.phyPayload }), 'invalid_message'],
    ['a gateway ID that is not 16 hex digits', JSON.stringify({ ...bridgeJson, rxInfo: { ...bridgeJson.rxInfo, gatewayId: 'gw-1' } }), 'invalid_message'],
    ['a phyPayload that is not base64', JSON.stringify({ ...bridgeJson, phyPayload: 'not base64!' }), 'invalid_message'],
    ['an empty phyPayload', JSON.stringify({ ...bridgeJson, phyPayload: '' }), 'invalid_message'],
    ['a gwTime that is not a timestamp', JSON.stringify({ ...bridgeJson, rxInfo: { ...bridgeJson.rxInfo, gwTime: 'yesterday' } }), 'invalid_message'],
    ['a gwTime in year 0 (RFC 3339, but no time PostgreSQL stores)', JSON.stringify({ ...bridgeJson, rxInfo: { ...bridgeJson.rxInfo, gwTime: '0000-01-01T00:00:00Z' } }), 'invalid_message'],
  ])('rejects %s', (_name, text, reason) => {
    const result = decodeUplinkFrameJson(text);
    expect(result).toMatchObject({ ok: false, reason });
    expect(!result.ok && result.detail.length).toBeGreaterThan(0);
  });

  it.each([
    ['rxInfo.gwTime', '2026-02-30T10:00:00Z', 'has no day 30'],
    ['rxInfo.gwTime', '2026-11-24T24:00:00Z', 'has hour 24'],
    ['rxInfo.nsTime', '2026-11-24T12:00:00', 'is not an RFC 3339 time with an offset'],
    ['rxInfo.nsTime', '1', 'is not an RFC 3339 time with an offset'],
  ])('rejects a %s JavaScript would bend (%s), naming the field', (field, time, problem) => {
    const key = field.split('.')[1]!;
    const result = decodeUplinkFrameJson(JSON.stringify({ ...bridgeJson, rxInfo: { ...bridgeJson.rxInfo, [key]: time } }));
    expect(result).toMatchObject({ ok: false, reason: 'invalid_message' });
    expect(!result.ok && result.detail).toContain(`${field} "${time}" ${problem}`);
  });

  it('rejects a stats time JavaScript would bend, naming the field', () => {
    const result = decodeGatewayStatsJson(JSON.stringify({ gatewayId: '0016c001f153a14c', time: '2026-02-30T10:00:00Z' }));
    expect(result).toMatchObject({ ok: false, reason: 'invalid_message', detail: 'time "2026-02-30T10:00:00Z" has no day 30: 2026-02 has 28 days' });
  });

  it('rejects a protobuf gwTime before 1970 or beyond what JavaScript can write', () => {
    for (const seconds of [-1, -59011459200, 9e15]) {
      const up = UplinkFrame.deserializeBinary(officialUplinkFrame());
      const at = up.getRxInfo()!.getGwTime()!;
      at.setSeconds(seconds);
      const result = decodeUplinkFrameProtobuf(up.serializeBinary());
      expect(result, String(seconds)).toMatchObject({ ok: false, reason: 'invalid_message' });
      expect(!result.ok && result.detail, String(seconds)).toContain(`${seconds} s`);
    }
  });

  it('rejects bytes that are not a gw.UplinkFrame', () => {
    const result = decodeUplinkFrameProtobuf(hex('ffffffffffff'));
    expect(result.ok).toBe(false);
    expect(!result.ok && ['invalid_protobuf', 'invalid_message']).toContain(!result.ok && result.reason);
  });

  it('rejects a protobuf frame without rxInfo', () => {
    const up = new UplinkFrame();
    up.setPhyPayload(hex(loraPacket.testFrame));
    expect(decodeUplinkFrameProtobuf(up.serializeBinary())).toMatchObject({ ok: false, reason: 'invalid_message' });
  });
});

describe('receptionOf', () => {
  it('takes the concentrator\'s GPS time, else the arrival time', () => {
    const arrived = new Date('2025-03-01T08:00:01Z');
    expect(receptionOf(expected, arrived)).toMatchObject({ gatewayId: '0016c001ff10a235', receivedAt: GW_TIME, rssiDbm: -97, snrDb: 5.5, frequencyHz: 450_500_000, spreadingFactor: 10 });
    expect(receptionOf({ ...expected, gwTime: null }, arrived).receivedAt).toBe(arrived);
  });
});

describe('gw.GatewayStats', () => {
  function officialStats(): Uint8Array {
    const stats = new GatewayStats();
    stats.setGatewayId('0016c001ff10a235');
    stats.setTime(Timestamp.fromDate(GW_TIME));
    const location = new Location();
    location.setLatitude(52.52);
    location.setLongitude(13.405);
    location.setAltitude(34);
    stats.setLocation(location);
    stats.setConfigVersion('7');
    stats.setRxPacketsReceived(120);
    stats.setRxPacketsReceivedOk(117);
    stats.setTxPacketsReceived(3);
    stats.setTxPacketsEmitted(3);
    stats.getMetadataMap().set('concentratord_version', '4.4.0');
    return stats.serializeBinary();
  }

  const expectedStats = {
    gatewayId: '0016c001ff10a235',
    time: GW_TIME,
    location: { latitude: 52.52, longitude: 13.405, altitudeM: 34 },
    configVersion: '7',
    rxPacketsReceived: 120,
    rxPacketsReceivedOk: 117,
    txPacketsReceived: 3,
    txPacketsEmitted: 3,
    metadata: { concentratord_version: '4.4.0' },
  };

  it('decodes stats built with the official classes', () => {
    expect(decodeGatewayStatsProtobuf(officialStats())).toEqual({ ok: true, value: expectedStats });
  });

  it('decodes the bridge\'s JSON stats to the same value', () => {
    const json = {
      gatewayId: '0016c001ff10a235',
      time: '2025-03-01T08:00:00.123Z',
      location: { latitude: 52.52, longitude: 13.405, altitude: 34 },
      configVersion: '7',
      rxPacketsReceived: 120,
      rxPacketsReceivedOk: 117,
      txPacketsReceived: 3,
      txPacketsEmitted: 3,
      metadata: { concentratord_version: '4.4.0' },
      rxPacketsPerFrequency: { '450500000': 120 },
    };
    expect(decodeGatewayStatsJson(JSON.stringify(json))).toEqual({ ok: true, value: expectedStats });
  });

  it('falls back to the legacy 8-byte gateway ID of older bridges', () => {
    const stats = new GatewayStats();
    stats.setGatewayIdLegacy(hex('0016c001ff10a235'));
    expect(decodeGatewayStatsProtobuf(stats.serializeBinary())).toMatchObject({ ok: true, value: { gatewayId: '0016c001ff10a235', location: null, time: null } });
  });

  it('rejects stats timed in year 0 or beyond what JavaScript can write', () => {
    expect(decodeGatewayStatsJson('{"gatewayId": "0016c001ff10a235", "time": "0000-01-01T00:00:00Z"}')).toMatchObject({ ok: false, reason: 'invalid_message' });
    const stats = GatewayStats.deserializeBinary(officialStats());
    stats.getTime()!.setSeconds(9e15);
    expect(decodeGatewayStatsProtobuf(stats.serializeBinary())).toMatchObject({ ok: false, reason: 'invalid_message' });
  });

  it('rejects stats without a gateway ID', () => {
    expect(decodeGatewayStatsJson('{"rxPacketsReceived": 3}')).toMatchObject({ ok: false, reason: 'invalid_message' });
  });
});

describe('gw.UplinkFrame read from the wire', () => {
  /** A small deterministic generator (xorshift32), so a failure names a reproducible case. */
  function random(seed: number): () => number {
    let x = seed || 1;
    return () => {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      return (x >>> 0) / 2 ** 32;
    };
  }

  it('reads 300 random frames built with the official classes to the values they were built from', () => {
    const next = random(7);
    const int = (lo: number, hi: number) => lo + Math.floor(next() * (hi - lo + 1));
    for (let n = 0; n < 300; n++) {
      const phy = Buffer.from(Array.from({ length: int(12, 60) }, () => int(0, 255)));
      const rssi = int(-140, 10);
      const snr = Math.fround(int(-200, 150) / 10);
      const gwTime = new Date(Date.UTC(2020, 0, 1) + int(0, 2 ** 31) * 1000 + int(0, 999));
      const codeRates = [CodeRate.CR_4_5, CodeRate.CR_4_6, CodeRate.CR_4_7, CodeRate.CR_4_8];
      const lora = new LoraModulationInfo();
      lora.setBandwidth([125_000, 250_000, 500_000][int(0, 2)]!);
      lora.setSpreadingFactor(int(7, 12));
      lora.setCodeRate(codeRates[int(0, 3)]!);
      lora.setPolarizationInversion(next() < 0.5);
      const modulation = new Modulation();
      modulation.setLora(lora);
      const tx = new UplinkTxInfo();
      tx.setFrequency(int(450_000_000, 870_000_000));
      tx.setModulation(modulation);
      const rx = new UplinkRxInfo();
      const gatewayId = Array.from({ length: 16 }, () => '0123456789abcdef'[int(0, 15)]).join('');
      rx.setGatewayId(next() < 0.5 ? gatewayId.toUpperCase() : gatewayId);
      rx.setUplinkId(int(0, 0xffffffff));
      if (next() < 0.7) rx.setGwTime(Timestamp.fromDate(gwTime));
      rx.setRssi(rssi);
      rx.setSnr(snr);
      rx.setChannel(int(0, 7));
      rx.setRfChain(int(0, 1));
      const context = Buffer.from(Array.from({ length: int(0, 8) }, () => int(0, 255)));
      rx.setContext(context);
      rx.setCrcStatus(CRCStatus.CRC_OK);
      const keys = int(0, 3);
      const metadata: Record<string, string> = {};
      for (let k = 0; k < keys; k++) metadata[`k${k}`] = `v${int(0, 1e6)}`;
      for (const [k, v] of Object.entries(metadata)) rx.getMetadataMap().set(k, v);
      const up = new UplinkFrame();
      up.setPhyPayload(phy);
      up.setTxInfo(tx);
      up.setRxInfo(rx);
      const result = decodeUplinkFrameProtobuf(up.serializeBinary());
      expect(result, `frame ${n}`).toEqual({
        ok: true,
        value: {
          phyPayload: phy,
          gatewayId,
          uplinkId: rx.getUplinkId() === 0 ? null : rx.getUplinkId(),
          frequencyHz: tx.getFrequency(),
          modulation: 'lora',
          spreadingFactor: lora.getSpreadingFactor(),
          bandwidthHz: lora.getBandwidth(),
          codeRate: Object.entries(CodeRate).find(([, v]) => v === lora.getCodeRate())![0],
          rssiDbm: rssi,
          snrDb: snr,
          gwTime: rx.hasGwTime() ? gwTime : null,
          nsTime: null,
          context,
          metadata,
        },
      });
    }
  });

  it('answers every truncation and 2,000 byte flips of a frame with a result, never an exception', () => {
    const frame = Buffer.from(officialUplinkFrame());
    for (let end = 0; end < frame.length; end++) {
      const result = decodeUplinkFrameProtobuf(frame.subarray(0, end));
      expect(result.ok === true || typeof result.detail === 'string').toBe(true);
    }
    const next = random(11);
    for (let n = 0; n < 2000; n++) {
      const bytes = Buffer.from(frame);
      bytes[Math.floor(next() * bytes.length)] = Math.floor(next() * 256);
      const result = decodeUplinkFrameProtobuf(bytes);
      expect(result.ok === true || typeof result.detail === 'string').toBe(true);
    }
  });

  it('rejects a length prefix that claims more bytes than the message holds', () => {
    // field 1 (phyPayload), length-delimited, length 2^32 - 1 (a varint of five bytes), then nothing
    expect(decodeUplinkFrameProtobuf(hex('0affffffff0f'))).toMatchObject({ ok: false, reason: 'invalid_protobuf' });
    // rxInfo claiming 100 bytes with 2 there
    expect(decodeUplinkFrameProtobuf(hex('2a640a00'))).toMatchObject({ ok: false, reason: 'invalid_protobuf' });
  });

  it('rejects values outside what the JSON schema allows, as the JSON path does', () => {
    const withRx = (set: (rx: InstanceType<typeof UplinkRxInfo>) => void) => {
      const rx = new UplinkRxInfo();
      rx.setGatewayId('0016c001ff10a235');
      rx.setCrcStatus(CRCStatus.CRC_OK);
      set(rx);
      const up = new UplinkFrame();
      up.setPhyPayload(hex(loraPacket.testFrame));
      up.setRxInfo(rx);
      return up.serializeBinary();
    };
    expect(decodeUplinkFrameProtobuf(withRx((rx) => rx.setGatewayId('gw-1')))).toMatchObject({ ok: false, reason: 'invalid_message' });
    expect(decodeUplinkFrameProtobuf(withRx((rx) => rx.setRssi(-400)))).toMatchObject({ ok: false, reason: 'invalid_message' });
    expect(decodeUplinkFrameProtobuf(withRx((rx) => rx.setSnr(500)))).toMatchObject({ ok: false, reason: 'invalid_message' });
    expect(decodeUplinkFrameProtobuf(withRx((rx) => rx.getMetadataMap().set('k', 'x'.repeat(2000))))).toMatchObject({ ok: false, reason: 'invalid_message' });
    // google-protobuf's map cannot even hold the key __proto__: the bytes are written by hand.
    const field = (n: number, bytes: Buffer) => Buffer.concat([Buffer.from([(n << 3) | 2, bytes.length]), bytes]);
    const entry = Buffer.concat([field(1, Buffer.from('__proto__')), field(2, Buffer.from('x'))]);
    const rxInfo = Buffer.concat([field(1, Buffer.from('0016c001ff10a235')), field(15, entry), Buffer.from([0x80, 0x01, CRCStatus.CRC_OK])]); // field 16 as a varint tag: 0x80 0x01
    const result = decodeUplinkFrameProtobuf(Buffer.concat([field(1, hex(loraPacket.testFrame)), field(5, rxInfo)]));
    expect(result.ok && Object.getPrototypeOf(result.value.metadata)).toBe(Object.prototype);
    expect(result.ok && Object.entries(result.value.metadata)).toEqual([['__proto__', 'x']]);
  });
});

describe('gw.UplinkFrame with rxInfo sent twice', () => {
  it('merges the two, as protobuf parsers merge a repeated embedded message', () => {
    const field = (n: number, bytes: Buffer) => Buffer.concat([Buffer.from([(n << 3) | 2, bytes.length]), bytes]);
    const first = Buffer.concat([field(1, Buffer.from('0016c001ff10a235')), Buffer.from([6 << 3, 0xc4, 0xff, 0xff, 0xff, 0x0f])]); // rssi -60
    const second = Buffer.from([0x80, 0x01, CRCStatus.CRC_OK]); // crcStatus only
    const result = decodeUplinkFrameProtobuf(Buffer.concat([field(1, hex(loraPacket.testFrame)), field(5, first), field(5, second)]));
    expect(result).toMatchObject({ ok: true, value: { gatewayId: '0016c001ff10a235', rssiDbm: -60 } });
  });
});
