import { describe, expect, it } from 'vitest';
import { ADR_HISTORY, AdrTracker, adrDecision } from './adr.js';
import { openDownlinkFrame } from './downlink-frame.js';
import { planDataDownlink, type DataDownlinkInput } from './downlink-planner.js';
import { parseDownlinkMac } from './mac-downlink.js';
import { EU868 } from './region.js';
import { hex, loraPacket } from './test-vectors.js';
import type { GroupedReception } from './types.js';

const nwkSKey = hex(loraPacket.nwkSKey);
const appSKey = hex(loraPacket.appSKey);
const keys = { devAddr: '49be7df1', nwkSKey, appSKey };

function reception(gatewayId: string, snrDb: number, best: boolean, sf = 9): GroupedReception {
  return { gatewayId, rssiDbm: -100, snrDb, best, receivedAt: new Date('2026-12-05T10:00:00.250Z'), frequencyHz: 868_100_000, spreadingFactor: sf, bandwidthHz: 125_000, codeRate: 'CR_4_5', context: Buffer.from([1, 2, 3, 4]) };
}

function input(overrides: Partial<DataDownlinkInput> = {}, uplink: Partial<DataDownlinkInput['uplink']> = {}): DataDownlinkInput {
  return {
    devEui: '70b3d57ed0001234', ...keys, fCntDown: 41,
    uplink: { confirmed: false, adrAckReq: false, receptions: [reception('0000000000000a01', -5, false), reception('0000000000000a02', 4.5, true)], receivedAt: new Date('2026-12-05T10:00:00.250Z'), ...uplink },
    macCommands: [], region: EU868, devStatusDue: false, adrRequest: null, queued: null,
    ...overrides,
  };
}

function open(plan: ReturnType<typeof planDataDownlink>) {
  if (!plan) throw new Error('expected a downlink');
  const frame = openDownlinkFrame(plan.phyPayload, keys, plan.fCntDown - 1);
  if (!frame) throw new Error('the device could not open the downlink');
  return frame;
}

describe('planDataDownlink', () => {
  it('sends nothing when nothing is to be said', () => {
    expect(planDataDownlink(input())).toBeNull();
  });

  it('acknowledges a confirmed uplink with an empty downlink at the next FCntDown, through the best concentrator in RX1 and RX2', () => {
    const plan = planDataDownlink(input({}, { confirmed: true }))!;
    expect(plan).toMatchObject({ fCntDown: 42, ack: true, confirmed: false, fPort: null, queueId: null, mac: [] });
    expect(open(plan)).toMatchObject({ ack: true, fCnt32: 42, fPort: null, fOpts: Buffer.alloc(0) });
    expect(plan.windows.gatewayId).toBe('0000000000000a02');
    expect(plan.windows.items.map((i) => [i.window, i.frequencyHz, i.dataRate, i.delayS])).toEqual([['rx1', 868_100_000, 3, 1], ['rx2', 869_525_000, 0, 2]]);
  });

  it('answers LinkCheckReq with the margin over the demodulation floor of the SF and the number of concentrators', () => {
    const plan = planDataDownlink(input({ macCommands: [{ cid: 0x02, name: 'LinkCheckReq' }] }));
    // SF9 floor −12.5 dB, best SNR 4.5 dB: margin 17 dB; heard by two.
    expect(parseDownlinkMac(open(plan).fOpts)).toEqual([{ name: 'LinkCheckAns', marginDb: 17, gatewayCount: 2 }]);
  });

  it('answers DeviceTimeReq with the time the best concentrator heard the uplink', () => {
    const plan = planDataDownlink(input({ macCommands: [{ cid: 0x0d, name: 'DeviceTimeReq', payload: Buffer.alloc(0) }] }));
    const [answer] = parseDownlinkMac(open(plan).fOpts);
    expect(answer).toMatchObject({ name: 'DeviceTimeAns' });
    expect(Math.abs((answer as { time: Date }).time.getTime() - Date.parse('2026-12-05T10:00:00.250Z'))).toBeLessThan(4);
  });

  it('asks for the device status when due and carries the queued downlink with the MAC commands in FOpts', () => {
    const plan = planDataDownlink(input({ devStatusDue: true, queued: { id: 7, fPort: 12, payload: Buffer.from([1, 40]), confirmed: true } }))!;
    expect(plan).toMatchObject({ queueId: 7, confirmed: true, fPort: 12 });
    const frame = open(plan);
    expect(frame).toMatchObject({ confirmed: true, fPort: 12, payload: Buffer.from([1, 40]) });
    expect(parseDownlinkMac(frame.fOpts)).toEqual([{ name: 'DevStatusReq' }]);
  });

  it('puts MAC commands on FPort 0 when they are longer than FOpts and nothing else goes', () => {
    const mac = [{ cid: 0x02 as const, name: 'LinkCheckReq' as const }];
    const adrRequest = { name: 'LinkADRReq' as const, dataRate: 5, txPowerIndex: 1, channelMask: 0, channelMaskControl: 6, nbTrans: 1 };
    const plan = planDataDownlink(input({ macCommands: [...mac, { cid: 0x0d, name: 'DeviceTimeReq', payload: Buffer.alloc(0) }], devStatusDue: true, adrRequest }));
    const frame = open(plan);
    // 3 + 6 + 5 + 1 = 15 bytes still fit FOpts…
    expect(frame.fPort).toBeNull();
    expect(parseDownlinkMac(frame.fOpts).map((c) => c.name)).toEqual(['LinkCheckAns', 'DeviceTimeAns', 'LinkADRReq', 'DevStatusReq']);
    // …one more command does not: then all go on FPort 0, encrypted with the NwkSKey.
    const more = planDataDownlink(input({ macCommands: [...mac, ...mac, { cid: 0x0d, name: 'DeviceTimeReq', payload: Buffer.alloc(0) }], devStatusDue: true, adrRequest }));
    const onPort0 = open(more);
    expect(onPort0.fPort).toBe(0);
    expect(parseDownlinkMac(onPort0.payload)).toHaveLength(5);
  });

  it('leaves a queued payload too long for this uplink\'s windows in the queue and still sends the ACK', () => {
    const sf12 = [reception('0000000000000a02', 1, true, 12)];
    const plan = planDataDownlink(input({ queued: { id: 9, fPort: 3, payload: Buffer.alloc(60), confirmed: false } }, { confirmed: true, receptions: sf12 }))!;
    expect(plan).toMatchObject({ queueId: null, ack: true, fPort: null });
  });

  it('answers ADRACKReq with a downlink', () => {
    expect(planDataDownlink(input({}, { adrAckReq: true }))).not.toBeNull();
  });
});

