/**
 * AES-CMAC (RFC 4493) on node:crypto, for 128-bit keys.
 *
 * Node has no CMAC primitive, so this is the RFC's algorithm on top of AES-128-CBC:
 * CMAC is a CBC-MAC whose last block is XORed with subkey K1 (complete block) or
 * padded with 10* and XORed with K2 (RFC 4493 §2.4). The subkeys derive from
 * L = AES-K(0^128) (§2.3).
 *
 * Trade-off: creating an OpenSSL cipher context costs more than encrypting a few
 * blocks, and a LoRaWAN MIC covers only 2–17 blocks. So each key keeps one CBC context
 * for as long as the key Buffer lives: encrypting the zero block once yields L (and the
 * subkeys) and leaves a chaining value, the last block the context encrypted. Each MAC
 * pre-XORs its first block with that chaining value, which cancels it, so the context
 * works as if it started from a zero IV; the MAC's last block is the next chaining value.
 */
import { createCipheriv, type Cipheriv } from 'node:crypto';
import { KeyContexts } from './key-contexts.js';

const BLOCK_BYTES = 16;
const ZERO_BLOCK = Buffer.alloc(BLOCK_BYTES);
/** R_128 of RFC 4493 §2.3: the reduction constant for doubling in GF(2^128). */
const RB = 0x87;

/** Doubling in GF(2^128): shift left one bit, XOR Rb into the last byte if the top bit fell out. */
function double(block: Buffer): Buffer {
  const out = Buffer.allocUnsafe(BLOCK_BYTES);
  let carry = 0;
  for (let i = BLOCK_BYTES - 1; i >= 0; i--) {
    const b = block[i] ?? 0;
    out[i] = ((b << 1) | carry) & 0xff;
    carry = b >> 7;
  }
  if (((block[0] ?? 0) & 0x80) !== 0) out[BLOCK_BYTES - 1] = (out[BLOCK_BYTES - 1] ?? 0) ^ RB;
  return out;
}

/** A key's CBC context, its subkeys and the context's chaining value now. */
interface CmacContext {
  cipher: Cipheriv;
  k1: Buffer;
  k2: Buffer;
  chain: Buffer;
}

const contexts = new KeyContexts<CmacContext>((key) => {
  const cipher = createCipheriv('aes-128-cbc', key, ZERO_BLOCK);
  cipher.setAutoPadding(false);
  const l = cipher.update(ZERO_BLOCK);
  const k1 = double(l);
  return { cipher, k1, k2: double(k1), chain: l };
});

/**
 * The 16-byte AES-CMAC tag of `message` under a 16-byte `key`.
 * @throws TypeError when the key is not 16 bytes.
 */
export function aesCmac(key: Buffer, message: Buffer): Buffer {
  if (key.length !== BLOCK_BYTES) throw new TypeError(`AES-CMAC key must be 16 bytes, got ${key.length}`);
  const context = contexts.get(key);
  const blocks = Math.max(1, Math.ceil(message.length / BLOCK_BYTES));
  const complete = message.length > 0 && message.length % BLOCK_BYTES === 0;
  const input = Buffer.alloc(blocks * BLOCK_BYTES);
  message.copy(input);
  const last = (blocks - 1) * BLOCK_BYTES;
  const subkey = complete ? context.k1 : context.k2;
  if (!complete) input[message.length] = 0x80;
  for (let i = 0; i < BLOCK_BYTES; i++) input[last + i] = (input[last + i] ?? 0) ^ (subkey[i] ?? 0);
  // Cancel the chaining value the context holds, so the MAC starts from a zero IV.
  const chain = context.chain;
  for (let i = 0; i < BLOCK_BYTES; i++) input[i] = (input[i] ?? 0) ^ (chain[i] ?? 0);

  const out = context.cipher.update(input);
  const mac = out.subarray(out.length - BLOCK_BYTES);
  // A copy: the caller may change the tag it gets back.
  context.chain = Buffer.from(mac);
  return mac;
}
