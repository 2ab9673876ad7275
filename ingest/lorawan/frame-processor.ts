/**
 * The recipe one deduplicated frame group follows (the network-server half of
 * ChirpStack's `uplink/data.rs`, for ABP devices on LoRaWAN 1.0.x):
 *
 *   parseFrame → findCandidates (by DevAddr) → matchCandidate (MIC with each
 *   candidate's own 32-bit counter) → checkFrameCounter → decryptPayload →
 *   readMacCommands → buildUplink
 *
 * Pure apart from the one lookup it is given: it decides, the caller persists. On
 * `uplink` the caller stores the uplink and `fCnt32` as the device's last counter in
 * one transaction, guarded so the counter only moves as decided here (another worker
 * may have taken the same frame: then the uplink identity makes the second insert a
 * no-op).
 *
 * Identity: `devEui:fCnt32:mic`. DevEUI + 32-bit FCnt alone (shared/ARCHITECTURE.md)
 * would collide after an allowed counter reset, when a new frame reuses an old counter
 * and would be dropped as a duplicate of the old row. The MIC covers the counter and
 * the bytes, so the same frame heard again keeps its identity while a new frame at a
 * reused counter gets another.
 *
 * Nothing in an outcome carries key material: details name DevAddr, DevEUI and
 * counters only.
 */
import { FrameRejectReason, type FrameRejectReasonCode } from './errors.js';
import { checkCounter, rebuildFCnt, sameEpochCounter, type CounterVerdict } from './frame-counter.js';
import { decryptUplinkPayload, frmPayloadKeyFor } from './decrypt.js';
import { parseUplinkMacCommands, type UplinkMacCommand } from './mac-commands.js';
import { verifyUplinkMic } from './mic.js';
import { parsePhyPayload, type DataUpFrame } from './phy-payload.js';
import type { FrameGroup } from './types.js';
import type { Reception, Uplink } from '../types.js';

/** An ABP device registered under a DevAddr, with what MIC and counter checks need. */
export interface AbpDeviceCandidate {
  /** 16 lower-case hex digits. */
  devEui: string;
  /** 8 hex digits, most significant byte first. */
  devAddr: string;
  /** 16 bytes. */
  nwkSKey: Buffer;
  /** 16 bytes. */
  appSKey: Buffer;
  /** Last accepted 32-bit uplink counter; null before the first uplink. */
  lastFCnt: number | null;
  /** Accept a counter at or below the last one (device restarts at 0). Disables replay protection. */
  allowCounterReset: boolean;
  /** OTAA: the session of a join no uplink has proven yet (an uplink that verifies with it promotes it). */
  pending?: boolean;
  /** The pending session's NwkSKey as stored (sealed): the promotion is guarded by it. */
  sealedNwkSKey?: string;
  /** Last used downlink counter of this session; null before the first downlink. */
  fCntDown?: number | null;
  /** Application downlinks are queued or waiting for the device's ACK. */
  openDownlinks?: boolean;
  /** A DevStatusReq is due. */
  devStatusDue?: boolean;
  /** The device's next application downlink, when one is queued and none is in flight. */
  queued?: { id: number; fPort: number; payload: Buffer; confirmed: boolean } | null;
}

/** Storage implements this; several devices may share one DevAddr. */
export interface AbpDeviceLookup {
  /** @param devAddr 8 lower-case hex digits. Rejections (database down) propagate to the caller. */
  lookupByDevAddr(devAddr: string): Promise<AbpDeviceCandidate[]>;
}

export interface FrameProcessorOptions {
  devices: AbpDeviceLookup;
  /** Band label of the concentrators, e.g. `450MHz` (from the concentrator configuration). */
  band: string | null;
}

