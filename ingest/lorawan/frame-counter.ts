/**
 * Uplink frame counters. Devices keep a 32-bit FCntUp but send only its 16 low bits
 * (spec 1.0.4 §4.3.1.5); the network server rebuilds the rest from the last counter
 * it accepted, and the MIC (computed over all 32 bits) confirms the guess.
 *
 * stadtfunk stores the LAST ACCEPTED counter (`null` before the first uplink), where
 * ChirpStack stores the next expected one (`f_cnt_up`); the rules below are
 * ChirpStack's `get_full_f_cnt_up` restated for "last" (chirpstack/chirpstack,
 * chirpstack/src/storage/device_session.rs with its `test_get_full_f_cnt_up` table;
 * the same function later lives in chirpstack/src/storage/device.rs).
 */

const MAX_FCNT32 = 0xffffffff;

/**
 * Rebuilds the full 32-bit counter from the 16 bits on the air.
 *
 * - The same 16 bits as `last` → `last` (a retransmission: 1.0.x devices repeat
 *   unconfirmed frames NbTrans times with an unchanged counter).
 * - Otherwise the smallest counter above `last` with these 16 low bits, so up to
 *   65 535 lost frames are bridged and 65535 → 0 on the air becomes 65536.
 * - Wraps past 2^32 − 1 to 0, as ChirpStack does; `checkCounter` then sees a replay.
 *
 * A counter below `last` is never returned; callers that want to recognise a reset
 * or a replay try `sameEpochCounter` / the raw 16 bits when the MIC fails here.
 * @param last Last accepted 32-bit counter, or null before the first uplink.
 * @param fCnt16 The counter field of the frame, 0–65535.
 */
export function rebuildFCnt(last: number | null, fCnt16: number): number {
  assertCounter16(fCnt16);
  if (last === null) return fCnt16;
  assertCounter32(last);
  if ((last & 0xffff) === fCnt16) return last;
  const next = (last + 1) % (MAX_FCNT32 + 1);
  const gap = (fCnt16 - (next & 0xffff) + 0x10000) & 0xffff;
  return (next + gap) % (MAX_FCNT32 + 1);
}

/**
 * The counter with `last`'s upper 16 bits and the given lower ones, when that is below
 * `last`: how an old frame of the current 65 536 window (a replay) would have been
 * counted. null when there is no such counter.
 */
export function sameEpochCounter(last: number | null, fCnt16: number): number | null {
  assertCounter16(fCnt16);
  if (last === null) return null;
  assertCounter32(last);
  const candidate = (last - (last & 0xffff)) + fCnt16;
  return candidate < last ? candidate : null;
}

/** What the counter says about a frame whose MIC verified at `full`. */
export type CounterVerdict =
  /** New frame: persist `full` as the last accepted counter. */
  | 'accept'
  /** Below the last accepted counter: an old frame sent again, or a device reset. Rejected. */
  | 'replay'
  /** Equal to the last accepted counter: the same frame again. Rejected (the caller merges receptions). */
  | 'retransmission'
  /** At or below the last counter, taken because the device may reset its counter. Persist `full`. */
  | 'reset-accepted';

/**
 * Frame-counter check after a valid MIC (ChirpStack's `ValidationStatus` in
 * `get_for_phypayload_and_incr_f_cnt_up`: Ok / Retransmission / Reset, and
 * `skip_f_cnt_check`).
 *
 * `allowReset` is for ABP devices that restart at 0 after a power cycle. It turns off
 * replay protection for that device: a recorded frame sent again is accepted.
 * @param last Last accepted 32-bit counter, null before the first uplink.
 * @param full The 32-bit counter the MIC verified with.
 */
export function checkCounter(last: number | null, full: number, allowReset: boolean): CounterVerdict {
  assertCounter32(full);
  if (last === null || full > last) return 'accept';
  if (allowReset) return 'reset-accepted';
  return full === last ? 'retransmission' : 'replay';
}

function assertCounter16(value: number): void {
  if (!Number.isInteger(value) || value < 0 || value > 0xffff) throw new RangeError(`FCnt ${value} is not a 16-bit counter`);
}

function assertCounter32(value: number): void {
  if (!Number.isInteger(value) || value < 0 || value > MAX_FCNT32) throw new RangeError(`FCnt ${value} is not a 32-bit counter`);
}
