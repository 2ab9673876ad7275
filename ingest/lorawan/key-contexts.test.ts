import { describe, expect, it } from 'vitest';
import { aesCmac } from './aes-cmac.js';
import { cryptFrmPayload } from './decrypt.js';
import { KeyContexts } from './key-contexts.js';
import { hex, rfc4493 } from './test-vectors.js';

describe('KeyContexts', () => {
  it('keeps one state per key Buffer and per KeyContexts, made again when the bytes changed', () => {
    let made = 0;
    const lengths = new KeyContexts((key) => ({ n: ++made, first: key[0] }));
    const others = new KeyContexts(() => 'other');
    const key = Buffer.alloc(16, 1);
    const state = lengths.get(key);
    expect(others.get(key)).toBe('other');
    expect(lengths.get(key)).toBe(state);
    expect(lengths.get(Buffer.from(key))).not.toBe(state);
    key[0] = 9;
    expect(lengths.get(key)).toEqual({ n: 3, first: 9 });
  });

  it('leaves the key Buffer looking as before: nothing enumerable, nothing copied along', () => {
    const contexts = new KeyContexts(() => ({}));
    const key = Buffer.alloc(16, 2);
    contexts.get(key);
    expect(Object.keys(key)).toEqual(Object.keys(Buffer.alloc(16, 2)));
    expect(Object.getOwnPropertySymbols({ ...key })).toEqual([]);
    expect(Buffer.from(key).equals(key)).toBe(true);
  });

  it('gives AES-CMAC and FRMPayload decryption their own state on one key Buffer (an AppKey serves both)', () => {
    const key = hex(rfc4493.key);
    const devAddr = Buffer.from([1, 2, 3, 4]);
    const payload = Buffer.from('00112233445566778899', 'hex');
    const encrypted = cryptFrmPayload(Buffer.from(key), payload, devAddr, 7);
    for (let round = 0; round < 2; round++) {
      for (const { message, mac } of rfc4493.examples) expect(aesCmac(key, hex(message)).toString('hex')).toBe(mac);
      expect(cryptFrmPayload(key, encrypted, devAddr, 7).equals(payload)).toBe(true);
    }
  });
});
