/**
 * Regional parameters: what the radio side needs to answer a device in its band.
 *
 * EU868 follows the LoRaWAN Regional Parameters RP002-1.0.3 §2.4 (EU863-870): LoRa data
 * rates DR0–DR5 = SF12…SF7 at 125 kHz and DR6 = SF7 at 250 kHz, the three default channels
 * 868.1/868.3/868.5 MHz, RX1 on the uplink frequency at DR(up) − RX1DROffset, RX2 at
 * 869.525 MHz DR0, RECEIVE_DELAY1 1 s and JOIN_ACCEPT_DELAY1 5 s (each second window one
 * second later), a CFList of type 0 with five further channels, and the maximum
 * FRMPayload N per DR without a repeater (51, 51, 51, 115, 242, 242, 242). The downlink
 * EIRP is 16 dBm in 863–869.2 MHz and 29 dBm in the 869.4–869.65 MHz sub-band of RX2
 * (ChirpStack's lrwn/src/region/eu868.rs uses the same figures).
 *
 * There is no official 450 MHz LoRaWAN region: its channels, data rates, RX2 and the
 * RX1 frequency rule (a fixed duplex offset where the licence is FDD) come from the
 * operator's configuration (lorawan-config.ts). Nothing here assumes EU868 for it.
 */

/** A LoRa data rate. */
export interface LoraDataRate {
  spreadingFactor: number;
  bandwidthHz: number;
}

export interface RegionParameters {
  /** `EU868`, or the operator's band label (e.g. `450MHz`). */
  name: string;
  /** Index = DR; null for a DR that is not LoRa (FSK, LR-FHSS), which downlinks do not use. */
  dataRates: readonly (LoraDataRate | null)[];
  /** Largest FRMPayload + FOpts (N) per DR, bytes. */
  maxPayloadBytes: readonly number[];
  /** Highest DR a device may be moved to by ADR. */
  maxAdrDataRate: number;
  /** Channels every device knows from its firmware, Hz. */
  defaultChannelsHz: readonly number[];
  /** Further channels sent in the join-accept's CFList (at most five), Hz. */
  extraChannelsHz: readonly number[];
  /** RX1 frequency = uplink frequency + this, Hz (0 for EU868). */
  rx1FrequencyOffsetHz: number;
  /** RX1DROffset given in join-accepts. */
  rx1DrOffset: number;
  rx2FrequencyHz: number;
  rx2DataRate: number;
  /** RX1 opens this long after the end of a data uplink (RX2 one second later), s. */
  rxDelayS: number;
  /** RX1 opens this long after the end of a join-request (RX2 one second later), s. */
  joinAcceptDelayS: number;
  /** Downlink EIRP at a frequency, dBm. */
  downlinkPowerDbm(frequencyHz: number): number;
  /** TXPower index 0 = max EIRP, each step 2 dB less (RP002), up to this index. */
  maxTxPowerIndex: number;
}

/** Demodulation floor of LoRa per spreading factor, dB (Semtech SX1276 datasheet, table 13). */
export const REQUIRED_SNR_DB: Readonly<Record<number, number>> = { 6: -5, 7: -7.5, 8: -10, 9: -12.5, 10: -15, 11: -17.5, 12: -20 };

const LORA_125 = (sf: number): LoraDataRate => ({ spreadingFactor: sf, bandwidthHz: 125_000 });

export const EU868: RegionParameters = {
  name: 'EU868',
  dataRates: [LORA_125(12), LORA_125(11), LORA_125(10), LORA_125(9), LORA_125(8), LORA_125(7), { spreadingFactor: 7, bandwidthHz: 250_000 }, null],
  maxPayloadBytes: [51, 51, 51, 115, 242, 242, 242, 242],
  maxAdrDataRate: 5,
  defaultChannelsHz: [868_100_000, 868_300_000, 868_500_000],
  extraChannelsHz: [867_100_000, 867_300_000, 867_500_000, 867_700_000, 867_900_000],
  rx1FrequencyOffsetHz: 0,
  rx1DrOffset: 0,
  rx2FrequencyHz: 869_525_000,
  rx2DataRate: 0,
  rxDelayS: 1,
  joinAcceptDelayS: 5,
  downlinkPowerDbm: (f) => (f >= 869_400_000 && f < 869_650_000 ? 29 : 16),
  maxTxPowerIndex: 7,
};

/** The DR index of a LoRa modulation in this region; null when the region has none like it. */
export function dataRateIndex(region: RegionParameters, spreadingFactor: number | null, bandwidthHz: number | null): number | null {
  if (spreadingFactor === null || bandwidthHz === null) return null;
  const i = region.dataRates.findIndex((d) => d !== null && d.spreadingFactor === spreadingFactor && d.bandwidthHz === bandwidthHz);
  return i < 0 ? null : i;
}

/** RX1 data rate for an uplink DR (RP002: DR(up) − RX1DROffset, not below DR0). */
export function rx1DataRate(region: RegionParameters, uplinkDr: number): number {
  return Math.max(0, uplinkDr - region.rx1DrOffset);
}

export function rx1FrequencyHz(region: RegionParameters, uplinkFrequencyHz: number): number {
  return uplinkFrequencyHz + region.rx1FrequencyOffsetHz;
}

export function maxPayloadBytes(region: RegionParameters, dr: number): number {
  return region.maxPayloadBytes[dr] ?? 0;
}

/**
 * The join-accept CFList of type 0 (RP002 §2.4.4): up to five frequencies, each as
 * frequency / 100 in three little-endian bytes, then the CFListType byte 0. null when
 * the region has no extra channels.
 */
export function cfList(region: RegionParameters): Buffer | null {
  if (region.extraChannelsHz.length === 0) return null;
  const out = Buffer.alloc(16);
  region.extraChannelsHz.slice(0, 5).forEach((hz, i) => out.writeUIntLE(Math.round(hz / 100), i * 3, 3));
  out[15] = 0;
  return out;
}

/** ChMask of the channels a device uses after the join (defaults, then CFList channels), as LinkADRReq sends it. */
export function channelMask(region: RegionParameters): number {
  const n = Math.min(16, region.defaultChannelsHz.length + Math.min(5, region.extraChannelsHz.length));
  return (2 ** n - 1) & 0xffff;
}
