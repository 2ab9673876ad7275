import { describe, expect, it } from 'vitest';
import { createDecoders } from '../decoders/index.js';
import { decodeUplinkFrameProtobuf, parsePhyPayload, verifyUplinkMic, decryptUplinkPayload, devAddrToWire } from '../ingest/lorawan/index.js';
import { chirpstackSource } from '../ingest/sources/chirpstack.js';
import { CityTraffic } from './traffic.js';

const start = new Date('2026-11-23T07:30:00Z');

function bytesOf(traffic: CityTraffic, n: number): string {
  const out: string[] = [];
  for (let i = 0; i < n; i++) for (const m of traffic.next().messages) out.push(`${m.topic} ${m.delayMs} ${m.payload.toString('hex')}`);
  return out.join('\n');
}

describe('simulated city traffic', () => {
  it('is byte-identical for the same seed and differs for another', () => {
    for (const via of ['chirpstack-json', 'chirpstack-proto', 'concentrator'] as const) {
      const a = bytesOf(new CityTraffic({ devices: 25, via, seed: 7, start }), 60);
      const b = bytesOf(new CityTraffic({ devices: 25, via, seed: 7, start }), 60);
      const c = bytesOf(new CityTraffic({ devices: 25, via, seed: 8, start }), 60);
      expect(a).toBe(b);
      expect(a).not.toBe(c);
    }
  });

  it('publishes ChirpStack events that ingest parses and the built-in decoders read', async () => {
    const traffic = new CityTraffic({ devices: 10, via: 'chirpstack-json', seed: 'city', start });
    const source = chirpstackSource({ prefix: 'application', encoding: 'json' });
    const decoders = await createDecoders();
    for (let i = 0; i < 10; i++) {
      const up = traffic.next();
      const parsed = source.parse(up.messages[0]!.topic, up.messages[0]!.payload);
      expect(parsed.kind).toBe('uplink');
      if (parsed.kind !== 'uplink') continue;
      const result = await decoders.decode({ id: up.device.modelId, decoder: { kind: 'builtin', name: up.device.builtinDecoder } }, { bytes: parsed.uplink.payload, fPort: up.device.fPort, recvTime: up.time });
      expect(result.errors).toEqual([]);
      expect(result.readings.length).toBeGreaterThan(0);
    }
  });

  it('sends raw frames that verify and decrypt with the device keys, past a 16-bit counter', () => {
    const traffic = new CityTraffic({ devices: 5, via: 'concentrator', seed: 3, start, firstFCnt: 65_534 });
    for (let i = 0; i < 15; i++) {
      const up = traffic.next();
      const frames = up.messages.filter((m) => m.topic.endsWith('/event/up'));
      expect(frames.length).toBeGreaterThanOrEqual(2);
      const gatewayIds = new Set<string>();
      for (const m of frames) {
        const frame = decodeUplinkFrameProtobuf(m.payload);
        expect(frame.ok).toBe(true);
        if (!frame.ok) continue;
        gatewayIds.add(frame.value.gatewayId);
        const phy = parsePhyPayload(frame.value.phyPayload);
        expect(phy.ok).toBe(true);
        if (!phy.ok) continue;
        const micOk = verifyUplinkMic(phy.frame, up.device.nwkSKey, up.fCnt);
        expect(micOk).toBe(true);
        const plain = decryptUplinkPayload(up.device.appSKey, phy.frame.frmPayload, devAddrToWire(up.device.devAddr), up.fCnt);
        expect(plain.length).toBeGreaterThan(0);
      }
      expect(gatewayIds.size).toBe(frames.length);
    }
  });

  it('reports the health of every concentrator every 30 simulated seconds', () => {
    const traffic = new CityTraffic({ devices: 5, via: 'concentrator', seed: 3, start, rate: 1 });
    const statsTopics: string[] = [];
    for (let i = 0; i < 61; i++) statsTopics.push(...traffic.next().messages.filter((m) => m.topic.endsWith('/event/stats')).map((m) => m.topic));
    expect(statsTopics).toHaveLength(3 * 3); // at 0 s, 30 s and 60 s
    expect(new Set(statsTopics).size).toBe(3);
  });
});
