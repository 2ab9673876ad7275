/**
 * What stadtfunk answers after a class A uplink, in one downlink (spec 1.0.4 §3.3, §5):
 *
 *   ACK bit for a confirmed uplink · LinkCheckAns for a LinkCheckReq · DeviceTimeAns for a
 *   DeviceTimeReq · DevStatusReq when one is due · LinkADRReq when ADR decides one (or an
 *   empty downlink when the device set ADRACKReq) · the next queued application downlink
 *
 * MAC commands ride in FOpts (at most 15 bytes) beside an application payload; without
 * one they go in FOpts, or on FPort 0 when longer. Answers come before requests, and a
 * request that does not fit waits for the next uplink. Nothing to say: no downlink.
 *
 * Pure: the caller gives the session (keys and FCntDown) and the queue head, and stores
 * the decision (the counter moves in the uplink's transaction) before it publishes.
 */
import { classAWindows, type DownlinkWindows } from './class-a-windows.js';
import { buildDownlinkFrame } from './downlink-frame.js';
import { downlinkMacLength, encodeDownlinkMac, type DownlinkMacCommand } from './mac-downlink.js';
import type { UplinkMacCommand } from './mac-commands.js';
import { REQUIRED_SNR_DB, type RegionParameters } from './region.js';
import type { GroupedReception } from './types.js';

const MAX_FOPTS = 15;

export interface DataDownlinkInput {
  devEui: string;
  devAddr: string;
  nwkSKey: Buffer;
  appSKey: Buffer;
  /** Last used FCntDown of this session; null before the first downlink. */
  fCntDown: number | null;
  uplink: {
    confirmed: boolean;
    adrAckReq: boolean;
    receptions: readonly GroupedReception[];
    /** When the best concentrator heard the end of the uplink (for DeviceTimeAns). */
    receivedAt: Date;
  };
  macCommands: readonly UplinkMacCommand[];
  region: RegionParameters;
  devStatusDue: boolean;
  adrRequest: Extract<DownlinkMacCommand, { name: 'LinkADRReq' }> | null;
  queued: { id: number; fPort: number; payload: Buffer; confirmed: boolean } | null;
}

export interface DataDownlinkPlan {
  fCntDown: number;
  /** The PHYPayload, the same for RX1 and RX2. */
  phyPayload: Buffer;
  windows: DownlinkWindows;
  ack: boolean;
  confirmed: boolean;
  fPort: number | null;
  /** The queue item carried, if any. */
  queueId: number | null;
  mac: DownlinkMacCommand[];
}

/** The downlink after an uplink, or null when there is nothing to send. */
export function planDataDownlink(input: DataDownlinkInput): DataDownlinkPlan | null {
  const best = input.uplink.receptions.find((r) => r.best) ?? input.uplink.receptions[0];
  const answers: DownlinkMacCommand[] = [];
  for (const command of input.macCommands) {
    if (command.name === 'LinkCheckReq' && best?.snrDb != null && best.spreadingFactor != null) {
      const floor = REQUIRED_SNR_DB[best.spreadingFactor] ?? -20;
      answers.push({ name: 'LinkCheckAns', marginDb: best.snrDb - floor, gatewayCount: input.uplink.receptions.length });
    } else if (command.name === 'DeviceTimeReq') {
      answers.push({ name: 'DeviceTimeAns', time: input.uplink.receivedAt });
    }
  }
  const requests: DownlinkMacCommand[] = [];
  if (input.adrRequest) requests.push(input.adrRequest);
  if (input.devStatusDue) requests.push({ name: 'DevStatusReq' });
  const wanted = answers.length > 0 || requests.length > 0 || input.uplink.confirmed || input.uplink.adrAckReq || input.queued !== null;
  if (!wanted) return null;

  const fCntDown = (input.fCntDown ?? -1) + 1;
  if (fCntDown > 0xffffffff) return null;
  const tryPlan = (queued: DataDownlinkInput['queued'], mac: DownlinkMacCommand[]): DataDownlinkPlan | null => {
    const fits = fitFOpts(mac, queued ? MAX_FOPTS : Number.POSITIVE_INFINITY);
    const macBytes = encodeDownlinkMac(fits);
    const onPort0 = !queued && macBytes.length > MAX_FOPTS;
    const frmBytes = (queued?.payload.length ?? 0) + macBytes.length;
    const windows = classAWindows(input.region, input.uplink.receptions, 'data', frmBytes);
    if (!windows.ok) return null;
    const fPort = queued ? queued.fPort : onPort0 ? 0 : null;
    const phyPayload = buildDownlinkFrame({
      devAddr: input.devAddr,
      fCnt32: fCntDown,
      confirmed: queued?.confirmed ?? false,
      ack: input.uplink.confirmed,
      fOpts: onPort0 ? Buffer.alloc(0) : macBytes,
      fPort,
      payload: queued ? queued.payload : onPort0 ? macBytes : Buffer.alloc(0),
      nwkSKey: input.nwkSKey,
      appSKey: input.appSKey,
    });
    return { fCntDown, phyPayload, windows: windows.windows, ack: input.uplink.confirmed, confirmed: queued?.confirmed ?? false, fPort, queueId: queued?.id ?? null, mac: fits };
  };
  // The queued payload may not fit this uplink's windows: then MAC and ACK go alone and it waits.
  return tryPlan(input.queued, [...answers, ...requests]) ?? (input.queued ? tryPlan(null, [...answers, ...requests]) : null);
}

/** The commands, in order, that fit into `room` bytes (a later one that fits still goes). */
function fitFOpts(commands: DownlinkMacCommand[], room: number): DownlinkMacCommand[] {
  const out: DownlinkMacCommand[] = [];
  let used = 0;
  for (const c of commands) {
    const n = downlinkMacLength(c);
    if (used + n <= room) {
      out.push(c);
      used += n;
    }
  }
  return out;
}
