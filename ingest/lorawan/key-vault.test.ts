import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { KeyVaultError } from './errors.js';
import { createKeyVault, keyAad, redact, redactSecrets } from './key-vault.js';

const master = randomBytes(32);
const vault = createKeyVault(master);
const nwkSKey = Buffer.from('2b7e151628aed2a6abf7158809cf4f3c', 'hex');
const aad = keyAad('70B3D57ED0001234', 'nwkSKey');

/** Replaces one base64 part of a sealed value with the same bytes, one bit flipped. */
function flipBit(sealed: string, part: 1 | 2 | 3): string {
  const parts = sealed.split(':');
  const bytes = Buffer.from(parts[part] ?? '', 'base64');
  bytes[0] = (bytes[0] ?? 0) ^ 1;
  parts[part] = bytes.toString('base64');
  return parts.join(':');
}

describe('key vault', () => {
  it('opens what it sealed', () => {
    const sealed = vault.sealKey(nwkSKey, aad);
    expect(sealed).toMatch(/^v1:[A-Za-z0-9+/]{16}:[A-Za-z0-9+/]{22}==:[A-Za-z0-9+/]{22}==$/);
    expect(vault.openKey(sealed, aad)).toEqual(nwkSKey);
  });

  it('uses a fresh IV each time, so the same key seals differently', () => {
    expect(vault.sealKey(nwkSKey, aad)).not.toBe(vault.sealKey(nwkSKey, aad));
  });

  it('never contains the key in clear', () => {
    const sealed = vault.sealKey(nwkSKey, aad);
    expect(sealed).not.toContain(nwkSKey.toString('base64').slice(0, 20));
    expect(Buffer.from(sealed.split(':')[3] ?? '', 'base64').equals(nwkSKey)).toBe(false);
  });

  it.each([
    ['IV', 1],
    ['tag', 2],
    ['ciphertext', 3],
  ] as const)('refuses a sealed key whose %s was tampered with', (_name, part) => {
    const sealed = vault.sealKey(nwkSKey, aad);
    expect(() => vault.openKey(flipBit(sealed, part), aad)).toThrow(KeyVaultError);
  });

  it('refuses to open under another device\'s AAD', () => {
    const sealed = vault.sealKey(nwkSKey, aad);
    expect(() => vault.openKey(sealed, keyAad('70b3d57ed0001235', 'nwkSKey'))).toThrow(KeyVaultError);
  });

  it('refuses to open an NwkSKey as the same device\'s AppSKey', () => {
    const sealed = vault.sealKey(nwkSKey, aad);
    expect(() => vault.openKey(sealed, keyAad('70b3d57ed0001234', 'appSKey'))).toThrow(KeyVaultError);
  });

  it('binds the AAD case-insensitively to the DevEUI', () => {
    expect(keyAad('70B3D57ED0001234', 'appSKey')).toBe(keyAad('70b3d57ed0001234', 'appSKey'));
  });

  it('refuses to open under another master key', () => {
    const sealed = vault.sealKey(nwkSKey, aad);
    expect(() => createKeyVault(randomBytes(32)).openKey(sealed, aad)).toThrow(KeyVaultError);
  });

  it.each(['', 'v2:a:b:c', 'v1:only:three', 'v1:!!!!:AAAA:AAAA', `v1:${Buffer.alloc(8).toString('base64')}:${Buffer.alloc(16).toString('base64')}:AA==`])(
    'refuses a malformed sealed value %j',
    (sealed) => {
      expect(() => vault.openKey(sealed, aad)).toThrow(KeyVaultError);
    },
  );

  it('keeps working when the caller wipes its master key buffer', () => {
    const own = Buffer.from(master);
    const v = createKeyVault(own);
    const sealed = v.sealKey(nwkSKey, aad);
    own.fill(0);
    expect(v.openKey(sealed, aad)).toEqual(nwkSKey);
  });

  it('refuses a master key that is not 32 bytes', () => {
    expect(() => createKeyVault(randomBytes(16))).toThrow(KeyVaultError);
  });

  it('says nothing about the key in its errors', () => {
    const sealed = vault.sealKey(nwkSKey, aad);
    try {
      vault.openKey(flipBit(sealed, 3), aad);
      expect.unreachable();
    } catch (error) {
      const text = `${(error as Error).message} ${String((error as Error).cause)}`;
      expect(text).not.toContain(nwkSKey.toString('hex'));
      expect(text).not.toContain(sealed.split(':')[3]);
      expect(text).not.toContain(master.toString('hex'));
    }
  });
});

describe('redact', () => {
  it('shows a key\'s length only', () => {
    expect(redact(nwkSKey)).toBe('[redacted 16 bytes]');
    expect(redact(nwkSKey.toString('hex'))).toBe('[redacted 32 chars]');
    expect(redact(null)).toBe('[none]');
  });

  it('replaces key fields at any depth and leaves the rest', () => {
    const record = { devEui: '70b3d57ed0001234', nwkSKey, session: { appSKey: nwkSKey.toString('hex'), lastFCnt: 7 }, list: [{ masterKey: master }] };
    const out = redactSecrets(record);
    expect(out).toEqual({
      devEui: '70b3d57ed0001234',
      nwkSKey: '[redacted 16 bytes]',
      session: { appSKey: '[redacted 32 chars]', lastFCnt: 7 },
      list: [{ masterKey: '[redacted 32 bytes]' }],
    });
    expect(JSON.stringify(out)).not.toContain(nwkSKey.toString('hex'));
    expect(record.nwkSKey).toBe(nwkSKey);
  });
});
