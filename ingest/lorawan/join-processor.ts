/**
 * The recipe one deduplicated join-request follows (the network- and join-server half of
 * ChirpStack's `uplink/join.rs`, LoRaWAN 1.0.x):
 *
 *   parseJoinRequest → device (DevEUI, JoinEUI, AppKey) → MIC → DevNonce rule of the
 *   device's version → region of the band → DevAddr → JoinNonce → session keys →
 *   join-accept (CFList, DLSettings, RxDelay) → the receive windows to answer in
 *
 * Pure apart from randomness for the DevAddr: it decides, the caller persists. The caller
 * stores the join (DevEUI + DevNonce, and DevEUI + JoinNonce, each unique in the database,
 * so two workers that both decide to accept one request store it once and only the one
 * that stored it publishes the accept) and the new session as *pending* beside the
 * device's current one, in the same transaction, and publishes the accept after commit.
 *
 * DevNonce rules (spec 1.0.4 §6.2.5; 1.0.3 §6.2.5): up to 1.0.3 the DevNonce is random
 * and the network server ignores one the device used before; from 1.0.4 it is a counter
 * and must be above the last one.
 */
import { classAWindows, type DownlinkWindows } from './class-a-windows.js';
import { FrameRejectReason, type FrameRejectReasonCode } from './errors.js';
import { buildJoinAccept, deriveSessionKeys, type SessionKeys } from './join-accept.js';
import { parseJoinRequest, verifyJoinRequestMic } from './join-request.js';
import { cfList, type RegionParameters } from './region.js';
import type { FrameGroup } from './types.js';

export const MAC_VERSIONS = ['1.0.0', '1.0.1', '1.0.2', '1.0.3', '1.0.4'] as const;
export type MacVersion = (typeof MAC_VERSIONS)[number];

/** An OTAA device registered under a join-request's DevEUI, with what the checks need. */
export interface OtaaDeviceCandidate {
  devEui: string;
  /** null: registered without one; any JoinEUI is taken then. */
  joinEui: string | null;
  /** 16 bytes, opened from the key vault; null when the sealed key did not open. */
  appKey: Buffer | null;
  macVersion: MacVersion;
  /** Whether the request's DevNonce is among those the device used before. */
  devNonceUsed: boolean;
  /** Highest DevNonce accepted before; null before the first join. */
  lastDevNonce: number | null;
  /** JoinNonce of the device's last accepted join; null before the first. */
  lastJoinNonce: number | null;
  /** DevAddrs in use that the allocator should avoid. */
  devAddrInUse?: (devAddr: string) => boolean;
}

/** Where DevAddrs come from (a DevAddrPool, or addresses checked against the database beforehand). */
export interface DevAddrAllocator {
  allocate(inUse?: (devAddr: string) => boolean): string;
}

export interface JoinProcessorOptions {
  /** The band's regional parameters; null when the band has none configured. */
  region: RegionParameters | null;
  netId: string;
  devAddrs: DevAddrAllocator;
}

export type JoinOutcome =
  | {
      kind: 'join';
      devEui: string;
      joinEui: string;
      devNonce: number;
      joinNonce: number;
      devAddr: string;
      keys: SessionKeys;
      /** The encrypted join-accept PHYPayload. */
      accept: Buffer;
      windows: DownlinkWindows;
      /** The request's MIC (hex): copies of one request share it, a new request does not. */
      requestMic: string;
    }
  | { kind: 'rejected'; reason: FrameRejectReasonCode; detail: string; devEui: string | null };

/** Runs the recipe; never throws for a bad request. */
export function processJoinRequest(group: FrameGroup, device: OtaaDeviceCandidate | null, options: JoinProcessorOptions): JoinOutcome {
  const parsed = parseJoinRequest(group.phyPayload);
  if (!parsed.ok) return rejected(parsed.reason, parsed.detail, null);
  const request = parsed.request;
  const devEui = request.devEui;
  if (!device) return rejected(FrameRejectReason.unknownDevEui, `join-request from DevEUI ${devEui}, which is not registered for OTAA`, null);
  if (device.joinEui !== null && device.joinEui !== request.joinEui) {
    return rejected(FrameRejectReason.unknownJoinEui, `DevEUI ${devEui} sent JoinEUI ${request.joinEui}, registered is ${device.joinEui}`, devEui);
  }
  if (device.appKey === null) return rejected(FrameRejectReason.keyUnreadable, `DevEUI ${devEui}: its sealed AppKey does not open (another MASTER_KEY?)`, devEui);
  if (device.appKey.length !== 16) return rejected(FrameRejectReason.notOtaa, `DevEUI ${devEui} has no 16-byte AppKey`, devEui);
  if (!verifyJoinRequestMic(request, device.appKey)) {
    return rejected(FrameRejectReason.micMismatch, `join-request of DevEUI ${devEui}, DevNonce ${request.devNonce}: MIC does not match the AppKey`, devEui);
  }
  const nonceProblem = checkDevNonce(device, request.devNonce);
  if (nonceProblem) return rejected(nonceProblem.reason, `DevEUI ${devEui}: ${nonceProblem.detail}`, devEui);
  const region = options.region;
  if (!region) return rejected(FrameRejectReason.noRegion, `DevEUI ${devEui}: no regional parameters for this band`, devEui);
  const joinNonce = (device.lastJoinNonce ?? -1) + 1;
  if (joinNonce > 0xffffff) return rejected(FrameRejectReason.joinNonceExhausted, `DevEUI ${devEui}: all 2^24 JoinNonces used; give the device a new AppKey`, devEui);

  const devAddr = options.devAddrs.allocate(device.devAddrInUse);
  const appKey = device.appKey;
  const accept = buildJoinAccept(appKey, {
    joinNonce,
    netId: options.netId,
    devAddr,
    rx1DrOffset: region.rx1DrOffset,
    rx2DataRate: region.rx2DataRate,
    rxDelayS: region.rxDelayS,
    cfList: cfList(region),
  });
  // A join-accept (17 bytes, 33 with a CFList) fits every data rate: no FRMPayload to count.
  const windows = classAWindows(region, group.receptions, 'join', 0);
  if (!windows.ok) return rejected(FrameRejectReason.noDownlinkWindow, `DevEUI ${devEui}: ${windows.detail}`, devEui);
  return {
    kind: 'join',
    devEui,
    joinEui: request.joinEui,
    devNonce: request.devNonce,
    joinNonce,
    devAddr,
    keys: deriveSessionKeys(appKey, joinNonce, options.netId, request.devNonce),
    accept,
    windows: windows.windows,
    requestMic: request.mic.toString('hex'),
  };
}

/** The DevNonce rule of the device's version; null when the nonce may be used. */
export function checkDevNonce(device: Pick<OtaaDeviceCandidate, 'macVersion' | 'devNonceUsed' | 'lastDevNonce'>, devNonce: number): { reason: FrameRejectReasonCode; detail: string } | null {
  if (device.macVersion === '1.0.4') {
    if (device.lastDevNonce !== null && devNonce <= device.lastDevNonce) {
      return { reason: FrameRejectReason.devNonceNotIncreasing, detail: `DevNonce ${devNonce} is not above the last one, ${device.lastDevNonce} (LoRaWAN 1.0.4)` };
    }
    return null;
  }
  if (device.devNonceUsed) return { reason: FrameRejectReason.devNonceReused, detail: `DevNonce ${devNonce} was used before (LoRaWAN ${device.macVersion})` };
  return null;
}

function rejected(reason: FrameRejectReasonCode, detail: string, devEui: string | null): JoinOutcome {
  return { kind: 'rejected', reason, detail, devEui };
}
