import { describe, expect, it } from 'vitest';
import integrationPb from '@chirpstack/chirpstack-api/integration/integration_pb.js';
import gwPb from '@chirpstack/chirpstack-api/gw/gw_pb.js';
import timestampPb from 'google-protobuf/google/protobuf/timestamp_pb.js';
import { IngestError } from '../errors.js';
import { chirpstackSource } from './chirpstack.js';

const devEui = '0102030405060708';
const topic = `application/7f2b/device/${devEui}/event/up`;
const json = chirpstackSource({ prefix: 'application', encoding: 'json', now: () => new Date('2026-01-01T00:00:00Z') });
const proto = chirpstackSource({ prefix: 'application', encoding: 'protobuf', now: () => new Date('2026-01-01T00:00:00Z') });

function reason(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    if (e instanceof IngestError) return e.reason;
    throw e;
  }
  return 'no error';
}

// Field names: ChirpStack v4 api/proto/integration/integration.proto (UplinkEvent, StatusEvent, LogEvent).
describe('ChirpStack source', () => {
  it('defaults the fields ChirpStack omits when they hold default values', () => {
    const r = json.parse(topic, Buffer.from(JSON.stringify({ deduplicationId: 'd1', deviceInfo: { devEui } })));
    expect(r.kind).toBe('uplink');
    if (r.kind !== 'uplink') return;
    expect(r.uplink).toMatchObject({ id: 'd1', devEui, fCnt: 0, fPort: 0, confirmed: false, receivedAt: new Date('2026-01-01T00:00:00Z') });
    // Without a time the clock stands in, and the identity is to be claimed (a redelivery brings another clock time).
    expect(r.uplink.localTime).toBe(true);
    const timed = json.parse(topic, Buffer.from(JSON.stringify({ deduplicationId: 'd2', time: '2026-01-01T00:00:01Z', deviceInfo: { devEui } })));
    expect(timed.kind === 'uplink' && timed.uplink.localTime).toBeUndefined();
    expect(r.uplink.payload.length).toBe(0);
    expect(r.uplink.radio.receptions).toEqual([]);
  });

  it('reads a protobuf UplinkEvent built with the official classes', () => {
    const { UplinkEvent, DeviceInfo } = integrationPb;
    const { UplinkRxInfo, UplinkTxInfo, Modulation, LoraModulationInfo } = gwPb;
    const lora = new LoraModulationInfo();
    lora.setBandwidth(125000);
    lora.setSpreadingFactor(9);
    const modulation = new Modulation();
    modulation.setLora(lora);
    const tx = new UplinkTxInfo();
    tx.setFrequency(868300000);
    tx.setModulation(modulation);
    const rx = new UplinkRxInfo();
    rx.setGatewayId('0016c001f153a14c');
    rx.setRssi(-97);
    rx.setSnr(-2.5);
    const info = new DeviceInfo();
    info.setDevEui(devEui);
    const time = new timestampPb.Timestamp();
    time.fromDate(new Date('2026-11-24T08:30:00Z'));
    const up = new UplinkEvent();
    up.setDeduplicationId('5b1e1f5e-0000-0000-0000-000000000001');
    up.setTime(time);
    up.setDeviceInfo(info);
    up.setFCnt(70000);
    up.setFPort(2);
    up.setData(new Uint8Array([1, 2, 3]));
    up.setRxInfoList([rx]);
    up.setTxInfo(tx);
    const r = proto.parse(topic, Buffer.from(up.serializeBinary()));
    expect(r.kind).toBe('uplink');
    if (r.kind !== 'uplink') return;
    expect(r.uplink).toMatchObject({ id: '5b1e1f5e-0000-0000-0000-000000000001', fCnt: 70000, fPort: 2, receivedAt: new Date('2026-11-24T08:30:00Z') });
    expect([...r.uplink.payload]).toEqual([1, 2, 3]);
    expect(r.uplink.radio).toMatchObject({ frequencyHz: 868300000, spreadingFactor: 9, bandwidthHz: 125000 });
    expect(r.uplink.radio.receptions).toEqual([{ gatewayId: '0016c001f153a14c', rssiDbm: -97, snrDb: -2.5, receivedAt: null, best: true }]);
  });

  it('refuses protobuf times before 1970 or beyond what JavaScript can write', () => {
    const { DeviceInfo, UplinkEvent, StatusEvent } = integrationPb;
    const info = new DeviceInfo();
    info.setDevEui(devEui);
    for (const seconds of [-86400, 9e15]) {
      const time = new timestampPb.Timestamp();
      time.setSeconds(seconds);
      const up = new UplinkEvent();
      up.setDeduplicationId('t');
      up.setDeviceInfo(info);
      up.setTime(time);
      expect(reason(() => proto.parse(topic, Buffer.from(up.serializeBinary()))), `uplink ${seconds}`).toBe('invalid_message');
      const status = new StatusEvent();
      status.setDeviceInfo(info);
      status.setTime(time);
      expect(reason(() => proto.parse(topic.replace('/up', '/status'), Buffer.from(status.serializeBinary()))), `status ${seconds}`).toBe('invalid_message');
    }
  });

  it('reads JSON even when protobuf is configured', () => {
    expect(proto.parse(topic, Buffer.from(JSON.stringify({ deduplicationId: 'x', deviceInfo: { devEui } }))).kind).toBe('uplink');
  });

  it('turns a status event into device health', () => {
    const r = json.parse(topic.replace('/up', '/status'), Buffer.from(JSON.stringify({ deviceInfo: { devEui }, margin: 7, batteryLevel: 55.5, time: '2026-11-24T08:00:00Z' })));
    expect(r).toEqual({ kind: 'health', health: { devEui, time: new Date('2026-11-24T08:00:00Z'), batteryLevelPercent: 55.5, externalPower: false, marginDb: 7 } });
  });

  it('dead-letters log events about codec or MIC errors and ignores others', () => {
    const log = (code: string) => json.parse(topic.replace('/up', '/log'), Buffer.from(JSON.stringify({ deviceInfo: { devEui }, level: 'ERROR', code, description: 'boom' })));
    expect(log('UPLINK_CODEC')).toEqual({ kind: 'dead_letter', reason: 'chirpstack_uplink_codec', detail: 'boom', devEui });
    expect(log('UPLINK_MIC')).toMatchObject({ kind: 'dead_letter', reason: 'chirpstack_uplink_mic' });
    expect(log('OTAA')).toEqual({ kind: 'ignored' });
    expect(json.parse(topic.replace('/up', '/join'), Buffer.from('{}'))).toEqual({ kind: 'ignored' });
  });

  it('ignores the ChirpStack events it has no use for and dead-letters unknown event types', () => {
    for (const event of ['join', 'location', 'integration']) {
      expect(json.parse(topic.replace('/up', `/${event}`), Buffer.from('{}')), event).toEqual({ kind: 'ignored' });
      expect(proto.parse(topic.replace('/up', `/${event}`), Buffer.from([0x0a, 0x00])), event).toEqual({ kind: 'ignored' });
    }
    for (const source of [json, proto]) {
      expect(() => source.parse(topic.replace('/up', '/bogus'), Buffer.from('{}')))
        .toThrow(expect.objectContaining({ reason: 'unknown_event', devEui, message: 'event type "bogus" is no ChirpStack integration event' }));
    }
  });

  it.each([
    ['time', { time: '2026-02-30T10:00:00Z' }, 'time "2026-02-30T10:00:00Z" has no day 30: 2026-02 has 28 days'],
    ['time', { time: '2026-11-24T24:00:00Z' }, 'time "2026-11-24T24:00:00Z" has hour 24'],
    ['time', { time: '1' }, 'time "1" is not an RFC 3339 time with an offset'],
    ['time', { time: '2026-11-24T12:00:00' }, 'time "2026-11-24T12:00:00" is not an RFC 3339 time with an offset'],
    ['rxInfo[1].gwTime', { rxInfo: [{ gatewayId: 'a' }, { gatewayId: 'b', gwTime: '2026-02-30T10:00:00Z' }] }, 'rxInfo[1].gwTime "2026-02-30T10:00:00Z" has no day 30'],
    ['rxInfo[0].nsTime', { rxInfo: [{ gatewayId: 'a', nsTime: '2026-11-24T12:00:00' }] }, 'rxInfo[0].nsTime "2026-11-24T12:00:00" is not an RFC 3339'],
  ])('refuses a %s JavaScript would bend, naming the field', (_field, extra, detail) => {
    const body = Buffer.from(JSON.stringify({ deduplicationId: 'a', deviceInfo: { devEui }, ...extra }));
    expect(() => json.parse(topic, body)).toThrow(expect.objectContaining({ reason: 'invalid_message', message: expect.stringContaining(detail) }));
  });

  it('refuses a status time JavaScript would bend, naming the field', () => {
    const body = Buffer.from(JSON.stringify({ deviceInfo: { devEui }, time: '2026-02-30T10:00:00Z' }));
    expect(() => json.parse(topic.replace('/up', '/status'), body)).toThrow(expect.objectContaining({ reason: 'invalid_message', message: 'time "2026-02-30T10:00:00Z" has no day 30: 2026-02 has 28 days' }));
  });

  it.each([
    ['invalid JSON', topic, '{"deduplicationId":', 'invalid_json'],
    ['truncated protobuf', topic, '\x0a\x20abc', 'invalid_protobuf'],
    // Without the bounds check (ingest/protobuf-guard.ts) google-protobuf spent 71 s on this one.
    ['a string claiming 4 GB', topic, '\x0a\xff\xff\xff\xff\x0f', 'invalid_protobuf'],
    ['a nested string claiming 134 MB', topic, '\x1a\x06\x0a\xff\xff\xff\x3f\x00', 'invalid_protobuf'],
    ['missing identity', topic, JSON.stringify({ deviceInfo: { devEui } }), 'invalid_message'],
    ['wrong type', topic, JSON.stringify({ deduplicationId: 'a', deviceInfo: { devEui }, fCnt: 'ten' }), 'invalid_message'],
    ['topic and body disagree', topic, JSON.stringify({ deduplicationId: 'a', deviceInfo: { devEui: 'ffffffffffffffff' } }), 'invalid_message'],
    ['bad time', topic, JSON.stringify({ deduplicationId: 'a', deviceInfo: { devEui }, time: 'yesterday' }), 'invalid_message'],
    ['a time in year 0', topic, JSON.stringify({ deduplicationId: 'a', deviceInfo: { devEui }, time: '0000-01-01T00:00:00Z' }), 'invalid_message'],
    ['a time before 1970', topic, JSON.stringify({ deduplicationId: 'a', deviceInfo: { devEui }, time: '1969-07-20T20:17:40Z' }), 'invalid_message'],
    ['a status time before 1970', topic.replace('/up', '/status'), JSON.stringify({ deviceInfo: { devEui }, time: '1900-01-01T00:00:00Z' }), 'invalid_message'],
    ['unexpected topic shape', 'application/x/devices/y/event/up', '{}', 'unexpected_topic'],
  ])('rejects %s with a reason', (_name, t, body, expected) => {
    const source = body.startsWith('{') ? json : proto;
    expect(reason(() => source.parse(t, Buffer.from(body, 'latin1')))).toBe(expected);
  });
});
