import { describe, expect, it } from 'vitest';
import { classAWindows } from './class-a-windows.js';
import { DevAddrPool, parseDevAddrRanges } from './dev-addr-pool.js';
import { deriveSessionKeys, openJoinAccept } from './join-accept.js';
import { processJoinRequest, type JoinOutcome, type OtaaDeviceCandidate } from './join-processor.js';
import { buildJoinRequest } from './join-request.js';
import { EU868, type RegionParameters } from './region.js';
import { chirpstackJoin, hex } from './test-vectors.js';
import type { FrameGroup, GroupedReception } from './types.js';

const appKey = hex(chirpstackJoin.appKey);
const DEV_EUI = '0202020202020202';
const JOIN_EUI = '0101010101010101';

function reception(gatewayId: string, snrDb: number, best: boolean, overrides: Partial<GroupedReception> = {}): GroupedReception {
  return {
    gatewayId, rssiDbm: -100, snrDb, best, receivedAt: new Date('2026-12-05T08:00:00Z'),
    frequencyHz: 868_300_000, spreadingFactor: 9, bandwidthHz: 125_000, codeRate: 'CR_4_5', context: Buffer.from([gatewayId.length, 1, 2, 3]),
    ...overrides,
  };
}

function group(phyPayload: Buffer, receptions = [reception('0000000000000a01', -3, false), reception('0000000000000a02', 7, true)]): FrameGroup {
  return { phyPayload, key: phyPayload.toString('base64'), receptions, firstSeenAt: new Date('2026-12-05T08:00:00Z') };
}

function device(overrides: Partial<OtaaDeviceCandidate> = {}): OtaaDeviceCandidate {
  return { devEui: DEV_EUI, joinEui: JOIN_EUI, appKey, macVersion: '1.0.3', devNonceUsed: false, lastDevNonce: null, lastJoinNonce: null, ...overrides };
}

const pool = new DevAddrPool(parseDevAddrRanges('26000000-2600ffff'), () => 0x1234);
const options = { region: EU868 as RegionParameters | null, netId: '000013', devAddrs: pool };
const request = (devNonce: number, key = appKey) => buildJoinRequest({ joinEui: JOIN_EUI, devEui: DEV_EUI, devNonce, appKey: key });

function expectJoin(outcome: JoinOutcome): Extract<JoinOutcome, { kind: 'join' }> {
  if (outcome.kind !== 'join') throw new Error(`expected a join, got ${outcome.reason}: ${outcome.detail}`);
  return outcome;
}

