import type { GatewayStatsReport, GatewayUplinkFrame } from '../lorawan/index.js';
import type { BridgeEncoding, GatewayTxAck } from '../lorawan/gateway-downlink.js';
import type { DownlinkRouteRow, NetworkServerReport } from '../../storage/index.js';
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
  /** `route`: how the device's downlinks go back (network-server sources say; learnt by ingest). */
  | { kind: 'uplink'; uplink: Uplink; route?: DownlinkRouteRow }
  | { kind: 'health'; health: DeviceHealth }
  /** One concentrator's copy of a raw frame: for the LoRaWAN frame layer. */
  | { kind: 'frame'; frame: GatewayUplinkFrame; band: string | null; prefix?: string; encoding?: BridgeEncoding }
  /** A gateway bridge's answer to a downlink stadtfunk published. */
  | { kind: 'tx_ack'; ack: GatewayTxAck }
  /** A network server's report about an application downlink handed to it. */
  | { kind: 'downlink_report'; report: NetworkServerReport }
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
