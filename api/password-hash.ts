/**
 * Password hashing with scrypt (RFC 7914), Node's built-in, memory-hard.
 *
 * Why scrypt and not argon2id: it ships with Node (OpenSSL), so there is no native
 * add-on to build or download for each platform, and it runs on libuv's thread pool,
 * off the event loop. Parameters N=2^16, r=8, p=2 are one of the equivalent settings the
 * OWASP Password Storage Cheat Sheet lists for scrypt (64 MiB per hash); its first choice,
 * N=2^17 with p=1, needs 128 MiB per hash, twice what this service holds in its whole
 * heap; N=2^16 with p=2 costs the same CPU at half the memory. On the shared development
 * machine (2 cores, load 3-8 from other work) one hash took 1.0-2.2 s; expect a few
 * hundred milliseconds on a quiet core.
 *
 * Stored as a PHC string, `$scrypt$ln=16,r=8,p=2$<salt>$<hash>` (base64 without
 * padding), so each hash keeps its own parameters: stronger ones later need no migration
 * and `needsRehash` upgrades a user's hash at the next sign-in.
 *
 * At most `MAX_CONCURRENT` hashes run at once (each holds 64 MiB and a thread of the pool
 * the file system and DNS share) and at most `MAX_WAITING` wait; beyond that callers get
 * `PasswordHasherBusy` instead of a queue that grows with an attacker's request rate.
 */
import { randomBytes, scrypt as scryptCallback, timingSafeEqual, type ScryptOptions } from 'node:crypto';

export interface ScryptParams {
  /** log2 of the CPU/memory cost N. */
  ln: number;
  /** Block size. */
  r: number;
  /** Parallelisation. */
  p: number;
}

export const CURRENT_PARAMS: Readonly<ScryptParams> = Object.freeze({ ln: 16, r: 8, p: 2 });
const KEY_BYTES = 32;
const SALT_BYTES = 16;
const MAX_CONCURRENT = 2;
const MAX_WAITING = 32;
/** Bounds for parameters read from stored hashes: enough for future strengthening, not for a hash that takes a minute. */
const LIMITS = { ln: [10, 20], r: [1, 32], p: [1, 16] } as const;

export class PasswordHasherBusy extends Error {
  readonly code = 'STADTFUNK_ERR_BUSY';
  constructor() {
    super('too many sign-ins at once; try again in a moment');
    this.name = 'PasswordHasherBusy';
  }
}

let running = 0;
const waiting: (() => void)[] = [];

async function withSlot<T>(work: () => Promise<T>): Promise<T> {
  if (running >= MAX_CONCURRENT) {
    if (waiting.length >= MAX_WAITING) throw new PasswordHasherBusy();
    await new Promise<void>((resolve) => waiting.push(resolve));
  } else {
    running++;
  }
  try {
    return await work();
  } finally {
    const next = waiting.shift();
    // The slot passes straight to the next waiter; `running` drops only when none waits.
    if (next) next();
    else running--;
  }
}

function derive(password: string, salt: Buffer, params: ScryptParams): Promise<Buffer> {
  const N = 2 ** params.ln;
  // OpenSSL refuses to allocate more than maxmem; 128·N·r bytes per lane block plus headroom.
  const options: ScryptOptions = { N, r: params.r, p: params.p, maxmem: 128 * N * params.r * 2 + 1024 * 1024 };
  return withSlot(
    () => new Promise<Buffer>((resolve, reject) => scryptCallback(password.normalize('NFC'), salt, KEY_BYTES, options, (error, key) => (error ? reject(error) : resolve(key)))),
  );
}

const b64 = (buffer: Buffer): string => buffer.toString('base64').replace(/=+$/, '');

export async function hashPassword(password: string, params: ScryptParams = CURRENT_PARAMS): Promise<string> {
  const salt = randomBytes(SALT_BYTES);
  const key = await derive(password, salt, params);
  return `$scrypt$ln=${params.ln},r=${params.r},p=${params.p}$${b64(salt)}$${b64(key)}`;
}

interface ParsedHash {
  params: ScryptParams;
  salt: Buffer;
  key: Buffer;
}

export function parseHash(stored: string): ParsedHash | null {
  const m = /^\$scrypt\$ln=(\d{1,2}),r=(\d{1,2}),p=(\d{1,2})\$([A-Za-z0-9+/]{16,})\$([A-Za-z0-9+/]{40,})$/.exec(stored);
  if (!m) return null;
  const params = { ln: Number(m[1]), r: Number(m[2]), p: Number(m[3]) };
  for (const name of ['ln', 'r', 'p'] as const) {
    if (params[name] < LIMITS[name][0] || params[name] > LIMITS[name][1]) return null;
  }
  return { params, salt: Buffer.from(m[4]!, 'base64'), key: Buffer.from(m[5]!, 'base64') };
}

/** True when `password` matches `stored`; false for a wrong password and for a hash this module cannot read. */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const parsed = parseHash(stored);
  if (!parsed) return false;
  const key = await derive(password, parsed.salt, parsed.params);
  return key.length === parsed.key.length && timingSafeEqual(key, parsed.key);
}

/** Burns the time of one verification, for user names that do not exist (their answer must not come sooner). */
let dummyHash: Promise<string> | null = null;
export async function verifyNothing(password: string): Promise<false> {
  dummyHash ??= hashPassword(randomBytes(16).toString('hex'));
  await verifyPassword(password, await dummyHash);
  return false;
}

/** The stored hash is weaker than what `hashPassword` makes now. */
export function needsRehash(stored: string): boolean {
  const parsed = parseHash(stored);
  if (!parsed) return false;
  const { ln, r, p } = parsed.params;
  return 2 ** ln * r * p < 2 ** CURRENT_PARAMS.ln * CURRENT_PARAMS.r * CURRENT_PARAMS.p;
}
