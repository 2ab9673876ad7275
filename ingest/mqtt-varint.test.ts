import { describe, expect, it } from 'vitest';
import { variableByteInteger, variableByteIntegerLength } from './mqtt-varint.js';

describe('MQTT Variable Byte Integer', () => {
  it('encodes the boundary values of MQTT 3.1.1 §2.2.3 Table 2.4', () => {
    expect([...variableByteInteger(0)]).toEqual([0x00]);
    expect([...variableByteInteger(127)]).toEqual([0x7f]);
    expect([...variableByteInteger(128)]).toEqual([0x80, 0x01]);
    expect([...variableByteInteger(16_383)]).toEqual([0xff, 0x7f]);
    expect([...variableByteInteger(16_384)]).toEqual([0x80, 0x80, 0x01]);
    expect([...variableByteInteger(2_097_151)]).toEqual([0xff, 0xff, 0x7f]);
    expect([...variableByteInteger(2_097_152)]).toEqual([0x80, 0x80, 0x80, 0x01]);
    expect([...variableByteInteger(268_435_455)]).toEqual([0xff, 0xff, 0xff, 0x7f]);
  });

  it('tells the length the encoder writes', () => {
    for (const n of [0, 1, 127, 128, 16_383, 16_384, 2_097_151, 2_097_152, 268_435_455]) {
      expect(variableByteIntegerLength(n)).toBe(variableByteInteger(n).length);
    }
  });
});
