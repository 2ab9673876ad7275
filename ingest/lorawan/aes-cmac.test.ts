import { describe, expect, it } from 'vitest';
import { aesCmac } from './aes-cmac.js';
import { hex, rfc4493 } from './test-vectors.js';

describe('aesCmac', () => {
  it.each(rfc4493.examples)('matches RFC 4493 §4 $name', ({ message, mac }) => {
    expect(aesCmac(hex(rfc4493.key), hex(message)).toString('hex')).toBe(mac);
  });

  it('gives a different tag when one message bit flips', () => {
    const message = hex(rfc4493.examples[2].message);
    message[39] = (message[39] ?? 0) ^ 1;
    expect(aesCmac(hex(rfc4493.key), message).toString('hex')).not.toBe(rfc4493.examples[2].mac);
  });

  it('refuses a key that is not 16 bytes', () => {
    expect(() => aesCmac(Buffer.alloc(15), Buffer.alloc(0))).toThrow(TypeError);
  });
});
