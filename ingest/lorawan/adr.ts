/**
 * Adaptive data rate for devices that set the ADR bit: LoRaWAN leaves the algorithm to
 * the network server; this is the one Semtech describes ("LoRaWAN – simple rate
 * adaptation recommended algorithm", AN1200.22) and ChirpStack runs by default:
 *
 *   margin = max SNR of the last 20 uplinks − demodulation floor of the current SF − reserve
 *   steps  = floor(margin / 3)
 *   steps > 0: raise the DR one step at a time up to the region's ADR maximum, then lower
 *              the TX power (TXPower index + 1 = 2 dB less) while steps remain;
 *   steps < 0: raise the TX power (index − 1) while below the maximum.
 *
 * Design note. The SNR history is kept per worker in memory (bounded), not in the
 * database: losing it (a restart, another worker taking the device's frames) only
 * delays the next adjustment until 20 uplinks have been seen again, and a LinkADRReq
 * based on fewer uplinks would act on noise. The TX power index the device runs at is
 * what it last acknowledged (LinkADRAns), 0 (maximum) until then.
 */
import { FifoMap } from '../fifo-map.js';
import type { DownlinkMacCommand } from './mac-downlink.js';
import { REQUIRED_SNR_DB, type RegionParameters } from './region.js';

export const ADR_HISTORY = 20;
const STEP_DB = 3;
const MAX_DEVICES = 100_000;

export interface AdrInput {
  /** SNR of the best reception of each of the last uplinks, newest last. */
  snrHistoryDb: readonly number[];
  /** The uplink's data rate (its index in the region). */
  dataRate: number;
  spreadingFactor: number;
  txPowerIndex: number;
  region: RegionParameters;
  marginDb: number;
}

/** The LinkADRReq to send, or null when nothing should change (or too little is known). */
export function adrDecision(input: AdrInput): Extract<DownlinkMacCommand, { name: 'LinkADRReq' }> | null {
  if (input.snrHistoryDb.length < ADR_HISTORY) return null;
  const floor = REQUIRED_SNR_DB[input.spreadingFactor];
  if (floor === undefined) return null;
  const maxSnr = Math.max(...input.snrHistoryDb.slice(-ADR_HISTORY));
  let steps = Math.floor((maxSnr - floor - input.marginDb) / STEP_DB);
  let dr = input.dataRate;
  let power = input.txPowerIndex;
  while (steps > 0 && dr < input.region.maxAdrDataRate) {
    dr++;
    steps--;
  }
  while (steps > 0 && power < input.region.maxTxPowerIndex) {
    power++;
    steps--;
  }
  while (steps < 0 && power > 0) {
    power--;
    steps++;
  }
  if (dr === input.dataRate && power === input.txPowerIndex) return null;
  // ChMaskCntl 6: every channel the device has defined stays on (the CFList ones included).
  return { name: 'LinkADRReq', dataRate: dr, txPowerIndex: power, channelMask: 0, channelMaskControl: 6, nbTrans: 1 };
}

interface DeviceAdrState {
  snrs: number[];
  txPowerIndex: number;
  /** What was asked last and not yet answered. */
  requested: { dataRate: number; txPowerIndex: number } | null;
}

/** Per-device ADR memory of one worker (see the module note). */
export class AdrTracker {
  private readonly devices = new FifoMap<string, DeviceAdrState>();

  /** Records an uplink's SNR; returns the device's state. */
  observe(devEui: string, snrDb: number | null): DeviceAdrState {
    let state = this.devices.get(devEui);
    if (!state) {
      if (this.devices.size >= MAX_DEVICES) this.devices.shift();
      state = { snrs: [], txPowerIndex: 0, requested: null };
      this.devices.set(devEui, state);
    }
    if (snrDb !== null) {
      state.snrs.push(snrDb);
      if (state.snrs.length > ADR_HISTORY) state.snrs.shift();
    }
    return state;
  }

  /** A LinkADRReq went out: start the history afresh once the device answers. */
  requested(devEui: string, request: { dataRate: number; txPowerIndex: number }): void {
    const state = this.devices.get(devEui);
    if (state) state.requested = request;
  }

  /** LinkADRAns status bits (power ACK bit 2, DR ACK bit 1, channel mask ACK bit 0). */
  answered(devEui: string, status: number): void {
    const state = this.devices.get(devEui);
    if (!state?.requested) return;
    if ((status & 0b111) === 0b111) {
      state.txPowerIndex = state.requested.txPowerIndex;
      // The SNRs were measured at the old settings.
      state.snrs = [];
    }
    state.requested = null;
  }

  /** Forget a device (its session changed). */
  forget(devEui: string): void {
    this.devices.delete(devEui);
  }
}
