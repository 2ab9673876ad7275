/**
 * A corpus of malformed messages, published on a real broker between valid uplinks into a
 * running service on a real database: every malformed one lands in dead_letters with the
 * right reason, its topic and its exact bytes; every valid one is stored once; ingest
 * goes on.
 *
 * Message shapes: ChirpStack v4 integration events (api/proto/integration/integration.proto,
 * JSON as its protojson marshaling writes it, and binary protobuf), The Things Stack v3
 * uplink messages (ttnpb.ApplicationUp as JSON), ChirpStack gateway-bridge frames
 * (api/proto/gw/gw.proto UplinkFrame, built with @chirpstack/chirpstack-api). LoRaWAN join
 * request layout (MHDR, JoinEUI, DevEUI, DevNonce, MIC = 23 bytes): LoRaWAN 1.0.3 §6.2.4.
 */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import gwPb from '@chirpstack/chirpstack-api/gw/gw_pb.js';
import integrationPb from '@chirpstack/chirpstack-api/integration/integration_pb.js';
import timestampPb from 'google-protobuf/google/protobuf/timestamp_pb.js';
import { buildUplinkFrame } from '../ingest/lorawan/index.js';
import { upsertDevice, upsertDeviceModel } from '../storage/index.js';
import { eventually, useTestService, type TestDatabase } from './helpers.js';

const KNOWN = '0004a30b001c0531';
const GATEWAY = '0016c001f1500002';

interface Case {
  name: string;
  topic: string;
  payload: Buffer;
  reason: string;
  /** What the dead letter's detail must say, when the case is about naming something. */
  detail?: RegExp;
  /** Only this many first bytes are stored, with the whole payload's length and SHA-256. */
  kept?: number;
}

function csUplink(devEui: string, id: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    deduplicationId: id,
    time: '2026-11-24T12:00:00.000Z',
    deviceInfo: { tenantId: 't', applicationId: 'app1', deviceName: 'lamp', devEui },
    fCnt: 7,
    fPort: 1,
    data: Buffer.from('03670110', 'hex').toString('base64'), // Cayenne LPP: channel 3 temperature 27.2 °C
    ...extra,
  };
}

function gatewayFrame(phy: Buffer, crc: number = gwPb.CRCStatus.CRC_OK, gatewayId = GATEWAY): Buffer {
  const rx = new gwPb.UplinkRxInfo();
  rx.setGatewayId(gatewayId);
  rx.setRssi(-90);
  rx.setSnr(5);
  rx.setCrcStatus(crc as typeof gwPb.CRCStatus.CRC_OK);
  const frame = new gwPb.UplinkFrame();
  frame.setPhyPayload(new Uint8Array(phy));
  frame.setRxInfo(rx);
  return Buffer.from(frame.serializeBinary());
}

/** One registered Cayenne LPP device. */
async function registerKnown(db: TestDatabase): Promise<void> {
  await upsertDeviceModel(db.pool, { id: 'lpp', name: 'LPP', decoderKind: 'builtin', builtinName: 'cayenne-lpp' });
  await upsertDevice(db.pool, { devEui: KNOWN, modelId: 'lpp' });
}

