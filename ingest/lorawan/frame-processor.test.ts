import { describe, expect, it } from 'vitest';
import { buildUplinkFrame } from './frame-builder.js';
import { processFrameGroup, type AbpDeviceCandidate, type FrameOutcome } from './frame-processor.js';
import { chirpstackLrwn, hex, loraPacket } from './test-vectors.js';
import type { FrameGroup, GroupedReception } from './types.js';

const BAND = '450MHz';
const DEV_ADDR = '49be7df1';
const nwkSKey = hex(loraPacket.nwkSKey);
const appSKey = hex(loraPacket.appSKey);

function device(overrides: Partial<AbpDeviceCandidate> = {}): AbpDeviceCandidate {
  return { devEui: '70b3d57ed0001234', devAddr: DEV_ADDR, nwkSKey, appSKey, lastFCnt: null, allowCounterReset: false, ...overrides };
}

function reception(gatewayId: string, snrDb: number, best: boolean): GroupedReception {
  return {
    gatewayId,
    rssiDbm: -100,
    snrDb,
    receivedAt: new Date('2025-03-01T08:00:00.050Z'),
    frequencyHz: 450_500_000,
    spreadingFactor: 10,
    bandwidthHz: 125_000,
    codeRate: 'CR_4_5',
    context: Buffer.alloc(4),
    best,
  };
}

function group(phyPayload: Buffer): FrameGroup {
  return {
    phyPayload,
    key: phyPayload.toString('base64'),
    receptions: [reception('0000000000000a01', -2, false), reception('0000000000000a02', 6, true)],
    firstSeenAt: new Date('2025-03-01T08:00:00Z'),
  };
}

function lookup(...candidates: AbpDeviceCandidate[]) {
  const asked: string[] = [];
  return {
    asked,
    lookupByDevAddr: async (devAddr: string) => {
      asked.push(devAddr);
      return candidates.filter((c) => c.devAddr === devAddr);
    },
  };
}

function frameAt(fCnt32: number, fields: Partial<Parameters<typeof buildUplinkFrame>[0]> = {}): Buffer {
  return buildUplinkFrame({ devAddr: DEV_ADDR, fCnt32, fPort: 3, payload: Buffer.from([0x01, 0x42]), nwkSKey, appSKey, ...fields });
}

async function run(phyPayload: Buffer, ...candidates: AbpDeviceCandidate[]): Promise<FrameOutcome> {
  return processFrameGroup(group(phyPayload), { devices: lookup(...candidates), band: BAND });
}

function expectUplink(outcome: FrameOutcome): Extract<FrameOutcome, { kind: 'uplink' }> {
  if (outcome.kind !== 'uplink') throw new Error(`expected an uplink, got ${outcome.reason}: ${outcome.detail}`);
  return outcome;
}

