import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from './config.js';

describe('LoRaWAN network settings (LORAWAN_*)', () => {
  it('defaults to NetID 000000, its DevAddr block, EU868 and the placeholder 450 MHz plan', () => {
    const c = loadConfig({}).lorawan;
    expect(c.netId).toBe('000000');
    expect(c.devAddrRanges).toEqual([{ first: 0x00000000, last: 0x01ffffff }]);
    expect(Object.keys(c.regions).sort()).toEqual(['450MHz', 'EU868']);
    expect(c.band450IsPlaceholder).toBe(true);
    expect(c.regions['450MHz']).toMatchObject({ defaultChannelsHz: [451_350_000, 451_450_000, 451_550_000, 451_650_000], rx2FrequencyHz: 451_750_000, rx2DataRate: 0, rx1FrequencyOffsetHz: 0 });
    expect(c.regions.EU868).toMatchObject({ rx2FrequencyHz: 869_525_000, rxDelayS: 1, joinAcceptDelayS: 5 });
    expect(c).toMatchObject({ joinDedupWindowMs: 100, devStatusIntervalS: 86_400, downlinkAckTimeoutMs: 10_000, downlinkMaxAttempts: 3, adrMarginDb: 10 });
  });

  it('takes the operator\'s 450 MHz band: FDD offset, data rates, sizes, RX2 and power', () => {
    const c = loadConfig({
      LORAWAN_NET_ID: '000013', LORAWAN_450_CHANNELS_HZ: '452100000,452300000', LORAWAN_450_EXTRA_CHANNELS_HZ: '452500000',
      LORAWAN_450_RX1_OFFSET_HZ: '10000000', LORAWAN_450_RX2_FREQUENCY_HZ: '462900000', LORAWAN_450_RX2_DATA_RATE: '1',
      LORAWAN_450_DATA_RATES: 'SF12BW125,SF10BW125,SF8BW125', LORAWAN_450_MAX_PAYLOAD_BYTES: '51,59,115', LORAWAN_450_TX_POWER_DBM: '30', LORAWAN_RX1_DELAY_S: '2',
    }).lorawan;
    const band = c.regions['450MHz']!;
    expect(c.devAddrRanges).toEqual([{ first: 0x26000000, last: 0x27ffffff }]);
    expect(c.band450IsPlaceholder).toBe(false);
    expect(band).toMatchObject({
      defaultChannelsHz: [452_100_000, 452_300_000], extraChannelsHz: [452_500_000], rx1FrequencyOffsetHz: 10_000_000, rx2FrequencyHz: 462_900_000, rx2DataRate: 1,
      dataRates: [{ spreadingFactor: 12, bandwidthHz: 125_000 }, { spreadingFactor: 10, bandwidthHz: 125_000 }, { spreadingFactor: 8, bandwidthHz: 125_000 }],
      maxPayloadBytes: [51, 59, 115], maxAdrDataRate: 2, rxDelayS: 2,
    });
    expect(band.downlinkPowerDbm(462_900_000)).toBe(30);
    expect(c.regions.EU868!.rxDelayS).toBe(2);
  });

  it.each([
    [{ LORAWAN_NET_ID: '13' }, 'LORAWAN_NET_ID: "13" is not 6 hex digits'],
    [{ LORAWAN_DEVADDR_RANGES: '26000000-25000000' }, 'LORAWAN_DEVADDR_RANGES: DevAddr range 26000000-25000000 ends before it starts'],
    [{ LORAWAN_450_DATA_RATES: 'SF13BW125' }, 'LORAWAN_450_DATA_RATES: "SF13BW125" is not a LoRa data rate'],
    [{ LORAWAN_450_DATA_RATES: 'SF12BW125,SF11BW125' }, 'LORAWAN_450_MAX_PAYLOAD_BYTES: needs one size of 1..242 bytes per data rate (2)'],
    [{ LORAWAN_450_CHANNELS_HZ: '451.35' }, 'LORAWAN_450_CHANNELS_HZ: "451.35" is not a frequency in Hz'],
    [{ LORAWAN_450_RX2_DATA_RATE: '9' }, 'LORAWAN_450_RX2_DATA_RATE: 9 is outside 0..5'],
    [{ LORAWAN_450_EXTRA_CHANNELS_HZ: '1000000,2000000,3000000,4000000,5000000,6000000' }, 'LORAWAN_450_EXTRA_CHANNELS_HZ: a CFList holds at most five channels'],
    [{ LORAWAN_DOWNLINK_MAX_ATTEMPTS: '0' }, 'LORAWAN_DOWNLINK_MAX_ATTEMPTS: 0 is outside 1..100'],
  ])('refuses %o with one line naming the variable', (env, message) => {
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(message);
  });
});