export type FrameOutcome =
  | {
      kind: 'uplink';
      uplink: Uplink;
      devEui: string;
      /** The frame's 32-bit counter: persist it as the device's last accepted counter. */
      fCnt32: number;
      /** `reset-accepted` when the counter went down on a device that may reset. */
      counter: Extract<CounterVerdict, 'accept' | 'reset-accepted'>;
      /** From FOpts, or from FRMPayload on FPort 0. */
      macCommands: UplinkMacCommand[];
      macWarnings: string[];
      /** The device's ADR bit. */
      adr: boolean;
      /** ADRACKReq: the device wants any downlink to know the network still hears it. */
      adrAckReq: boolean;
      /** The uplink's ACK bit: it acknowledges the last confirmed downlink. */
      ack: boolean;
      /** The session the MIC verified with. */
      session: AbpDeviceCandidate;
    }
  | {
      kind: 'rejected';
      reason: FrameRejectReasonCode;
      detail: string;
      devAddr: string | null;
      /** Set once the MIC tied the frame to a device (replay, retransmission, reserved port). */
      devEui: string | null;
      fCnt32: number | null;
    };

type Rejected = Extract<FrameOutcome, { kind: 'rejected' }>;

interface Match {
  candidate: AbpDeviceCandidate;
  fCnt32: number;
}

/** Runs the recipe for one frame group. Never throws for bad frames; lookup errors propagate. */
export async function processFrameGroup(group: FrameGroup, options: FrameProcessorOptions): Promise<FrameOutcome> {
  const parsed = parseFrame(group.phyPayload);
  if ('kind' in parsed) return parsed;
  const frame = parsed;

  const candidates = await findCandidates(options.devices, frame.devAddr);
  if (candidates.length === 0) {
    return rejected(FrameRejectReason.unknownDevAddr, `no ABP device with DevAddr ${frame.devAddr}`, frame.devAddr);
  }

  const match = matchCandidate(frame, candidates);
  if ('kind' in match) return match;
  const { candidate, fCnt32 } = match;
  const devEui = candidate.devEui.toLowerCase();

  const verdict = checkFrameCounter(candidate, fCnt32);
  if (verdict === 'replay' || verdict === 'retransmission') {
    const reason = verdict === 'replay' ? FrameRejectReason.replay : FrameRejectReason.retransmission;
    return rejected(reason, `DevEUI ${devEui}: FCnt ${fCnt32}, last accepted ${candidate.lastFCnt ?? 'none'}`, frame.devAddr, devEui, fCnt32);
  }
  if (frame.fPort !== null && frmPayloadKeyFor(frame.fPort) === null) {
    return rejected(FrameRejectReason.reservedFPort, `DevEUI ${devEui}: FPort ${frame.fPort} is reserved`, frame.devAddr, devEui, fCnt32);
  }

  const payload = decryptPayload(frame, candidate, fCnt32);
  const mac = readMacCommands(frame, payload);
  return {
    kind: 'uplink',
    uplink: buildUplink(group, frame, devEui, fCnt32, payload, options.band),
    devEui,
    fCnt32,
    counter: verdict,
    macCommands: mac.commands,
    macWarnings: mac.warnings,
    adr: frame.fCtrl.adr,
    adrAckReq: frame.fCtrl.adrAckReq,
    ack: frame.fCtrl.ack,
    session: candidate,
  };
}

/** Step 1: the PHYPayload must be a 1.0.x data-up frame. */
export function parseFrame(phyPayload: Buffer): DataUpFrame | Rejected {
  const parsed = parsePhyPayload(phyPayload);
  return parsed.ok ? parsed.frame : rejected(parsed.reason, parsed.detail, null);
}

/** Step 2: every device registered under the frame's DevAddr. */
export async function findCandidates(devices: AbpDeviceLookup, devAddr: string): Promise<AbpDeviceCandidate[]> {
  const found = await devices.lookupByDevAddr(devAddr);
  // Guard against a lookup that returns more than asked for.
  return found.filter((c) => c.devAddr.toLowerCase() === devAddr);
}

/**
 * Step 3: the candidate whose NwkSKey yields the frame's MIC. Each candidate's counter
 * is rebuilt from its own last counter, since devices sharing a DevAddr are at
 * different counts. First pass: the forward guess for every candidate (the normal
 * case, one CMAC per candidate). Only if none matches, a second pass tries the
 * guesses that can only end in a replay or a reset: the same 65 536-window below
 * the last counter, and the raw 16 bits (a device that restarted at 0), as ChirpStack
 * also checks the truncated counter (chirpstack/src/storage/device_session.rs).
 */
