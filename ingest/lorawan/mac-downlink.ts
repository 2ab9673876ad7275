/**
 * Downlink MAC commands (network server → end-device), LoRaWAN 1.0.4 §5:
 *
 *   LinkCheckAns   0x02  Margin(1, dB above the demodulation floor, 0–254) | GwCnt(1)
 *   LinkADRReq     0x03  DataRate_TXPower(1: DR in bits 7..4, TXPower 3..0) | ChMask(2, LE) | Redundancy(1: ChMaskCntl 6..4, NbTrans 3..0)
 *   DevStatusReq   0x06  —
 *   DeviceTimeAns  0x0D  seconds since the GPS epoch (4, LE) | fraction of a second in 1/256 (1)
 *
 * and their device-side reading, for simulators and tests. The GPS epoch is
 * 1980-01-06T00:00:00Z; GPS time runs ahead of UTC by the leap seconds since then (18
 * since 2017-01-01, IERS Bulletin C: none announced since).
 */

export type DownlinkMacCommand =
  | { name: 'LinkCheckAns'; marginDb: number; gatewayCount: number }
  | {
      name: 'LinkADRReq';
      dataRate: number;
      txPowerIndex: number;
      channelMask: number;
      /** ChMaskCntl: 0 applies ChMask to channels 0–15; 6 switches every defined channel on (EU-style plans, RP002 §2.4.5). */
      channelMaskControl: number;
      nbTrans: number;
    }
  | { name: 'DevStatusReq' }
  | { name: 'DeviceTimeAns'; time: Date };

const GPS_EPOCH_MS = Date.UTC(1980, 0, 6);
/** GPS − UTC in seconds since 2017-01-01. */
export const GPS_LEAP_SECONDS = 18;

/** Bytes of a command including its CID. */
export function downlinkMacLength(command: DownlinkMacCommand): number {
  switch (command.name) {
    case 'LinkCheckAns': return 3;
    case 'LinkADRReq': return 5;
    case 'DevStatusReq': return 1;
    case 'DeviceTimeAns': return 6;
  }
}

export function encodeDownlinkMac(commands: readonly DownlinkMacCommand[]): Buffer {
  const out = Buffer.alloc(commands.reduce((n, c) => n + downlinkMacLength(c), 0));
  let at = 0;
  for (const c of commands) {
    switch (c.name) {
      case 'LinkCheckAns':
        out[at] = 0x02;
        out[at + 1] = Math.max(0, Math.min(254, Math.round(c.marginDb)));
        out[at + 2] = Math.max(0, Math.min(255, c.gatewayCount));
        break;
      case 'LinkADRReq':
        out[at] = 0x03;
        out[at + 1] = ((c.dataRate & 0x0f) << 4) | (c.txPowerIndex & 0x0f);
        out.writeUInt16LE(c.channelMask & 0xffff, at + 2);
        out[at + 4] = ((c.channelMaskControl & 0x07) << 4) | (c.nbTrans & 0x0f);
        break;
      case 'DevStatusReq':
        out[at] = 0x06;
        break;
      case 'DeviceTimeAns': {
        const gpsMs = c.time.getTime() - GPS_EPOCH_MS + GPS_LEAP_SECONDS * 1000;
        out[at] = 0x0d;
        out.writeUInt32LE(Math.floor(gpsMs / 1000) >>> 0, at + 1);
        out[at + 5] = Math.floor(((gpsMs % 1000) / 1000) * 256);
        break;
      }
    }
    at += downlinkMacLength(c);
  }
  return out;
}

/** The device's reading of downlink MAC commands; stops at a CID it does not know. */
export function parseDownlinkMac(bytes: Buffer): DownlinkMacCommand[] {
  const out: DownlinkMacCommand[] = [];
  let at = 0;
  while (at < bytes.length) {
    const cid = bytes[at]!;
    if (cid === 0x02 && at + 3 <= bytes.length) out.push({ name: 'LinkCheckAns', marginDb: bytes[at + 1]!, gatewayCount: bytes[at + 2]! });
    else if (cid === 0x03 && at + 5 <= bytes.length) {
      out.push({
        name: 'LinkADRReq', dataRate: bytes[at + 1]! >> 4, txPowerIndex: bytes[at + 1]! & 0x0f, channelMask: bytes.readUInt16LE(at + 2),
        channelMaskControl: (bytes[at + 4]! >> 4) & 0x07, nbTrans: bytes[at + 4]! & 0x0f,
      });
    } else if (cid === 0x06) out.push({ name: 'DevStatusReq' });
    else if (cid === 0x0d && at + 6 <= bytes.length) {
      const seconds = bytes.readUInt32LE(at + 1);
      out.push({ name: 'DeviceTimeAns', time: new Date(GPS_EPOCH_MS + seconds * 1000 + (bytes[at + 5]! / 256) * 1000 - GPS_LEAP_SECONDS * 1000) });
    } else break;
    at += cid === 0x02 ? 3 : cid === 0x03 ? 5 : cid === 0x06 ? 1 : 6;
  }
  return out;
}
