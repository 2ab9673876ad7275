import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { GatewayUplinkFrame } from './lorawan/index.js';
import { ingestDropped } from './metrics.js';
import type { InboundMessage } from './mqtt-consumer.js';
import { RawFrameCollector, type RawFrameItem } from './frame-collector.js';

/** An unconfirmed data uplink's bytes (MType 010); the collector only groups them. */
const PHY = Buffer.from('40' + '11223344' + '00' + '0100' + '01' + 'aabb' + '01020304', 'hex');

function copy(gatewayId: string, snrDb: number): GatewayUplinkFrame {
  return {
    phyPayload: PHY, gatewayId, uplinkId: null, frequencyHz: 433_175_000, modulation: 'lora', spreadingFactor: 10, bandwidthHz: 125_000,
    codeRate: 'CR_4_5', rssiDbm: -100, snrDb, gwTime: null, nsTime: null, context: Buffer.alloc(0), metadata: {},
  };
}

function message(name: string): InboundMessage {
  return { topic: `eu/gateway/${name}/event/up`, payload: Buffer.from(name), qos: 1, ack: () => undefined };
}

async function dropped(reason: string): Promise<number> {
  return (await ingestDropped.get()).values.find((v) => v.labels.reason === reason)?.value ?? 0;
}

describe('RawFrameCollector late copies', () => {
  let emitted: RawFrameItem[];
  let collector: RawFrameCollector;
  const offer = (gatewayId: string, snrDb: number) => collector.offer(message(gatewayId), copy(gatewayId, snrDb), null, new Date('2026-12-05T10:00:00Z'));

  beforeEach(() => {
    vi.useFakeTimers();
    emitted = [];
    collector = new RawFrameCollector({ windowMs: 100, emit: (item) => emitted.push(item), onError: (error) => { throw error; } });
  });
  afterEach(() => vi.useRealTimers());

  function group(): Extract<RawFrameItem, { kind: 'frame_group' }> {
    offer('0000000000000001', 1);
    vi.advanceTimersByTime(150);
    expect(emitted.map((e) => e.kind)).toEqual(['frame_group']);
    return emitted[0] as Extract<RawFrameItem, { kind: 'frame_group' }>;
  }

  it('adds a late copy to its group while the group waits for a batch, acknowledged with it and marked best if it is', () => {
    const item = group();
    offer('0000000000000002', 9);
    expect(emitted).toHaveLength(1);
    expect(item.group.receptions.map((r) => [r.gatewayId, r.best])).toEqual([['0000000000000001', false], ['0000000000000002', true]]);
    expect(item.messages.map((m) => m.payload.toString())).toEqual(['0000000000000001', '0000000000000002']);
  });

  it('counts a late copy from a gateway the group has, and acknowledges it with the group', async () => {
    const item = group();
    const before = await dropped('reception_gateway_present');
    offer('0000000000000001', 5);
    expect(item.group.receptions).toHaveLength(1);
    expect(item.messages).toHaveLength(2);
    expect((await dropped('reception_gateway_present')) - before).toBe(1);
  });

  it('holds a late copy while the group is being written, and emits it once the batch committed', () => {
    const item = group();
    collector.writing([{ result: item }]);
    offer('0000000000000003', 2);
    expect(emitted).toHaveLength(1);
    expect(collector.heldCopies).toBe(1);
    expect(item.group.receptions).toHaveLength(1);
    collector.settled([{ result: item }]);
    expect(collector.heldCopies).toBe(0);
    expect(emitted.map((e) => e.kind)).toEqual(['frame_group', 'late_reception']);
    const late = emitted[1] as Extract<RawFrameItem, { kind: 'late_reception' }>;
    expect(late.late.reception.gatewayId).toBe('0000000000000003');
    expect(late.messages.map((m) => m.payload.toString())).toEqual(['0000000000000003']);
    // After the commit a late copy goes straight on, to be merged into the stored uplink.
    offer('0000000000000004', 2);
    expect(emitted.map((e) => e.kind)).toEqual(['frame_group', 'late_reception', 'late_reception']);
  });
});