describe('processJoinRequest', () => {
  it('answers a valid request with an accept the device can open, keys it derives the same, and both windows through the best concentrator', () => {
    const outcome = expectJoin(processJoinRequest(group(hex(chirpstackJoin.joinRequest)), device({ lastJoinNonce: 41 }), options));
    expect(outcome).toMatchObject({ devEui: DEV_EUI, joinEui: JOIN_EUI, devNonce: 771, joinNonce: 42, devAddr: '26001234', requestMic: chirpstackJoin.joinRequestMic });
    const opened = openJoinAccept(appKey, outcome.accept)!;
    expect(opened).toMatchObject({ micValid: true, joinNonce: 42, netId: '000013', devAddr: '26001234', rx1DrOffset: 0, rx2DataRate: 0, rxDelayS: 1 });
    expect(opened.cfList?.length).toBe(16);
    const deviceKeys = deriveSessionKeys(appKey, opened.joinNonce, opened.netId, 771);
    expect(outcome.keys.nwkSKey.equals(deviceKeys.nwkSKey) && outcome.keys.appSKey.equals(deviceKeys.appSKey)).toBe(true);
    expect(outcome.windows.gatewayId).toBe('0000000000000a02');
    expect(outcome.windows.context).toEqual(Buffer.from([16, 1, 2, 3]));
    expect(outcome.windows.items).toEqual([
      { window: 'rx1', frequencyHz: 868_300_000, dataRate: 3, spreadingFactor: 9, bandwidthHz: 125_000, powerDbm: 16, delayS: 5 },
      { window: 'rx2', frequencyHz: 869_525_000, dataRate: 0, spreadingFactor: 12, bandwidthHz: 125_000, powerDbm: 29, delayS: 6 },
    ]);
  });

  it('starts JoinNonce at 0 and takes any JoinEUI when none is registered', () => {
    const outcome = expectJoin(processJoinRequest(group(request(5)), device({ joinEui: null }), options));
    expect(outcome.joinNonce).toBe(0);
  });

  it.each<[string, Buffer, OtaaDeviceCandidate | null, string]>([
    ['an unknown DevEUI', request(1), null, 'unknown_deveui'],
    ['another JoinEUI than registered', request(1), device({ joinEui: '70b3d57ed0000000' }), 'unknown_joineui'],
    ['a wrong MIC (other AppKey)', request(1, Buffer.alloc(16, 9)), device(), 'mic_mismatch'],
    ['a DevNonce used before (1.0.3)', request(7), device({ devNonceUsed: true, lastDevNonce: 9 }), 'devnonce_reused'],
    ['a DevNonce used before (1.0.2)', request(7), device({ macVersion: '1.0.2', devNonceUsed: true }), 'devnonce_reused'],
    ['a DevNonce equal to the last (1.0.4)', request(9), device({ macVersion: '1.0.4', lastDevNonce: 9 }), 'devnonce_not_increasing'],
    ['a DevNonce below the last (1.0.4)', request(3), device({ macVersion: '1.0.4', lastDevNonce: 9 }), 'devnonce_not_increasing'],
    ['a used-up JoinNonce', request(1), device({ lastJoinNonce: 0xffffff }), 'join_nonce_exhausted'],
    ['a truncated frame', request(1).subarray(0, 20), device(), 'malformed_frame'],
    ['a device without AppKey', request(1), device({ appKey: Buffer.alloc(0) }), 'not_otaa'],
    ['an AppKey that does not open (other MASTER_KEY)', request(1), device({ appKey: null }), 'key_unreadable'],
  ])('rejects %s', (_name, frame, candidate, reason) => {
    const outcome = processJoinRequest(group(frame), candidate, options);
    expect(outcome).toMatchObject({ kind: 'rejected', reason });
    expect(JSON.stringify(outcome)).not.toContain(chirpstackJoin.appKey);
  });

  it('accepts an increasing DevNonce on 1.0.4 even if the value was seen on another device', () => {
    expectJoin(processJoinRequest(group(request(10)), device({ macVersion: '1.0.4', lastDevNonce: 9, devNonceUsed: false }), options));
  });

  it('cannot answer on a band without regional parameters', () => {
    expect(processJoinRequest(group(request(1)), device(), { ...options, region: null })).toMatchObject({ kind: 'rejected', reason: 'no_region' });
  });
});

describe('classAWindows', () => {
  it('leaves RX1 out when the uplink data rate is not one of the region', () => {
    const result = classAWindows(EU868, [reception('0000000000000a01', 1, true, { spreadingFactor: 7, bandwidthHz: 500_000 })], 'data', 10);
    expect(result.ok && result.windows.items.map((i) => i.window)).toEqual(['rx2']);
  });

  it('leaves a window out that cannot carry the payload, and says so when none can', () => {
    const sf7 = [reception('0000000000000a01', 1, true, { spreadingFactor: 7 })];
    const long = classAWindows(EU868, sf7, 'data', 100);
    expect(long.ok && long.windows.items.map((i) => [i.window, i.dataRate, i.delayS])).toEqual([['rx1', 5, 1]]);
    const tooLong = classAWindows(EU868, [reception('0000000000000a01', 1, true, { spreadingFactor: 12 })], 'data', 52);
    expect(tooLong).toMatchObject({ ok: false });
  });

  it('uses the RX1 frequency offset and data rates of an operator band', () => {
    const band: RegionParameters = { ...EU868, name: '450MHz', rx1FrequencyOffsetHz: 10_000_000, rx2FrequencyHz: 461_850_000, rx2DataRate: 1, rx1DrOffset: 1, downlinkPowerDbm: () => 27 };
    const r = classAWindows(band, [reception('0000000000000a01', 1, true, { frequencyHz: 451_350_000, spreadingFactor: 10 })], 'data', 4);
    expect(r.ok && r.windows.items).toEqual([
      { window: 'rx1', frequencyHz: 461_350_000, dataRate: 1, spreadingFactor: 11, bandwidthHz: 125_000, powerDbm: 27, delayS: 1 },
      { window: 'rx2', frequencyHz: 461_850_000, dataRate: 1, spreadingFactor: 11, bandwidthHz: 125_000, powerDbm: 27, delayS: 2 },
    ]);
  });
});