describe('malformed messages through the broker', () => {
  const t = useTestService({ INGEST_MAX_PAYLOAD_BYTES: '2048' }, registerKnown);

  it('dead-letters each with its reason and stores every valid uplink between them', async () => {
    const { db, publisher } = t;
    const cs = t.config.ingest.chirpstackPrefix!;
    const tts = t.config.ingest.ttsPrefix!;
    const conc = t.config.ingest.concentratorPrefixes[0]!;
    const up = (devEui = KNOWN) => `${cs}/app1/device/${devEui}/event/up`;
    const json = (v: unknown) => Buffer.from(JSON.stringify(v));
    const joinRequest = Buffer.concat([Buffer.from([0x00]), Buffer.alloc(8, 1), Buffer.alloc(8, 2), Buffer.from([3, 4]), Buffer.alloc(4, 5)]);
    const cases: Case[] = [
      { name: 'truncated JSON', topic: up(), payload: Buffer.from('{"deduplicationId":'), reason: 'invalid_json' },
      { name: 'empty payload', topic: up(), payload: Buffer.alloc(0), reason: 'invalid_json' },
      { name: 'JSON array', topic: up(), payload: json([1, 2, 3]), reason: 'invalid_message' },
      { name: 'JSON number', topic: up(), payload: Buffer.from('42'), reason: 'invalid_message' },
      { name: 'JSON string', topic: up(), payload: Buffer.from('"up"'), reason: 'invalid_message' },
      { name: 'no deviceInfo', topic: up(), payload: json({ ...csUplink(KNOWN, 'm-1'), deviceInfo: undefined }), reason: 'invalid_message' },
      { name: 'fCnt is a word', topic: up(), payload: json(csUplink(KNOWN, 'm-2', { fCnt: 'abc' })), reason: 'invalid_message' },
      { name: 'data is not base64', topic: up(), payload: json(csUplink(KNOWN, 'm-3', { data: 'not base64!' })), reason: 'invalid_message' },
      { name: 'deduplicationId with a NUL character', topic: up(), payload: json(csUplink(KNOWN, 'm-\u0000-9')), reason: 'invalid_message' },
      { name: 'time is not RFC 3339', topic: up(), payload: json(csUplink(KNOWN, 'm-4', { time: 'yesterday' })), reason: 'invalid_message' },
      // Valid RFC 3339 that PostgreSQL refuses (no year 0): before, its batch failed on every retry and ingest stalled.
      { name: 'time in year 0', topic: up(), payload: json(csUplink(KNOWN, 'm-4a', { time: '0000-01-01T00:00:00Z' })), reason: 'invalid_message' },
      { name: 'time before 1970', topic: up(), payload: json(csUplink(KNOWN, 'm-4b', { time: '1969-12-31T23:59:59Z' })), reason: 'invalid_message' },
      { name: 'TTS received_at in year 0', topic: `${tts}/app1/devices/lamp-1/up`, payload: json({ end_device_ids: { device_id: 'lamp-1', dev_eui: KNOWN.toUpperCase() }, received_at: '0000-06-01T00:00:00Z', uplink_message: { f_port: 1, f_cnt: 4, frm_payload: 'A2cBEA==' } }), reason: 'invalid_message' },
      { name: 'concentrator stats in year 0', topic: `${conc}/gateway/${GATEWAY}/event/stats`, payload: json({ gatewayId: GATEWAY, time: '0000-01-01T00:00:00Z', rxPacketsReceived: 3 }), reason: 'invalid_message' },
      // JavaScript's Date bends these into other times (issue 26): 2 March, the next day, a time in the service's own zone.
      { name: 'time on 30 February', topic: up(), payload: json(csUplink(KNOWN, 'm-4c', { time: '2026-02-30T10:00:00Z' })), reason: 'invalid_message', detail: /^time "2026-02-30T10:00:00Z" has no day 30/ },
      { name: 'time at 24:00', topic: up(), payload: json(csUplink(KNOWN, 'm-4d', { time: '2026-11-24T24:00:00Z' })), reason: 'invalid_message', detail: /^time "2026-11-24T24:00:00Z" has hour 24/ },
      { name: 'reception time without offset', topic: up(), payload: json(csUplink(KNOWN, 'm-4e', { rxInfo: [{ gatewayId: GATEWAY, gwTime: '2026-11-24T12:00:00' }] })), reason: 'invalid_message', detail: /^rxInfo\[0\]\.gwTime "2026-11-24T12:00:00" is not an RFC 3339 time/ },
      { name: 'ChirpStack event type nobody publishes', topic: `${cs}/app1/device/${KNOWN}/event/bogus`, payload: json(csUplink(KNOWN, 'm-4f')), reason: 'unknown_event', detail: /"bogus"/ },
      { name: 'TTS event type nobody publishes', topic: `${tts}/app1/devices/lamp-1/bogus`, payload: json({ end_device_ids: { device_id: 'lamp-1' } }), reason: 'unknown_event', detail: /"bogus"/ },
      { name: 'gateway event type nobody publishes', topic: `${conc}/gateway/${GATEWAY}/event/bogus`, payload: json({ gatewayId: GATEWAY }), reason: 'unknown_event', detail: /"bogus"/ },
      { name: 'DevEUI differs from the topic', topic: up(), payload: json(csUplink('0004a30b001c0599', 'm-5')), reason: 'invalid_message' },
      { name: 'unknown device', topic: up('0004a30b001c0598'), payload: json(csUplink('0004a30b001c0598', 'm-6')), reason: 'unknown_device' },
      { name: 'DevEUI in the topic is not hex', topic: `${cs}/app1/device/lamp-0815/event/up`, payload: json(csUplink(KNOWN, 'm-7')), reason: 'unexpected_topic' },
      // Over the limit but within the consumer's header slack: cut by the pipeline.
      { name: 'oversize payload', topic: up(), payload: json(csUplink(KNOWN, 'm-8', { padding: 'x'.repeat(3000) })), reason: 'oversize_payload', kept: 2048 },
      // Far over it: cut by the consumer's guard as it streams in (issue 26).
      { name: 'oversize payload of 1 MB', topic: up(), payload: json(csUplink(KNOWN, 'm-8b', { padding: 'y'.repeat(1_000_000) })), reason: 'oversize_payload', kept: 2048 },
      { name: 'codec error log event', topic: `${cs}/app1/device/${KNOWN}/event/log`, payload: json({ time: '2026-11-24T12:00:00Z', deviceInfo: { devEui: KNOWN }, level: 'ERROR', code: 'UPLINK_CODEC', description: 'decode failed' }), reason: 'chirpstack_uplink_codec' },
      { name: 'TTS invalid JSON', topic: `${tts}/app1/devices/lamp-1/up`, payload: Buffer.from('{"end_device_ids": {'), reason: 'invalid_json' },
      { name: 'TTS without uplink_message', topic: `${tts}/app1/devices/lamp-1/up`, payload: json({ end_device_ids: { device_id: 'lamp-1', dev_eui: KNOWN.toUpperCase() } }), reason: 'invalid_message' },
      { name: 'TTS device id differs from the topic', topic: `${tts}/app1/devices/lamp-1/up`, payload: json({ end_device_ids: { device_id: 'lamp-2', dev_eui: KNOWN.toUpperCase() }, uplink_message: { f_port: 1, f_cnt: 3, frm_payload: 'A2cBEA==' } }), reason: 'invalid_message' },
      { name: 'gateway frame: garbage protobuf', topic: `${conc}/gateway/${GATEWAY}/event/up`, payload: Buffer.from([0xff, 0xff, 0xff, 0x0f]), reason: 'invalid_protobuf' },
      { name: 'gateway frame: invalid JSON', topic: `${conc}/gateway/${GATEWAY}/event/up`, payload: Buffer.from('{"phyPayload": '), reason: 'invalid_json' },
      { name: 'gateway frame: other gateway than the topic', topic: `${conc}/gateway/${GATEWAY}/event/up`, payload: gatewayFrame(Buffer.from('40aabbccdd0001000163b5a58cc5', 'hex'), gwPb.CRCStatus.CRC_OK, '0016c001f15000ff'), reason: 'invalid_message' },
      { name: 'gateway frame: bad CRC', topic: `${conc}/gateway/${GATEWAY}/event/up`, payload: gatewayFrame(Buffer.from('40aabbccdd0002000163b5a58cc5', 'hex'), gwPb.CRCStatus.BAD_CRC), reason: 'crc_not_ok' },
      { name: 'gateway frame: three bytes of PHYPayload', topic: `${conc}/gateway/${GATEWAY}/event/up`, payload: gatewayFrame(Buffer.from([0x40, 1, 2])), reason: 'malformed_frame' },
      { name: 'gateway frame: join request', topic: `${conc}/gateway/${GATEWAY}/event/up`, payload: gatewayFrame(joinRequest), reason: 'unknown_deveui' },
      {
        name: 'gateway frame: nobody has this DevAddr', topic: `${conc}/gateway/${GATEWAY}/event/up`, reason: 'unknown_devaddr',
        payload: gatewayFrame(buildUplinkFrame({ devAddr: '26011bda', fCnt32: 1, fPort: 1, payload: Buffer.from([1]), nwkSKey: Buffer.alloc(16, 1), appSKey: Buffer.alloc(16, 2) })),
      },
    ];

    // Known events that carry nothing to store are neither stored nor dead letters (the count below).
    await publisher.publishAsync(`${cs}/app1/device/${KNOWN}/event/join`, json({ deviceInfo: { devEui: KNOWN }, devAddr: '26011bda' }), { qos: 1 });
    await publisher.publishAsync(`${tts}/app1/devices/lamp-1/join`, json({ end_device_ids: { device_id: 'lamp-1' } }), { qos: 1 });
    await publisher.publishAsync(`${conc}/gateway/${GATEWAY}/event/exec`, json({ gatewayId: GATEWAY }), { qos: 1 });
    const valid: string[] = [];
    for (const [i, c] of cases.entries()) {
      await publisher.publishAsync(c.topic, c.payload, { qos: 1 });
      if (i % 4 === 0) {
        const id = `valid-${i}`;
        valid.push(id);
        await publisher.publishAsync(up(), json(csUplink(KNOWN, id, { fCnt: 100 + i, time: new Date(Date.UTC(2026, 10, 24, 13, 0, i)).toISOString() })), { qos: 1 });
      }
    }

    const letters = await eventually(async () => {
      const r = await db.pool.query<{ topic: string; payload: Buffer; reason: string; detail: string | null; payload_length: string | null; payload_sha256: Buffer | null }>(
        'select topic, payload, reason, detail, payload_length, payload_sha256 from dead_letters');
      return r.rows.length >= cases.length ? r.rows : undefined;
    });
    expect(letters).toHaveLength(cases.length);
    for (const c of cases) {
      const found = letters.filter((l) => l.topic === c.topic && l.payload.equals(c.payload.subarray(0, c.kept ?? c.payload.length)));
      expect(found.map((l) => l.reason), c.name).toEqual([c.reason]);
      // Where null, the stored bytes are the whole payload (migration 0021).
      expect(found[0]!.payload_length === null ? null : Number(found[0]!.payload_length), c.name).toBe(c.kept ? c.payload.length : null);
      expect(found[0]!.payload_sha256?.toString('hex') ?? null, c.name).toBe(c.kept ? createHash('sha256').update(c.payload).digest('hex') : null);
      expect(found[0]!.detail, c.name).toMatch(c.detail ?? /\S/);
      expect(found[0]!.detail, c.name).not.toMatch(/\n\s+at /); // a message, not a stack trace
    }

    const stored = await eventually(async () => {
      const r = await db.pool.query<{ id: string }>("select id from uplinks where id like 'valid-%' order by id");
      return r.rows.length === valid.length ? r.rows.map((row) => row.id) : undefined;
    });
    expect(stored).toEqual([...valid].sort());

    // Ingest goes on: one more valid uplink after the whole corpus is stored.
    await publisher.publishAsync(up(), json(csUplink(KNOWN, 'after-corpus', { fCnt: 999 })), { qos: 1 });
    await eventually(async () => ((await db.pool.query("select 1 from uplinks where id = 'after-corpus'")).rowCount === 1 ? true : undefined));
  });
});

