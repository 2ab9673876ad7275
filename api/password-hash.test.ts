import { scryptSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { CURRENT_PARAMS, hashPassword, needsRehash, parseHash, verifyPassword } from './password-hash.js';

const FAST = { ln: 10, r: 8, p: 1 };

describe('password hashing (scrypt, PHC string)', () => {
  it('stores the current parameters, a 16-byte salt and a 32-byte key, and verifies only the right password', async () => {
    const stored = await hashPassword('correct horse battery staple');
    expect(stored).toMatch(/^\$scrypt\$ln=16,r=8,p=2\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$/);
    expect(await verifyPassword('correct horse battery staple', stored)).toBe(true);
    expect(await verifyPassword('correct horse battery stapl', stored)).toBe(false);
    expect(await hashPassword('correct horse battery staple')).not.toBe(stored); // salted
  });

  it('is scrypt as RFC 7914 defines it: the stored key is scrypt(password, salt) with the stored parameters', async () => {
    const stored = await hashPassword('pässwört', FAST);
    const parsed = parseHash(stored)!;
    const expected = scryptSync('pässwört', parsed.salt, 32, { N: 1024, r: 8, p: 1 });
    expect(parsed.key.equals(expected)).toBe(true);
    // RFC 7914 §12, second vector (N=1024, r=8, p=16), first bytes: the primitive itself.
    expect(scryptSync('password', 'NaCl', 64, { N: 1024, r: 8, p: 16 }).subarray(0, 8).toString('hex')).toBe('fdbabe1c9d347200');
  });

  it('compares passwords in Unicode NFC, so the same word typed on another keyboard still matches', async () => {
    const stored = await hashPassword('Gru\u0308ße aus Ko\u0308ln', FAST);
    expect(await verifyPassword('Grüße aus Köln', stored)).toBe(true);
  });

  it('refuses what it cannot read, and parameters outside its bounds, instead of hashing for minutes', async () => {
    expect(await verifyPassword('x', 'plain text')).toBe(false);
    expect(await verifyPassword('x', '$2b$12$abcdefghijklmnopqrstuuABCDEFGHIJKLMNOPQRSTUVWXYZ01234')).toBe(false);
    expect(parseHash('$scrypt$ln=30,r=8,p=1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA')).toBeNull();
  });

  it('asks for a rehash of weaker hashes only', async () => {
    expect(needsRehash(await hashPassword('x', FAST))).toBe(true);
    expect(needsRehash(await hashPassword('x', CURRENT_PARAMS))).toBe(false);
  });
});