export function matchCandidate(frame: DataUpFrame, candidates: readonly AbpDeviceCandidate[]): Match | Rejected {
  const usable = candidates.filter((c) => c.nwkSKey.length === 16 && c.appSKey.length === 16);
  const skipped = candidates.length - usable.length;
  for (const candidate of usable) {
    const fCnt32 = rebuildFCnt(candidate.lastFCnt, frame.fCnt16);
    if (verifyUplinkMic(frame, candidate.nwkSKey, fCnt32)) return { candidate, fCnt32 };
  }
  for (const candidate of usable) {
    for (const fCnt32 of backwardGuesses(candidate.lastFCnt, frame.fCnt16)) {
      if (verifyUplinkMic(frame, candidate.nwkSKey, fCnt32)) return { candidate, fCnt32 };
    }
  }
  const note = skipped > 0 ? `; ${skipped} candidate(s) skipped: session key is not 16 bytes` : '';
  return rejected(
    FrameRejectReason.micMismatch,
    `DevAddr ${frame.devAddr}, FCnt16 ${frame.fCnt16}: MIC matches none of ${candidates.length} candidate(s)${note}`,
    frame.devAddr,
  );
}

function backwardGuesses(last: number | null, fCnt16: number): number[] {
  if (last === null) return [];
  const forward = rebuildFCnt(last, fCnt16);
  const guesses: number[] = [];
  const sameEpoch = sameEpochCounter(last, fCnt16);
  if (sameEpoch !== null && sameEpoch !== forward) guesses.push(sameEpoch);
  if (fCnt16 !== forward && fCnt16 !== sameEpoch) guesses.push(fCnt16);
  return guesses;
}

/** Step 4: is the counter new? */
export function checkFrameCounter(candidate: AbpDeviceCandidate, fCnt32: number): CounterVerdict {
  return checkCounter(candidate.lastFCnt, fCnt32, candidate.allowCounterReset);
}

/** Step 5: FRMPayload in clear (NwkSKey on FPort 0, AppSKey on 1–223). */
export function decryptPayload(frame: DataUpFrame, candidate: AbpDeviceCandidate, fCnt32: number): Buffer {
  if (frame.fPort === null || frame.frmPayload.length === 0) return Buffer.alloc(0);
  const key = frame.fPort === 0 ? candidate.nwkSKey : candidate.appSKey;
  return decryptUplinkPayload(key, frame.frmPayload, frame.devAddrWire, fCnt32);
}

/** Step 6: MAC commands, from FOpts or (FPort 0) from the decrypted payload. */
export function readMacCommands(frame: DataUpFrame, payload: Buffer): { commands: UplinkMacCommand[]; warnings: string[] } {
  const bytes = frame.fPort === 0 ? payload : frame.fOpts;
  return bytes.length === 0 ? { commands: [], warnings: [] } : parseUplinkMacCommands(bytes);
}

/** Step 7: the Uplink contract (identity: see the module note). Radio settings come from the best reception (all copies share them). */
export function buildUplink(group: FrameGroup, frame: DataUpFrame, devEui: string, fCnt32: number, payload: Buffer, band: string | null): Uplink {
  const best = group.receptions.find((r) => r.best) ?? group.receptions[0];
  const sf = best?.spreadingFactor ?? null;
  const bw = best?.bandwidthHz ?? null;
  const receptions: Reception[] = group.receptions.map((r) => ({
    gatewayId: r.gatewayId,
    rssiDbm: r.rssiDbm,
    snrDb: r.snrDb,
    receivedAt: r.receivedAt,
    best: r.best,
  }));
  return {
    id: `${devEui}:${fCnt32}:${frame.mic.toString('hex')}`,
    devEui,
    receivedAt: group.firstSeenAt,
    fCnt: fCnt32,
    fPort: frame.fPort,
    payload,
    source: 'concentrator',
    radio: {
      frequencyHz: best?.frequencyHz ?? null,
      spreadingFactor: sf,
      bandwidthHz: bw,
      dataRate: sf !== null && bw !== null ? `SF${sf}BW${bw / 1000}` : null,
      band,
      receptions,
    },
    confirmed: frame.confirmed,
  };
}

function rejected(reason: FrameRejectReasonCode, detail: string, devAddr: string | null, devEui: string | null = null, fCnt32: number | null = null): Rejected {
  return { kind: 'rejected', reason, detail, devAddr, devEui, fCnt32 };
}
