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

  it('matches RFC 4493 §4 for all four examples in turn with one key Buffer, twice, between tags under other keys', () => {
    // One key Buffer keeps one CBC context (aes-cmac.ts); each tag must still start from a zero IV.
    const key = hex(rfc4493.key);
    const other = Buffer.alloc(16, 7);
    const otherTags = rfc4493.examples.map(({ message }) => aesCmac(Buffer.from(other), hex(message)).toString('hex'));
    for (let round = 0; round < 2; round++) {
      rfc4493.examples.forEach(({ message, mac }, n) => {
        expect(aesCmac(key, hex(message)).toString('hex')).toBe(mac);
        expect(aesCmac(other, hex(message)).toString('hex')).toBe(otherTags[n]);
      });
    }
  });

  it('is unaffected by a caller changing a tag it got, and follows a key Buffer changed in place', () => {
    const key = hex(rfc4493.key);
    const [empty, one, , four] = rfc4493.examples;
    aesCmac(key, hex(empty.message)).fill(0);
    expect(aesCmac(key, hex(one.message)).toString('hex')).toBe(one.mac);
    const changed = Buffer.from(key);
    changed[0] = (changed[0] ?? 0) ^ 1;
    const expected = aesCmac(Buffer.from(changed), hex(four.message)).toString('hex');
    key[0] = (key[0] ?? 0) ^ 1;
    expect(aesCmac(key, hex(four.message)).toString('hex')).toBe(expected);
    expect(expected).not.toBe(four.mac);
  });

  it('refuses a key that is not 16 bytes', () => {
    expect(() => aesCmac(Buffer.alloc(15), Buffer.alloc(0))).toThrow(TypeError);
  });
});
