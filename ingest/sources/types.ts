import type { GatewayStatsReport, GatewayUplinkFrame } from '../lorawan/index.js';
import type { Uplink } from '../types.js';

/** Device health reported by the network server (ChirpStack `status` events). */
export interface DeviceHealth {
  devEui: string;
  time: Date;
  /** Battery level in percent; null when the device is externally powered or does not know. */
  batteryLevelPercent: number | null;
  externalPower: boolean;
  /** Demodulation margin of the last DevStatusReq, dB. */
  marginDb: number | null;
}

/** What a source adapter makes of one MQTT message. */
export type SourceResult =
  | { kind: 'uplink'; uplink: Uplink }
  | { kind: 'health'; health: DeviceHealth }
  /** One concentrator's copy of a raw frame: for the LoRaWAN frame layer. */
  | { kind: 'frame'; frame: GatewayUplinkFrame; band: string | null }
  | { kind: 'concentrator_stats'; stats: GatewayStatsReport; band: string | null }
  | { kind: 'dead_letter'; reason: string; detail: string; devEui: string | null }
  | { kind: 'ignored' };

export interface SourceAdapter {
  readonly name: string;
  /** MQTT topic filters this adapter consumes. */
  readonly filters: string[];
  /** Parses one message; throws IngestError for bad input (the caller dead-letters it). */
  parse(topic: string, payload: Buffer): SourceResult;
}