describe('malformed ChirpStack protobuf through the broker', () => {
  const t = useTestService({ INGEST_CHIRPSTACK_ENCODING: 'protobuf' }, registerKnown);

  it('dead-letters truncated and garbage protobuf and stores the valid event after them', async () => {
    const { db, publisher } = t;
    const cs = t.config.ingest.chirpstackPrefix!;
    const info = new integrationPb.DeviceInfo();
    info.setDevEui(KNOWN);
    const event = new integrationPb.UplinkEvent();
    event.setDeduplicationId('proto-valid-1');
    event.setDeviceInfo(info);
    event.setFCnt(11);
    event.setFPort(1);
    event.setData(new Uint8Array(Buffer.from('03670110', 'hex')));
    const bytes = Buffer.from(event.serializeBinary());
    const topic = `${cs}/app1/device/${KNOWN}/event/up`;
    const truncated = bytes.subarray(0, bytes.length - 3);
    const garbage = Buffer.from([0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f]);
    // A status event timed in 100 AD (google.protobuf.Timestamp seconds since 1970).
    const status = new integrationPb.StatusEvent();
    status.setDeviceInfo(info);
    status.setBatteryLevel(80);
    const ancient = new timestampPb.Timestamp();
    ancient.setSeconds(-59011459200);
    status.setTime(ancient);
    const oldStatus = Buffer.from(status.serializeBinary());
    await publisher.publishAsync(topic, truncated, { qos: 1 });
    await publisher.publishAsync(topic, garbage, { qos: 1 });
    await publisher.publishAsync(topic.replace('/up', '/status'), oldStatus, { qos: 1 });
    await publisher.publishAsync(topic, bytes, { qos: 1 });
    await eventually(async () => ((await db.pool.query("select 1 from uplinks where id = 'proto-valid-1'")).rowCount === 1 ? true : undefined));
    const letters = await eventually(async () => {
      const r = await db.pool.query<{ payload: Buffer; reason: string }>('select payload, reason from dead_letters');
      return r.rows.length >= 3 ? r.rows : undefined;
    });
    expect(letters).toHaveLength(3);
    expect(letters.find((l) => l.payload.equals(oldStatus))?.reason).toBe('invalid_message');
    expect(letters.find((l) => l.payload.equals(truncated))?.reason).toBe('invalid_protobuf');
    expect(letters.find((l) => l.payload.equals(garbage))?.reason).toBe('invalid_protobuf');
  });
});
