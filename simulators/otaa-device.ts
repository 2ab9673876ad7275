/**
 * A simulated LoRaWAN 1.0.x class A end-device that joins over the air, as device
 * firmware does (LoRaMac-node's behaviour, restated):
 *
 *   join-request with a new DevNonce (1.0.4: the next of a counter; up to 1.0.3: random,
 *   not one used before) → listens for the join-accept → opens it with its AppKey, checks
 *   the MIC, derives NwkSKey and AppSKey → data uplinks with its own FCntUp.
 *
 * After each uplink it takes what the network sends in its receive windows: the ACK of
 * a confirmed uplink, an application downlink (a streetlight command on FPort 12 changes
 * what the lamp reports next), MAC commands (DevStatusReq is answered with DevStatusAns,
 * LinkADRReq with LinkADRAns, in the next uplink's FOpts), and a confirmed downlink is
 * acknowledged with the ACK bit of the next uplink.
 *
 * Pure state: the caller moves frames over MQTT (otaa-city.ts) and keeps the time.
 */
import { decodeStreetlightCommand } from '../decoders/index.js';
import {
  buildJoinRequest, buildUplinkFrame, deriveSessionKeys, openDownlinkFrame, openJoinAccept, parseDownlinkMac, type MacVersion,
} from '../ingest/lorawan/index.js';
import type { Random } from './random.js';

export interface OtaaIdentity {
  devEui: string;
  joinEui: string;
  appKey: Buffer;
  macVersion: MacVersion;
}

export interface LampCommand {
  on: boolean;
  dimPercent: number;
}

export type DownlinkOutcome = 'join_accept' | 'data' | 'not_mine';

export class SimOtaaDevice {
  session: { devAddr: string; nwkSKey: Buffer; appSKey: Buffer } | null = null;
  /** Set while a join-request waits for its accept. */
  pendingDevNonce: number | null = null;
  joinAttempts = 0;
  fCntUp = 0;
  lastFCntDown: number | null = null;
  /** The lamp's commanded state, once a command came (otherwise the lamp follows its schedule). */
  lamp: LampCommand | null = null;
  /** Counters the caller reports. */
  readonly seen = { acks: 0, commands: 0, macCommands: 0 };
  private usedNonces = new Set<number>();
  private nonceCounter = 0;
  private ackNext = false;
  private macAnswers: number[] = [];

  constructor(readonly id: OtaaIdentity, private readonly random: Random) {}

  get joined(): boolean {
    return this.session !== null;
  }

  /** A new join-request (a retry takes a new DevNonce). */
  joinRequest(): Buffer {
    let devNonce: number;
    if (this.id.macVersion === '1.0.4') devNonce = this.nonceCounter++ & 0xffff;
    else {
      do devNonce = this.random.int(0, 0xffff);
      while (this.usedNonces.has(devNonce) && this.usedNonces.size < 0xffff);
    }
    this.usedNonces.add(devNonce);
    this.pendingDevNonce = devNonce;
    this.joinAttempts++;
    return buildJoinRequest({ joinEui: this.id.joinEui, devEui: this.id.devEui, devNonce, appKey: this.id.appKey });
  }

  /** The next data uplink (with pending MAC answers in FOpts and the ACK bit if owed). */
  uplink(fPort: number, payload: Buffer, confirmed: boolean): Buffer {
    if (!this.session) throw new Error('not joined');
    const fOpts = Buffer.from(this.macAnswers.splice(0, 15));
    const phy = buildUplinkFrame({ ...this.session, fCnt32: this.fCntUp++, fPort, payload, confirmed, ack: this.ackNext, fOpts });
    this.ackNext = false;
    return phy;
  }

  /** A downlink heard in a receive window: what it was for this device. */
  onDownlink(phy: Buffer): DownlinkOutcome {
    if (phy[0] === 0x20 && this.pendingDevNonce !== null) {
      const accept = openJoinAccept(this.id.appKey, phy);
      if (!accept?.micValid) return 'not_mine';
      // 1.0.4 devices also require the JoinNonce to grow; the network server counts per device, so it does.
      this.session = { devAddr: accept.devAddr, ...deriveSessionKeys(this.id.appKey, accept.joinNonce, accept.netId, this.pendingDevNonce) };
      this.pendingDevNonce = null;
      this.fCntUp = 0;
      this.lastFCntDown = null;
      this.macAnswers = [];
      this.ackNext = false;
      return 'join_accept';
    }
    if (!this.session) return 'not_mine';
    const frame = openDownlinkFrame(phy, this.session, this.lastFCntDown);
    if (!frame) return 'not_mine';
    this.lastFCntDown = frame.fCnt32;
    if (frame.ack) this.seen.acks++;
    if (frame.confirmed) this.ackNext = true;
    const mac = frame.fPort === 0 ? frame.payload : frame.fOpts;
    for (const command of parseDownlinkMac(mac)) {
      this.seen.macCommands++;
      // DevStatusAns: battery (1–254) and a margin of 10 dB; LinkADRAns: all accepted.
      if (command.name === 'DevStatusReq') this.macAnswers.push(0x06, this.random.int(120, 254), 10);
      else if (command.name === 'LinkADRReq') this.macAnswers.push(0x03, 0b111);
    }
    if (frame.fPort === 12) {
      const command = decodeStreetlightCommand(frame.payload);
      if (command) {
        this.lamp = { on: command.lamp_on, dimPercent: command.lamp_on ? command.dim_level : 0 };
        this.seen.commands++;
      }
    }
    return 'data';
  }
}