describe('ADR (Semtech AN1200.22)', () => {
  const history = (snr: number) => Array.from({ length: ADR_HISTORY }, () => snr);

  it('waits for 20 uplinks before it decides anything', () => {
    expect(adrDecision({ snrHistoryDb: history(10).slice(1), dataRate: 0, spreadingFactor: 12, txPowerIndex: 0, region: EU868, marginDb: 10 })).toBeNull();
  });

  it('raises the data rate one step per 3 dB of margin, then lowers the power', () => {
    // SF12 (DR0): floor −20 dB; max SNR 5 dB; margin 25 − 10 = 15 dB: 5 steps → DR5.
    expect(adrDecision({ snrHistoryDb: history(5), dataRate: 0, spreadingFactor: 12, txPowerIndex: 0, region: EU868, marginDb: 10 }))
      .toEqual({ name: 'LinkADRReq', dataRate: 5, txPowerIndex: 0, channelMask: 0, channelMaskControl: 6, nbTrans: 1 });
    // SF7 (DR5, the ADR maximum): floor −7.5; max SNR 9.5: margin 7 dB: 2 steps into power.
    expect(adrDecision({ snrHistoryDb: history(9.5), dataRate: 5, spreadingFactor: 7, txPowerIndex: 0, region: EU868, marginDb: 10 }))
      .toMatchObject({ dataRate: 5, txPowerIndex: 2 });
  });

  it('raises the power again when the margin is negative, and says nothing when all is right', () => {
    expect(adrDecision({ snrHistoryDb: history(-9), dataRate: 5, spreadingFactor: 7, txPowerIndex: 3, region: EU868, marginDb: 10 })).toMatchObject({ dataRate: 5, txPowerIndex: 0 });
    expect(adrDecision({ snrHistoryDb: history(3), dataRate: 5, spreadingFactor: 7, txPowerIndex: 0, region: EU868, marginDb: 10 })).toBeNull();
  });

  it('keeps the newest 20 SNRs and starts afresh once the device accepted a request', () => {
    const tracker = new AdrTracker();
    for (let i = 0; i < 30; i++) tracker.observe('d', i);
    const state = tracker.observe('d', null);
    expect(state.snrs).toEqual(Array.from({ length: 20 }, (_, i) => i + 10));
    tracker.requested('d', { dataRate: 5, txPowerIndex: 2 });
    tracker.answered('d', 0b011);
    expect(tracker.observe('d', null)).toMatchObject({ txPowerIndex: 0, requested: null });
    expect(tracker.observe('d', null).snrs).toHaveLength(20);
    tracker.requested('d', { dataRate: 5, txPowerIndex: 2 });
    tracker.answered('d', 0b111);
    expect(tracker.observe('d', null)).toMatchObject({ txPowerIndex: 2, snrs: [] });
  });
});
