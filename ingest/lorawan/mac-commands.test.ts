import { describe, expect, it } from 'vitest';
import { isDevStatusAns, parseUplinkMacCommands } from './mac-commands.js';
import { hex } from './test-vectors.js';

describe('parseUplinkMacCommands', () => {
  it('reads DevStatusAns battery 115, margin 7 from ChirpStack lrwn\'s doc-test FOpts 067307', () => {
    const { commands, warnings } = parseUplinkMacCommands(hex('067307'));
    expect(warnings).toEqual([]);
    expect(commands).toEqual([
      { cid: 0x06, name: 'DevStatusAns', battery: 115, externalPower: false, batteryUnknown: false, batteryLevelPercent: 45.28, marginDb: 7 },
    ]);
  });

  it.each([
    ['0x3f', 0x3f, -1],
    ['0x20', 0x20, -32],
    ['0x1f', 0x1f, 31],
    ['upper RFU bits set (0xc5)', 0xc5, 5],
  ])('reads the margin as 6-bit two\'s complement: %s → %i dB', (_name, byte, db) => {
    const [cmd] = parseUplinkMacCommands(Buffer.from([0x06, 100, byte])).commands;
    expect(cmd && isDevStatusAns(cmd) && cmd.marginDb).toBe(db);
  });

  it('maps battery 0 to external power, 255 to unknown, 254 to 100 %', () => {
    const [ext, unknown, full, empty] = parseUplinkMacCommands(hex('060000' + '06ff00' + '06fe00' + '060100')).commands;
    expect(ext).toMatchObject({ externalPower: true, batteryUnknown: false, batteryLevelPercent: null });
    expect(unknown).toMatchObject({ externalPower: false, batteryUnknown: true, batteryLevelPercent: null });
    expect(full).toMatchObject({ batteryLevelPercent: 100 });
    expect(empty).toMatchObject({ batteryLevelPercent: 0.39 });
  });

  it('reads LinkCheckReq, which has no payload', () => {
    expect(parseUplinkMacCommands(hex('02')).commands).toEqual([{ cid: 0x02, name: 'LinkCheckReq' }]);
  });

  it('skips known commands by their length and reads what follows', () => {
    // LinkADRAns(07), DutyCycleAns, RXParamSetupAns(07), LinkCheckReq, DevStatusAns(200, -2)
    const { commands, warnings } = parseUplinkMacCommands(hex('0307' + '04' + '0507' + '02' + '06c83e'));
    expect(warnings).toEqual([]);
    expect(commands.map((c) => c.name)).toEqual(['LinkADRAns', 'DutyCycleAns', 'RXParamSetupAns', 'LinkCheckReq', 'DevStatusAns']);
    expect(commands[0]).toMatchObject({ payload: hex('07') });
    expect(commands[4]).toMatchObject({ battery: 200, marginDb: -2 });
  });

  it('stops at an unknown CID with a warning and keeps the commands before it', () => {
    const { commands, warnings } = parseUplinkMacCommands(hex('02' + '8001' + '067307'));
    expect(commands.map((c) => c.name)).toEqual(['LinkCheckReq']);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain('0x80');
  });

  it('stops with a warning when a payload is cut short', () => {
    const { commands, warnings } = parseUplinkMacCommands(hex('0206' + '73'));
    expect(commands.map((c) => c.name)).toEqual(['LinkCheckReq']);
    expect(warnings[0]).toContain('DevStatusAns');
  });
});