describe('processFrameGroup', () => {
  it('turns lora-packet\'s published frame into an Uplink with identity devEui:fcnt32:mic and radio metadata', async () => {
    const outcome = expectUplink(await run(hex(loraPacket.testFrame), device({ lastFCnt: 1 })));
    expect(outcome.fCnt32).toBe(2);
    expect(outcome.counter).toBe('accept');
    expect(outcome.uplink).toEqual({
      id: '70b3d57ed0001234:2:2b11ff0d',
      devEui: '70b3d57ed0001234',
      receivedAt: new Date('2025-03-01T08:00:00Z'),
      fCnt: 2,
      fPort: 1,
      payload: Buffer.from('test'),
      source: 'concentrator',
      radio: {
        frequencyHz: 450_500_000,
        spreadingFactor: 10,
        bandwidthHz: 125_000,
        dataRate: 'SF10BW125',
        band: '450MHz',
        receptions: [
          { gatewayId: '0000000000000a01', rssiDbm: -100, snrDb: -2, receivedAt: new Date('2025-03-01T08:00:00.050Z'), best: false },
          { gatewayId: '0000000000000a02', rssiDbm: -100, snrDb: 6, receivedAt: new Date('2025-03-01T08:00:00.050Z'), best: true },
        ],
      },
      confirmed: false,
    });
  });

  it('decrypts ChirpStack lrwn\'s confirmed doc-test frame and reads DevStatusAns from its FOpts', async () => {
    const candidate = device({ devAddr: '01020304', nwkSKey: hex(chirpstackLrwn.nwkSKey), appSKey: hex(chirpstackLrwn.appSKey) });
    const outcome = expectUplink(await run(hex(chirpstackLrwn.confirmedUplink), candidate));
    expect(outcome.uplink.payload.toString('hex')).toBe(chirpstackLrwn.plaintext);
    expect(outcome.uplink.confirmed).toBe(true);
    expect(outcome.uplink.fPort).toBe(10);
    expect(outcome.macCommands).toMatchObject([{ name: 'DevStatusAns', battery: 115, marginDb: 7 }]);
  });

  it('verifies and decrypts a frame at counter 70000 using the device\'s stored 32-bit counter', async () => {
    const outcome = expectUplink(await run(frameAt(70_000), device({ lastFCnt: 69_990 })));
    expect(outcome.fCnt32).toBe(70_000);
    expect(outcome.uplink.id).toBe(`70b3d57ed0001234:70000:${frameAt(70_000).subarray(-4).toString('hex')}`);
    expect(outcome.uplink.payload).toEqual(Buffer.from([0x01, 0x42]));
  });

  it('follows the 16-bit counter across its wrap from 65535 to 65536', async () => {
    expect(expectUplink(await run(frameAt(65_536), device({ lastFCnt: 65_535 }))).fCnt32).toBe(65_536);
  });

  it('rejects a retransmission of the last accepted counter and names the device and counter', async () => {
    const outcome = await run(frameAt(100), device({ lastFCnt: 100 }));
    expect(outcome).toMatchObject({ kind: 'rejected', reason: 'retransmission', devEui: '70b3d57ed0001234', fCnt32: 100 });
  });

  it('rejects a replayed older frame', async () => {
    const outcome = await run(frameAt(50), device({ lastFCnt: 100 }));
    expect(outcome).toMatchObject({ kind: 'rejected', reason: 'replay', fCnt32: 50 });
  });

  it('rejects a frame from a device that restarted at 0 unless it may reset', async () => {
    expect(await run(frameAt(3), device({ lastFCnt: 70_000 }))).toMatchObject({ kind: 'rejected', reason: 'replay', fCnt32: 3 });
    const outcome = expectUplink(await run(frameAt(3), device({ lastFCnt: 70_000, allowCounterReset: true })));
    expect(outcome.counter).toBe('reset-accepted');
    expect(outcome.fCnt32).toBe(3);
  });

  it('gives a new frame at a counter reused after a reset another identity, and the same frame the same one', async () => {
    const before = expectUplink(await run(frameAt(3, { payload: Buffer.from([0x01]) }), device({ lastFCnt: 2 })));
    const afterReset = expectUplink(await run(frameAt(3, { payload: Buffer.from([0x00]) }), device({ lastFCnt: 70_000, allowCounterReset: true })));
    const heardAgain = expectUplink(await run(frameAt(3, { payload: Buffer.from([0x01]) }), device({ lastFCnt: 2 })));
    expect(afterReset.fCnt32).toBe(before.fCnt32);
    expect(afterReset.uplink.id).not.toBe(before.uplink.id);
    expect(heardAgain.uplink.id).toBe(before.uplink.id);
  });

  it('accepts replay and retransmission with the reset flag', async () => {
    expect(expectUplink(await run(frameAt(50), device({ lastFCnt: 100, allowCounterReset: true }))).counter).toBe('reset-accepted');
    expect(expectUplink(await run(frameAt(100), device({ lastFCnt: 100, allowCounterReset: true }))).counter).toBe('reset-accepted');
  });

  it('picks the device whose NwkSKey matches when several share the DevAddr, each with its own counter', async () => {
    const other = device({ devEui: '70b3d57ed0000001', nwkSKey: hex(chirpstackLrwn.nwkSKey), appSKey: hex(chirpstackLrwn.appSKey), lastFCnt: 5 });
    const mine = device({ devEui: '70b3d57ed0000002', lastFCnt: 69_999 });
    const outcome = expectUplink(await run(frameAt(70_000), other, mine));
    expect(outcome.devEui).toBe('70b3d57ed0000002');
    expect(outcome.fCnt32).toBe(70_000);
  });

  it('rejects a frame under a wrong NwkSKey as mic_mismatch', async () => {
    const wrong = device({ nwkSKey: hex(chirpstackLrwn.nwkSKey) });
    expect(await run(frameAt(7), wrong)).toMatchObject({ kind: 'rejected', reason: 'mic_mismatch', devAddr: DEV_ADDR, devEui: null });
  });

  it('rejects a frame whose DevAddr no device has', async () => {
    const devices = lookup(device({ devAddr: '01020304' }));
    const outcome = await processFrameGroup(group(frameAt(7)), { devices, band: BAND });
    expect(outcome).toMatchObject({ kind: 'rejected', reason: 'unknown_devaddr', devAddr: DEV_ADDR });
    expect(devices.asked).toEqual([DEV_ADDR]);
  });

  it('rejects a join-request before looking anything up', async () => {
    const devices = lookup(device());
    const outcome = await processFrameGroup(group(hex(loraPacket.joinRequestFrame)), { devices, band: BAND });
    expect(outcome).toMatchObject({ kind: 'rejected', reason: 'join_request_unsupported' });
    expect(devices.asked).toEqual([]);
  });

  it('reads MAC commands from an FPort 0 payload encrypted with the NwkSKey', async () => {
    const bytes = frameAt(8, { fPort: 0, payload: hex('02' + '06fe3e') });
    const outcome = expectUplink(await run(bytes, device({ lastFCnt: 7 })));
    expect(outcome.macCommands.map((c) => c.name)).toEqual(['LinkCheckReq', 'DevStatusAns']);
    expect(outcome.macCommands[1]).toMatchObject({ battery: 254, batteryLevelPercent: 100, marginDb: -2 });
  });

  it('rejects FPort 224 (test protocol) after the MIC tied it to a device', async () => {
    const outcome = await run(frameAt(8, { fPort: 224, payload: Buffer.alloc(0) }), device({ lastFCnt: 7 }));
    expect(outcome).toMatchObject({ kind: 'rejected', reason: 'reserved_fport', devEui: '70b3d57ed0001234' });
  });

  it('rejects ChirpStack lrwn\'s relay ForwardUplinkReq doc-test frame (FPort 226) as reserved_fport after its MIC matched', async () => {
    const relay = device({ devEui: '70b3d57ed0000226', devAddr: '01020304', nwkSKey: hex(chirpstackLrwn.relayNwkSKey), lastFCnt: 9 });
    const outcome = await run(hex(chirpstackLrwn.relayForwardUplink), relay);
    expect(outcome).toMatchObject({ kind: 'rejected', reason: 'reserved_fport', devEui: '70b3d57ed0000226', fCnt32: 10 });
  });

  it('reports the ADR bit and accepts a frame without FPort', async () => {
    const outcome = expectUplink(await run(frameAt(9, { fPort: null, payload: Buffer.alloc(0), adr: true }), device({ lastFCnt: 8 })));
    expect(outcome.adr).toBe(true);
    expect(outcome.uplink.fPort).toBeNull();
    expect(outcome.uplink.payload.length).toBe(0);
  });

  it('skips a candidate with a malformed key instead of throwing', async () => {
    const broken = device({ devEui: '70b3d57ed0000009', nwkSKey: Buffer.alloc(15) });
    const outcome = await run(frameAt(7), broken);
    expect(outcome).toMatchObject({ kind: 'rejected', reason: 'mic_mismatch' });
    expect(outcome.kind === 'rejected' && outcome.detail).toContain('1 candidate(s) skipped');
  });

  it('puts no key material into any rejection', async () => {
    const keys = [nwkSKey, appSKey, hex(chirpstackLrwn.nwkSKey), hex(chirpstackLrwn.appSKey)];
    const outcomes = [
      await run(frameAt(100), device({ lastFCnt: 100 })),
      await run(frameAt(50), device({ lastFCnt: 100 })),
      await run(frameAt(7), device({ nwkSKey: hex(chirpstackLrwn.nwkSKey), appSKey: hex(chirpstackLrwn.appSKey) })),
      await run(frameAt(7), device({ devAddr: '01020304' })),
      await run(frameAt(8, { fPort: 224, payload: Buffer.alloc(0) }), device({ lastFCnt: 7 })),
      await run(hex(loraPacket.joinRequestFrame), device()),
      await run(hex('40f17dbe49'), device()),
    ];
    expect(outcomes.every((o) => o.kind === 'rejected')).toBe(true);
    for (const outcome of outcomes) {
      const text = JSON.stringify(outcome).toLowerCase();
      for (const key of keys) {
        expect(text).not.toContain(key.toString('hex'));
        expect(text).not.toContain(key.toString('base64').toLowerCase().slice(0, 16));
      }
    }
  });

  it('lets a lookup failure propagate so the caller retries instead of dropping the frame', async () => {
    const devices = { lookupByDevAddr: async () => Promise.reject(new Error('database down')) };
    await expect(processFrameGroup(group(frameAt(7)), { devices, band: BAND })).rejects.toThrow('database down');
  });
});
