/**
 * Uplink MAC commands (end-device → network server), LoRaWAN 1.0.4 §5, from FOpts or
 * from a decrypted FRMPayload on FPort 0.
 *
 * A command is CID(1) | payload, and nothing says how long the payload is: the parser
 * has to know every CID. Known CIDs it cannot use are skipped by their length; at an
 * unknown CID (or proprietary 0x80–0xFF) the rest of the bytes cannot be framed, so
 * parsing stops there with a warning and keeps what it found before.
 */

/** Payload length in bytes of each uplink CID: the MAC command table of LoRaWAN 1.0.4 §5, plus the Class B commands of its Class B chapters. */
const UPLINK_PAYLOAD_BYTES: ReadonlyMap<number, { name: string; bytes: number }> = new Map([
  [0x02, { name: 'LinkCheckReq', bytes: 0 }],
  [0x03, { name: 'LinkADRAns', bytes: 1 }],
  [0x04, { name: 'DutyCycleAns', bytes: 0 }],
  [0x05, { name: 'RXParamSetupAns', bytes: 1 }],
  [0x06, { name: 'DevStatusAns', bytes: 2 }],
  [0x07, { name: 'NewChannelAns', bytes: 1 }],
  [0x08, { name: 'RXTimingSetupAns', bytes: 0 }],
  [0x09, { name: 'TxParamSetupAns', bytes: 0 }],
  [0x0a, { name: 'DlChannelAns', bytes: 1 }],
  [0x0d, { name: 'DeviceTimeReq', bytes: 0 }],
  [0x10, { name: 'PingSlotInfoReq', bytes: 1 }],
  [0x11, { name: 'PingSlotChannelAns', bytes: 1 }],
  [0x12, { name: 'BeaconTimingReq', bytes: 0 }],
  [0x13, { name: 'BeaconFreqAns', bytes: 1 }],
]);

/** The device asks for a link check; the answer (margin, gateway count) is a downlink. */
export interface LinkCheckReq {
  cid: 0x02;
  name: 'LinkCheckReq';
}

/** Answer to DevStatusReq, spec §5.5. */
export interface DevStatusAns {
  cid: 0x06;
  name: 'DevStatusAns';
  /** Raw battery byte: 0 = external power, 1 (empty) … 254 (full), 255 = cannot measure. */
  battery: number;
  externalPower: boolean;
  batteryUnknown: boolean;
  /** 1–254 mapped onto 0–100 % with two decimals (ChirpStack's mapping: battery / 254 × 100); null for 0 and 255. */
  batteryLevelPercent: number | null;
  /** Demodulation SNR margin of the last DevStatusReq, dB, −32 … 31 (6-bit two's complement). */
  marginDb: number;
}

/** A known command stadtfunk does not interpret; kept so it can be logged or counted. */
export interface OtherMacCommand {
  cid: number;
  name: string;
  payload: Buffer;
}

export type UplinkMacCommand = LinkCheckReq | DevStatusAns | OtherMacCommand;

export interface MacCommandsResult {
  commands: UplinkMacCommand[];
  /** Why parsing stopped early (unknown CID, truncated payload); empty when all bytes were read. */
  warnings: string[];
}

export function isDevStatusAns(command: UplinkMacCommand): command is DevStatusAns {
  return command.name === 'DevStatusAns';
}

/** Parses a sequence of uplink MAC commands; never throws. */
export function parseUplinkMacCommands(bytes: Buffer): MacCommandsResult {
  const commands: UplinkMacCommand[] = [];
  const warnings: string[] = [];
  let offset = 0;
  while (offset < bytes.length) {
    const cid = bytes[offset] ?? 0;
    const known = UPLINK_PAYLOAD_BYTES.get(cid);
    if (!known) {
      warnings.push(`unknown uplink MAC command CID 0x${hex2(cid)} at byte ${offset}; ${bytes.length - offset} byte(s) not parsed`);
      break;
    }
    const start = offset + 1;
    const end = start + known.bytes;
    if (end > bytes.length) {
      warnings.push(`${known.name} at byte ${offset} needs ${known.bytes} payload byte(s), ${bytes.length - start} left`);
      break;
    }
    const payload = bytes.subarray(start, end);
    if (cid === 0x02) commands.push({ cid: 0x02, name: 'LinkCheckReq' });
    else if (cid === 0x06) commands.push(devStatusAns(payload[0] ?? 0, payload[1] ?? 0));
    else commands.push({ cid, name: known.name, payload: Buffer.from(payload) });
    offset = end;
  }
  return { commands, warnings };
}

function devStatusAns(battery: number, marginByte: number): DevStatusAns {
  const margin6 = marginByte & 0x3f;
  return {
    cid: 0x06,
    name: 'DevStatusAns',
    battery,
    externalPower: battery === 0,
    batteryUnknown: battery === 255,
    batteryLevelPercent: battery > 0 && battery < 255 ? Math.round((battery / 254) * 100 * 100) / 100 : null,
    marginDb: margin6 >= 32 ? margin6 - 64 : margin6,
  };
}

function hex2(value: number): string {
  return value.toString(16).padStart(2, '0');
}
