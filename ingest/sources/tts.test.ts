import { describe, expect, it } from 'vitest';
import { IngestError } from '../errors.js';
import { ttsSource } from './tts.js';

const tts = ttsSource({ prefix: 'v3', now: () => new Date('2026-01-01T00:00:00Z') });

/**
 * An uplink as The Things Stack v3 publishes it on `v3/{app}@{tenant}/devices/{device}/up`.
 * Shape and field names from The Things Stack documentation "Data formats: uplink messages"
 * (end_device_ids, uplink_message.{f_port, f_cnt, frm_payload, rx_metadata, settings}); frequency is a string there.
 */
const message = {
  end_device_ids: { device_id: 'lamp-17', application_ids: { application_id: 'air' }, dev_eui: '70B3D57ED0000001', dev_addr: '260B1234' },
  correlation_ids: ['as:up:01HX'],
  received_at: '2026-11-24T09:00:00.250Z',
  uplink_message: {
    session_key_id: 'AXA=',
    f_port: 1,
    f_cnt: 42,
    frm_payload: 'AWcA/w==',
    rx_metadata: [
      { gateway_ids: { gateway_id: 'gw-rathaus', eui: '0016C001F153A14C' }, time: '2026-11-24T09:00:00.100Z', rssi: -101, channel_rssi: -101, snr: 4.5 },
      { gateway_ids: { gateway_id: 'gw-hafen' }, rssi: -60, snr: 9 },
    ],
    settings: { data_rate: { lora: { bandwidth: 125000, spreading_factor: 10 } }, coding_rate: '4/5', frequency: '868500000' },
    received_at: '2026-11-24T09:00:00.200Z',
  },
};

