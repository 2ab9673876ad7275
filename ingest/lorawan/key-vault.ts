/**
 * LoRaWAN session keys at rest: sealed with AES-256-GCM under one 32-byte master key.
 *
 *   sealed = "v1:" base64(iv, 12 B) ":" base64(tag, 16 B) ":" base64(ciphertext)
 *
 * The additional authenticated data binds a sealed key to its device and role
 * (`keyAad(devEui, 'nwkSKey')`): a ciphertext copied to another device's row, or from
 * the AppSKey column into the NwkSKey column, fails to open instead of silently
 * working. A fresh random IV per seal; with 96-bit random IVs GCM stays safe far
 * beyond the number of keys a city registers (NIST SP 800-38D §8.3).
 *
 * Design note: the vault holds the master key for the process lifetime; it copies it
 * at creation so the caller can wipe its own buffer. Errors never include key bytes,
 * sealed text or the AAD's key material, only what failed.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { KeyVaultError } from './errors.js';

const VERSION = 'v1';
const MASTER_KEY_BYTES = 32;
const IV_BYTES = 12;
const TAG_BYTES = 16;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** Names of the keys a device row holds (the OTAA root key AppKey and the session keys). */
export type SessionKeyName = 'nwkSKey' | 'appSKey' | 'appKey';

export interface KeyVault {
  /** Seals a key; `aad` must be given again to open it (use `keyAad`). */
  sealKey(plain: Buffer, aad: string): string;
  /** Opens a sealed key. @throws KeyVaultError when tampered, bound to another AAD, or not a v1 value. */
  openKey(sealed: string, aad: string): Buffer;
}

/** The AAD that binds a sealed key to one device and one role. */
export function keyAad(devEui: string, keyName: SessionKeyName): string {
  if (!/^[0-9a-fA-F]{16}$/.test(devEui)) throw new TypeError('DevEUI must be 16 hex digits');
  return `stadtfunk:lorawan-key:${devEui.toLowerCase()}:${keyName}`;
}

/** @param masterKey 32 random bytes (e.g. `openssl rand -base64 32`), from configuration. */
export function createKeyVault(masterKey: Buffer): KeyVault {
  if (masterKey.length !== MASTER_KEY_BYTES) throw new KeyVaultError(`master key must be ${MASTER_KEY_BYTES} bytes, got ${masterKey.length}`);
  const master = Buffer.from(masterKey);
  return {
    sealKey(plain, aad) {
      if (plain.length === 0) throw new KeyVaultError('refusing to seal an empty key');
      const iv = randomBytes(IV_BYTES);
      const cipher = createCipheriv('aes-256-gcm', master, iv, { authTagLength: TAG_BYTES });
      cipher.setAAD(Buffer.from(aad, 'utf8'));
      const ct = Buffer.concat([cipher.update(plain), cipher.final()]);
      return [VERSION, iv.toString('base64'), cipher.getAuthTag().toString('base64'), ct.toString('base64')].join(':');
    },
    openKey(sealed, aad) {
      const parts = sealed.split(':');
      if (parts.length !== 4 || parts[0] !== VERSION) throw new KeyVaultError('sealed key is not in the v1:<iv>:<tag>:<ct> format');
      const [ivB64, tagB64, ctB64] = parts.slice(1) as [string, string, string];
      if (![ivB64, tagB64, ctB64].every((p) => BASE64.test(p))) throw new KeyVaultError('sealed key has a part that is not base64');
      const iv = Buffer.from(ivB64, 'base64');
      const tag = Buffer.from(tagB64, 'base64');
      const ct = Buffer.from(ctB64, 'base64');
      if (iv.length !== IV_BYTES || tag.length !== TAG_BYTES || ct.length === 0) {
        throw new KeyVaultError('sealed key has a wrong IV, tag or ciphertext length');
      }
      try {
        const decipher = createDecipheriv('aes-256-gcm', master, iv, { authTagLength: TAG_BYTES });
        decipher.setAAD(Buffer.from(aad, 'utf8'));
        decipher.setAuthTag(tag);
        return Buffer.concat([decipher.update(ct), decipher.final()]);
      } catch (error) {
        // OpenSSL says only "Unsupported state or unable to authenticate data"; nothing secret in the cause.
        throw new KeyVaultError('sealed key failed authentication (tampered, other device/key name, or other master key)', { cause: error });
      }
    },
  };
}

const KEY_FIELD = /(?:key|secret)$/i;

/** A placeholder for a key in logs: its length only, never a byte of it. */
export function redact(value: Buffer | Uint8Array | string | null | undefined): string {
  if (value === null || value === undefined) return '[none]';
  const bytes = typeof value === 'string' ? value.length : value.byteLength;
  return `[redacted ${bytes}${typeof value === 'string' ? ' chars' : ' bytes'}]`;
}

/**
 * A copy of `record` fit for a log line: every string or byte property whose name ends
 * in `key` or `secret` (nwkSKey, appSKey, masterKey, …), at any depth, replaced by `redact(…)`.
 */
export function redactSecrets(record: object): Record<string, unknown> {
  return redactValue(record, 0) as Record<string, unknown>;
}

function redactValue(value: unknown, depth: number): unknown {
  if (depth > 8 || value === null || typeof value !== 'object') return value;
  if (Buffer.isBuffer(value) || value instanceof Uint8Array || value instanceof Date) return value;
  if (Array.isArray(value)) return value.map((v) => redactValue(v, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    out[k] = KEY_FIELD.test(k) && (typeof v === 'string' || v instanceof Uint8Array) ? redact(v) : redactValue(v, depth + 1);
  }
  return out;
}
