/**
 * MQTT's Variable Byte Integer (MQTT 3.1.1 §2.2.3 Remaining Length; MQTT 5.0 §1.5.5):
 * 7 bits a byte, least significant group first, the high bit set while more follow.
 * One encoder for the packets stadtfunk writes itself (the oversize guard, the
 * SensorThings publisher, the benchmarks' publisher).
 */

/** How many bytes `value` takes (1 … 4). */
export function variableByteIntegerLength(value: number): number {
  return value < 128 ? 1 : value < 16_384 ? 2 : value < 2_097_152 ? 3 : 4;
}

/** The bytes of `value` (0 … 268,435,455). */
export function variableByteInteger(value: number): Buffer {
  const bytes = Buffer.alloc(4);
  return bytes.subarray(0, writeVariableByteInteger(bytes, 0, value));
}

/** Writes `value` at `at` in `target`; returns the offset after it. */
export function writeVariableByteInteger(target: Buffer, at: number, value: number): number {
  let i = at;
  do {
    let byte = value % 128;
    value = Math.floor(value / 128);
    if (value > 0) byte |= 0x80;
    target[i++] = byte;
  } while (value > 0);
  return i;
}
