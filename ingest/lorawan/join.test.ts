import { describe, expect, it } from 'vitest';
import { buildJoinAccept, deriveSessionKeys, joinAcceptMessage, openJoinAccept } from './join-accept.js';
import { buildJoinRequest, parseJoinRequest, verifyJoinRequestMic } from './join-request.js';
import { DevAddrPool, netIdDevAddrPrefix, netIdRange, parseDevAddrRanges } from './dev-addr-pool.js';
import { cfList, EU868 } from './region.js';
import { loraPacket as lp } from './lora-packet-reference.js';
import { chirpstackJoin, hex, loraPacket } from './test-vectors.js';

const appKey = hex(chirpstackJoin.appKey);

describe('join-request (spec 1.0.4 §6.2.4)', () => {
  it('reads ChirpStack lrwn\'s join-request doc-test and verifies its MIC 09b97b32', () => {
    const parsed = parseJoinRequest(hex(chirpstackJoin.joinRequest));
    if (!parsed.ok) throw new Error(parsed.detail);
    expect(parsed.request).toMatchObject({ joinEui: '0101010101010101', devEui: '0202020202020202', devNonce: 771 });
    expect(parsed.request.mic.toString('hex')).toBe(chirpstackJoin.joinRequestMic);
    expect(verifyJoinRequestMic(parsed.request, appKey)).toBe(true);
    expect(verifyJoinRequestMic(parsed.request, Buffer.alloc(16, 1))).toBe(false);
  });

  it('builds the same bytes an lrwn device builds', () => {
    expect(buildJoinRequest({ joinEui: '0101010101010101', devEui: '0202020202020202', devNonce: 771, appKey }).toString('hex')).toBe(chirpstackJoin.joinRequest);
  });

  it('agrees with lora-packet on a join-request it parses (second implementation)', () => {
    const bytes = buildJoinRequest({ joinEui: '70b3d57ed0000001', devEui: '0004a30b001c0530', devNonce: 0xbeef, appKey });
    const packet = lp.fromWire(bytes);
    expect(packet.getMType()).toBe('Join Request');
    expect(packet.AppEUI!.toString('hex')).toBe('70b3d57ed0000001');
    expect(packet.DevEUI!.toString('hex')).toBe('0004a30b001c0530');
    expect(lp.verifyMIC(packet, undefined, appKey)).toBe(true);
  });

  it.each([
    ['22 bytes', chirpstackJoin.joinRequest.slice(0, -2)],
    ['24 bytes', chirpstackJoin.joinRequest + '00'],
    ['major version 1', '01' + chirpstackJoin.joinRequest.slice(2)],
    ['a data frame', loraPacket.testFrame],
  ])('refuses %s as malformed', (_name, frame) => {
    expect(parseJoinRequest(hex(frame))).toMatchObject({ ok: false, reason: 'malformed_frame' });
  });
});

