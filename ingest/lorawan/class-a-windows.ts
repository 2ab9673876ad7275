/**
 * When and how a Class A device listens after an uplink (spec 1.0.4 §3.3): RX1 opens
 * RECEIVE_DELAY1 (data) or JOIN_ACCEPT_DELAY1 (join) after the end of the uplink, on the
 * region's RX1 frequency and data rate; RX2 one second later on the region's fixed RX2
 * frequency and data rate. A downlink goes to the concentrator with the best reception
 * of the uplink (highest SNR, then RSSI: dedup-window.ts marks it), timed against that
 * concentrator's own reception of the uplink (its `context`, the SX130x counter the
 * gateway bridge returns with the downlink), so the network's latency does not move it.
 *
 * Both windows travel in one gw.DownlinkFrame as two items (RX1 first): ChirpStack's
 * gateway bridge tries them in order and says in its `event/ack` which one went out,
 * or why each failed (gw.proto, DownlinkFrame.items and DownlinkTxAck.items). A refused
 * RX1 (too late, collision, duty cycle) is thereby retried on RX2 by the bridge itself.
 */
import { dataRateIndex, maxPayloadBytes, rx1DataRate, rx1FrequencyHz, type RegionParameters } from './region.js';
import type { GroupedReception } from './types.js';

export interface DownlinkTxItem {
  window: 'rx1' | 'rx2';
  frequencyHz: number;
  dataRate: number;
  spreadingFactor: number;
  bandwidthHz: number;
  powerDbm: number;
  /** After the concentrator's reception of the uplink, s. */
  delayS: number;
}

export interface DownlinkWindows {
  gatewayId: string;
  /** The chosen concentrator's context bytes of the uplink. */
  context: Buffer;
  items: DownlinkTxItem[];
}

export type WindowsResult = { ok: true; windows: DownlinkWindows } | { ok: false; detail: string };

/**
 * The windows for a downlink of `phyPayloadBytes` (FRMPayload + FOpts: `frmBytes`) after
 * an uplink heard as `receptions`. RX1 needs the uplink's DR in the region; a window
 * whose DR cannot carry the payload is left out.
 * @param kind `join` uses JOIN_ACCEPT_DELAY1, `data` RECEIVE_DELAY1.
 */
export function classAWindows(region: RegionParameters, receptions: readonly GroupedReception[], kind: 'join' | 'data', frmBytes: number): WindowsResult {
  const best = receptions.find((r) => r.best) ?? receptions[0];
  if (!best) return { ok: false, detail: 'the uplink has no reception to answer through' };
  const delay = kind === 'join' ? region.joinAcceptDelayS : region.rxDelayS;
  const items: DownlinkTxItem[] = [];
  const upDr = dataRateIndex(region, best.spreadingFactor, best.bandwidthHz);
  if (upDr !== null && best.frequencyHz !== null) {
    const dr = rx1DataRate(region, upDr);
    const rate = region.dataRates[dr];
    const frequencyHz = rx1FrequencyHz(region, best.frequencyHz);
    if (rate && frmBytes <= maxPayloadBytes(region, dr)) {
      items.push({ window: 'rx1', frequencyHz, dataRate: dr, ...rate, powerDbm: region.downlinkPowerDbm(frequencyHz), delayS: delay });
    }
  }
  const rx2 = region.dataRates[region.rx2DataRate];
  if (rx2 && frmBytes <= maxPayloadBytes(region, region.rx2DataRate)) {
    items.push({ window: 'rx2', frequencyHz: region.rx2FrequencyHz, dataRate: region.rx2DataRate, ...rx2, powerDbm: region.downlinkPowerDbm(region.rx2FrequencyHz), delayS: delay + 1 });
  }
  if (items.length === 0) {
    return { ok: false, detail: `${frmBytes} bytes fit neither RX1 (uplink ${best.spreadingFactor ? `SF${best.spreadingFactor}` : 'DR unknown'}) nor RX2 (DR${region.rx2DataRate}) in ${region.name}` };
  }
  return { ok: true, windows: { gatewayId: best.gatewayId, context: best.context, items } };
}