describe('The Things Stack source', () => {
  it('normalises an uplink, with or without a tenant in the topic', () => {
    for (const topic of ['v3/air@stadt/devices/lamp-17/up', 'v3/air/devices/lamp-17/up']) {
      const r = tts.parse(topic, Buffer.from(JSON.stringify(message)));
      expect(r.kind).toBe('uplink');
      if (r.kind !== 'uplink') return;
      expect(r.uplink).toMatchObject({
        id: 'tts:70b3d57ed0000001:42:2026-11-24T09:00:00.200Z',
        devEui: '70b3d57ed0000001', fCnt: 42, fPort: 1, source: 'tts', receivedAt: new Date('2026-11-24T09:00:00.200Z'),
      });
      expect(r.uplink.payload.toString('hex')).toBe('016700ff');
      expect(r.uplink.radio).toMatchObject({ frequencyHz: 868500000, spreadingFactor: 10, bandwidthHz: 125000 });
      expect(r.uplink.radio.receptions.map((x) => [x.gatewayId, x.best])).toEqual([['0016c001f153a14c', false], ['gw-hafen', true]]);
    }
  });

  it('gives a redelivered message the same identity', () => {
    const a = tts.parse('v3/air/devices/lamp-17/up', Buffer.from(JSON.stringify(message)));
    const b = tts.parse('v3/air/devices/lamp-17/up', Buffer.from(JSON.stringify(message)));
    expect(a.kind === 'uplink' && b.kind === 'uplink' && a.uplink.id === b.uplink.id).toBe(true);
  });

  it('gives a message without received_at an identity from its content, not from the clock, and marks its time local', () => {
    const { received_at: _a, uplink_message: { received_at: _b, ...uplink }, ...rest } = message;
    const timeless = { ...rest, uplink_message: uplink };
    const at = (iso: string, body: unknown) => {
      const r = ttsSource({ prefix: 'v3', now: () => new Date(iso) }).parse('v3/air/devices/lamp-17/up', Buffer.from(JSON.stringify(body)));
      if (r.kind !== 'uplink') throw new Error(r.kind);
      return r.uplink;
    };
    const first = at('2026-01-01T00:00:00Z', timeless);
    const again = at('2026-01-01T00:05:00Z', timeless);
    expect(first.id).toMatch(/^tts:70b3d57ed0000001:42:h[0-9a-f]{32}$/);
    expect(again.id).toBe(first.id);
    expect([first.localTime, again.receivedAt]).toEqual([true, new Date('2026-01-01T00:05:00Z')]);
    // Another uplink with the same counter and payload (after a counter reset) has other correlation ids.
    expect(at('2026-01-01T00:00:00Z', { ...timeless, correlation_ids: ['as:up:01HY'] }).id).not.toBe(first.id);
    expect(at('2026-01-01T00:00:00Z', { ...timeless, uplink_message: { ...uplink, frm_payload: 'AWcA/A==' } }).id).not.toBe(first.id);
    // With a time from the source nothing is claimed.
    expect(at('2026-01-01T00:00:00Z', message).localTime).toBeUndefined();
  });

  it('ignores other event types and rejects bad messages with a reason', () => {
    expect(tts.parse('v3/air/devices/lamp-17/join', Buffer.from('{}'))).toEqual({ kind: 'ignored' });
    const reasonOf = (topic: string, body: unknown) => {
      try {
        tts.parse(topic, Buffer.from(typeof body === 'string' ? body : JSON.stringify(body)));
      } catch (e) {
        return (e as IngestError).reason;
      }
      return 'none';
    };
    expect(reasonOf('v3/air/lamp-17/up', message)).toBe('unexpected_topic');
    expect(reasonOf('v3/air/devices/lamp-17/up', 'nope')).toBe('invalid_json');
    expect(reasonOf('v3/air/devices/lamp-17/up', { ...message, uplink_message: { ...message.uplink_message, f_cnt: -1 } })).toBe('invalid_message');
    expect(reasonOf('v3/air/devices/other/up', message)).toBe('invalid_message');
  });
  it('ignores the events it has no use for and dead-letters unknown event types', () => {
    for (const event of ['join', 'down/push', 'down/replace', 'down/queued', 'down/invalidated']) {
      expect(tts.parse(`v3/air/devices/lamp-17/${event}`, Buffer.from('{}')), event).toEqual({ kind: 'ignored' });
    }
    for (const event of ['bogus', 'down/bogus']) {
      expect(() => tts.parse(`v3/air/devices/lamp-17/${event}`, Buffer.from('{}')), event)
        .toThrow(expect.objectContaining({ reason: 'unknown_event', message: `event type "${event}" is no The Things Stack event` }));
    }
  });

  it('refuses a time JavaScript would bend, naming the field', () => {
    const refused = (body: unknown): unknown => {
      try {
        tts.parse('v3/air/devices/lamp-17/up', Buffer.from(JSON.stringify(body)));
      } catch (e) {
        return { reason: (e as IngestError).reason, message: (e as IngestError).message };
      }
      return 'none';
    };
    const m = message.uplink_message;
    expect(refused({ ...message, uplink_message: { ...m, received_at: '2026-02-30T10:00:00Z' } }))
      .toEqual({ reason: 'invalid_message', message: 'uplink_message.received_at "2026-02-30T10:00:00Z" has no day 30: 2026-02 has 28 days' });
    const { received_at: _omitted, ...withoutTime } = m;
    expect(refused({ ...message, received_at: '2026-11-24T09:00:00', uplink_message: withoutTime }))
      .toMatchObject({ reason: 'invalid_message', message: expect.stringMatching(/^received_at "2026-11-24T09:00:00" is not an RFC 3339 time/) });
    expect(refused({ ...message, uplink_message: { ...m, rx_metadata: [m.rx_metadata[0], { ...m.rx_metadata[1], time: '2026-11-24T24:00:00Z' }] } }))
      .toMatchObject({ reason: 'invalid_message', message: expect.stringMatching(/^uplink_message\.rx_metadata\[1\]\.time "2026-11-24T24:00:00Z" has hour 24/) });
  });
});
