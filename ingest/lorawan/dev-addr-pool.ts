/**
 * Where joined devices get their DevAddr: ranges an operator configures, or by default
 * the block the NetID owns (LoRaWAN Backend Interfaces 1.0 §13: the DevAddr starts with
 * the NetID type's prefix, then the NwkID, then the NwkAddr the network chooses).
 *
 *   type:          0  1  2  3   4   5   6   7
 *   prefix bits:   1  2  3  4   5   6   7   8   (type ones then a zero: 0, 10, 110, …)
 *   NwkID bits:    6  6  9  11  12  13  15  17  (the low bits of the NetID's ID)
 *
 * Allocation is random within the ranges, avoiding addresses in use where the caller
 * knows them. Two devices may share a DevAddr in LoRaWAN (the MIC tells them apart:
 * frame-processor.ts), so a collision costs a CMAC per frame, not correctness; random
 * allocation keeps it rare without a global counter that workers would contend for.
 */
import { randomInt } from 'node:crypto';

const NWK_ID_BITS = [6, 6, 9, 11, 12, 13, 15, 17] as const;

/** An inclusive range of DevAddrs as unsigned 32-bit numbers. */
export interface DevAddrRange {
  first: number;
  last: number;
}

/** The DevAddr block of a NetID: `prefix` (as 8 hex digits) and its length in bits. */
export function netIdDevAddrPrefix(netId: string): { prefix: string; bits: number } {
  if (!/^[0-9a-fA-F]{6}$/.test(netId)) throw new TypeError(`NetID must be 6 hex digits, got "${netId}"`);
  const value = parseInt(netId, 16);
  const type = value >>> 21;
  const prefixBits = type + 1;
  const nwkIdBits = NWK_ID_BITS[type]!;
  const nwkId = value & ((1 << nwkIdBits) - 1);
  // Type prefix: `type` ones then a zero (the low prefixBits bits of 0xfe), left-aligned in 32 bits.
  const typePrefix = ((0xfe & ((1 << prefixBits) - 1)) * 2 ** (32 - prefixBits)) >>> 0;
  const prefix = (typePrefix | (nwkId * 2 ** (32 - prefixBits - nwkIdBits))) >>> 0;
  return { prefix: prefix.toString(16).padStart(8, '0'), bits: prefixBits + nwkIdBits };
}

/** The range a NetID's prefix covers. */
export function netIdRange(netId: string): DevAddrRange {
  const { prefix, bits } = netIdDevAddrPrefix(netId);
  const first = parseInt(prefix, 16);
  return { first, last: (first + 2 ** (32 - bits) - 1) >>> 0 };
}

/** Parses `26000000-26ffffff,27000000/8` style ranges (first-last inclusive, or prefix/bits). */
export function parseDevAddrRanges(text: string): DevAddrRange[] {
  return text.split(',').map((part) => part.trim()).filter(Boolean).map((part) => {
    const span = /^([0-9a-fA-F]{8})-([0-9a-fA-F]{8})$/.exec(part);
    if (span) {
      const first = parseInt(span[1]!, 16);
      const last = parseInt(span[2]!, 16);
      if (last < first) throw new RangeError(`DevAddr range ${part} ends before it starts`);
      return { first, last };
    }
    const block = /^([0-9a-fA-F]{8})\/(\d{1,2})$/.exec(part);
    if (block && Number(block[2]) <= 32) {
      const bits = Number(block[2]);
      const size = 2 ** (32 - bits);
      const first = Math.floor(parseInt(block[1]!, 16) / size) * size;
      return { first, last: first + size - 1 };
    }
    throw new RangeError(`"${part}" is neither first-last (26000000-26ffffff) nor prefix/bits (26000000/7)`);
  });
}

export class DevAddrPool {
  private readonly total: number;

  /** @param random Returns an integer in [0, max); injectable for tests. */
  constructor(private readonly ranges: readonly DevAddrRange[], private readonly random: (max: number) => number = defaultRandom) {
    if (ranges.length === 0) throw new RangeError('at least one DevAddr range is needed');
    this.total = ranges.reduce((n, r) => n + (r.last - r.first + 1), 0);
  }

  contains(devAddr: string): boolean {
    const value = parseInt(devAddr, 16);
    return this.ranges.some((r) => value >= r.first && value <= r.last);
  }

  /**
   * A random DevAddr from the ranges, avoiding `inUse` for a few tries (after that it
   * takes one in use: see the module note).
   */
  allocate(inUse: (devAddr: string) => boolean = () => false): string {
    let candidate = '';
    for (let attempt = 0; attempt < 8; attempt++) {
      candidate = this.at(this.random(this.total));
      if (!inUse(candidate)) return candidate;
    }
    return candidate;
  }

  private at(index: number): string {
    for (const r of this.ranges) {
      const size = r.last - r.first + 1;
      if (index < size) return (r.first + index).toString(16).padStart(8, '0');
      index -= size;
    }
    throw new RangeError('index outside the DevAddr ranges');
  }
}

function defaultRandom(max: number): number {
  // randomInt takes at most 2^48 − 1; a DevAddr space is at most 2^32.
  return randomInt(0, max);
}
