/**
 * Password sign-in with lockout, after OWASP's Authentication Cheat Sheet ("Account
 * Lockout") and its "device cookies" proposal for slowing online guessing without giving
 * the guesser a way to lock the owner out.
 *
 * Three counters, each taken *before* the password is checked (so parallel guesses
 * cannot all pass the test first) and reset by a correct password through them:
 * - per account, for browsers the user has not signed in with: `lockAfter` consecutive
 *   failures lock the account for `baseLockS`, doubling per further failure up to
 *   `maxLockS`; attempts during a lock are refused unchecked and do not extend it;
 * - per known browser (DEVICE_COOKIE, set at each successful sign-in, `deviceMaxAgeS`):
 *   such a browser is exempt from the account lock and the address limit, so whoever
 *   guesses elsewhere cannot keep the user out of the browsers they use; `lockAfter`
 *   failures from it end its exemption; its sign-ins leave the account's count alone
 *   (else each of the owner's sign-ins would hand a guesser a fresh set of attempts);
 * - per client address over all accounts: `addressMaxFailures` in `addressWindowS`
 *   (generous, as a whole city hall may share one address).
 * Every failure is answered no sooner than `failureDelayMs` after the request arrived,
 * and an unknown user name costs the same hash as a known one.
 */
import type pg from 'pg';
import {
  claimAddressAttempt, claimDeviceAttempt, claimSignInAttempt, recordSignInSuccess, releaseAddressAttempt, selectAddressWindowEnd,
  selectUserByUsername, upgradePasswordHash, upsertUserDevice, type UserRow,
} from '../storage/index.js';
import { hashPassword, needsRehash, verifyNothing, verifyPassword } from './password-hash.js';
import { hashToken, newToken } from './sessions.js';

export const LOCKOUT = Object.freeze({
  lockAfter: 5,
  baseLockS: 60,
  maxLockS: 900,
  addressMaxFailures: 30,
  addressWindowS: 900,
  deviceMaxAgeS: 180 * 86_400,
  failureDelayMs: 1000,
});

export type SignInOutcome =
  | { ok: true; user: UserRow; deviceToken: string }
  | { ok: false; reason: 'wrong_password' | 'unknown_user' | 'disabled'; user: UserRow | null; lockedUntil: Date | null }
  | { ok: false; reason: 'locked' | 'address_blocked'; user: UserRow | null; lockedUntil: Date };

/** User names compare in this form: what `stadtfunk user create` and the admin API store. */
export function normaliseUsername(name: string): string {
  return name.normalize('NFKC').trim().toLowerCase();
}

export async function signInWithPassword(
  pool: pg.Pool,
  attempt: { username: string; password: string; deviceToken: string | null; remoteAddr: string },
): Promise<SignInOutcome> {
  const found = await selectUserByUsername(pool, normaliseUsername(attempt.username));
  const user = found?.passwordHash ? found : null;
  const deviceHash = attempt.deviceToken ? hashToken(attempt.deviceToken) : null;
  const knownBrowser = user !== null && deviceHash !== null && (await claimDeviceAttempt(pool, deviceHash, user.id, LOCKOUT.lockAfter, LOCKOUT.deviceMaxAgeS)) !== null;

  let accountClaim: { failures: number; lockedUntil: Date | null } | null = null;
  if (!knownBrowser) {
    if ((await claimAddressAttempt(pool, attempt.remoteAddr, LOCKOUT.addressMaxFailures, LOCKOUT.addressWindowS)) === null) {
      const until = (await selectAddressWindowEnd(pool, attempt.remoteAddr, LOCKOUT.addressWindowS)) ?? new Date(Date.now() + LOCKOUT.addressWindowS * 1000);
      return { ok: false, reason: 'address_blocked', user, lockedUntil: until };
    }
    if (user) {
      accountClaim = await claimSignInAttempt(pool, user.id, LOCKOUT);
      if (accountClaim === null) {
        // Refused without looking at the password: no guess was made, so the address keeps its attempt.
        await releaseAddressAttempt(pool, attempt.remoteAddr);
        return { ok: false, reason: 'locked', user, lockedUntil: user.lockedUntil ?? new Date(Date.now() + LOCKOUT.baseLockS * 1000) };
      }
    }
  }

  const correct = user ? await verifyPassword(attempt.password, user.passwordHash!) : await verifyNothing(attempt.password);
  if (!correct || !user) {
    return { ok: false, reason: user ? 'wrong_password' : 'unknown_user', user, lockedUntil: accountClaim?.lockedUntil ?? null };
  }
  if (user.disabledAt) return { ok: false, reason: 'disabled', user, lockedUntil: null };

  await recordSignInSuccess(pool, user.id, !knownBrowser);
  if (!knownBrowser) await releaseAddressAttempt(pool, attempt.remoteAddr);
  const deviceToken = knownBrowser ? attempt.deviceToken! : newToken();
  await upsertUserDevice(pool, hashToken(deviceToken), user.id);
  if (needsRehash(user.passwordHash!)) await upgradePasswordHash(pool, user.id, user.passwordHash!, await hashPassword(attempt.password));
  return { ok: true, user, deviceToken };
}