describe('join-accept and session keys (spec 1.0.4 §6.2.6, §6.2.7)', () => {
  const fields = { joinNonce: 65793, netId: '020202', devAddr: '01020304', rx1DrOffset: 0, rx2DataRate: 0, rxDelayS: 0, cfList: null };

  it('encrypts ChirpStack lrwn\'s 1.0.x join-accept doc-test to its bytes (MIC 3449f212)', () => {
    expect(buildJoinAccept(appKey, fields).toString('hex')).toBe(chirpstackJoin.joinAccept);
  });

  it('opens it again as a device does, MIC valid', () => {
    const opened = openJoinAccept(appKey, hex(chirpstackJoin.joinAccept));
    expect(opened).toMatchObject({ ...fields, micValid: true });
    expect(openJoinAccept(Buffer.alloc(16, 7), hex(chirpstackJoin.joinAccept))?.micValid).toBe(false);
  });

  it('derives lrwn keys.rs lorawan_1_0 NwkSKey and AppSKey', () => {
    const v = chirpstackJoin.keyDerivation;
    const keys = deriveSessionKeys(hex(v.key), v.joinNonce, v.netId, v.devNonce);
    expect(keys.nwkSKey.toString('hex')).toBe(v.nwkSKey);
    expect(keys.appSKey.toString('hex')).toBe(v.appSKey);
  });

  it('agrees with lora-packet on keys and on a join-accept with CFList, DLSettings and RxDelay', () => {
    const keys = deriveSessionKeys(appKey, 0x123456, '000013', 0x0a0b);
    const reference = lp.generateSessionKeys(appKey, Buffer.from('000013', 'hex'), Buffer.from('123456', 'hex'), Buffer.from('0a0b', 'hex'));
    expect(keys.nwkSKey.equals(reference.NwkSKey)).toBe(true);
    expect(keys.appSKey.equals(reference.AppSKey)).toBe(true);
    const accept = buildJoinAccept(appKey, { joinNonce: 0x123456, netId: '000013', devAddr: '26012345', rx1DrOffset: 2, rx2DataRate: 3, rxDelayS: 1, cfList: cfList(EU868) });
    expect(accept.length).toBe(33);
    const clear = lp.fromWire(lp.decryptJoinAccept(lp.fromWire(accept), appKey));
    expect(clear.DevAddr!.toString('hex')).toBe('26012345');
    expect(clear.AppNonce!.toString('hex')).toBe('123456');
    expect(clear.NetID!.toString('hex')).toBe('000013');
    expect(clear.DLSettings!.toString('hex')).toBe('23');
    expect(clear.RxDelay!.toString('hex')).toBe('01');
    expect(clear.CFList!.toString('hex')).toBe(cfList(EU868)!.toString('hex'));
    expect(lp.verifyMIC(clear, undefined, appKey)).toBe(true);
  });

  it('encodes the EU868 CFList as five frequencies / 100 in 3 LE bytes and type 0', () => {
    // 867.1 MHz / 100 = 8671000 = 0x844f18 → 18 4f 84
    expect(cfList(EU868)!.subarray(0, 3).toString('hex')).toBe('184f84');
    const list = cfList(EU868)!;
    expect([0, 1, 2, 3, 4].map((i) => list.readUIntLE(i * 3, 3) * 100)).toEqual([867_100_000, 867_300_000, 867_500_000, 867_700_000, 867_900_000]);
    expect(list[15]).toBe(0);
  });

  it('refuses fields out of range', () => {
    expect(() => joinAcceptMessage({ ...fields, joinNonce: 0x1000000 })).toThrow(/24 bits/);
    expect(() => joinAcceptMessage({ ...fields, rx1DrOffset: 8 })).toThrow(/RX1DROffset/);
  });
});

describe('DevAddr allocation', () => {
  it.each(chirpstackJoin.devAddrPrefixes.map((v) => [v.netId, v.prefix, v.bits]))('NetID %s owns DevAddr prefix %s/%i (lrwn netid.rs)', (netId, prefix, bits) => {
    expect(netIdDevAddrPrefix(netId)).toEqual({ prefix, bits });
  });

  it('gives NetID 000013 the 26000000/7 block', () => {
    expect(netIdRange('000013')).toEqual({ first: 0x26000000, last: 0x27ffffff });
  });

  it('parses first-last and prefix/bits ranges and refuses others', () => {
    expect(parseDevAddrRanges('26000000-260000ff, 27000000/24')).toEqual([{ first: 0x26000000, last: 0x260000ff }, { first: 0x27000000, last: 0x270000ff }]);
    expect(() => parseDevAddrRanges('26000000-25000000')).toThrow(/ends before/);
    expect(() => parseDevAddrRanges('lamp')).toThrow(/neither/);
  });

  it('allocates inside the ranges and steps around addresses in use', () => {
    const draws = [0, 0, 5];
    const pool = new DevAddrPool(parseDevAddrRanges('26000000-26000003,27000000-27000003'), () => draws.shift() ?? 7);
    expect(pool.allocate((a) => a === '26000000')).toBe('27000001');
    expect(pool.allocate()).toBe('27000003');
    const random = new DevAddrPool([netIdRange('000013')]);
    for (let i = 0; i < 200; i++) expect(random.contains(random.allocate())).toBe(true);
  });
});
