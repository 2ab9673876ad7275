/**
 * Local user accounts: what the admin API and `stadtfunk user` share. Passwords follow
 * NIST SP 800-63B on memorized secrets: a minimum length (12 here, above its 8) and no
 * composition rules, any characters; the upper bound only keeps hashing cheap to refuse.
 */
import { randomBytes } from 'node:crypto';
import type pg from 'pg';
import { insertUser, selectUserById, updateUser, type Role, type UserRow } from '../storage/index.js';
import { HttpError } from './errors.js';
import { hashPassword as hashOrBusy, PasswordHasherBusy } from './password-hash.js';
import { normaliseUsername } from './sign-in.js';

/** Hashing refused for load answers 503, not 500. */
async function hashPassword(password: string): Promise<string> {
  try {
    return await hashOrBusy(password);
  } catch (error) {
    if (error instanceof PasswordHasherBusy) throw new HttpError(503, error.code, error.message);
    throw error;
  }
}

export const PASSWORD_MIN_LENGTH = 12;
export const PASSWORD_MAX_LENGTH = 256;
export const USERNAME_PATTERN = /^[a-z0-9][a-z0-9._@-]{0,99}$/;

/** What is wrong with a new password, or null. */
export function passwordProblem(password: string, username: string | null): string | null {
  const length = [...password].length;
  if (length < PASSWORD_MIN_LENGTH) return `the password must have at least ${PASSWORD_MIN_LENGTH} characters`;
  if (length > PASSWORD_MAX_LENGTH) return `the password may have at most ${PASSWORD_MAX_LENGTH} characters`;
  if (username !== null && normaliseUsername(password) === username) return 'the password must not be the user name';
  return null;
}

export async function createUser(pool: pg.Pool, input: { username: string; displayName?: string | null; role: Role; password: string }): Promise<UserRow> {
  const username = normaliseUsername(input.username);
  if (!USERNAME_PATTERN.test(username)) {
    throw new HttpError(400, 'STADTFUNK_ERR_BAD_USERNAME', 'the user name may hold lower-case letters, digits and . _ @ - (at most 100, starting with a letter or digit)');
  }
  const problem = passwordProblem(input.password, username);
  if (problem) throw new HttpError(400, 'STADTFUNK_ERR_WEAK_PASSWORD', problem);
  const id = randomBytes(6).toString('hex');
  const created = await insertUser(pool, { id, username, displayName: input.displayName?.trim() || username, role: input.role, passwordHash: await hashPassword(input.password) });
  if (!created) throw new HttpError(409, 'STADTFUNK_ERR_USER_EXISTS', `a user named ${username} exists already`);
  return (await selectUserById(pool, id))!;
}

/** Changes a user; a user from the identity provider gets name and role from there, so only `disabled` applies to them. */
export async function changeUser(
  pool: pg.Pool,
  id: string,
  change: { displayName?: string; role?: Role; disabled?: boolean; password?: string },
): Promise<UserRow> {
  const user = await selectUserById(pool, id);
  if (!user) throw new HttpError(404, 'STADTFUNK_ERR_NOT_FOUND', `user ${id} not found`);
  if (user.oidcSubject !== null && (change.role !== undefined || change.password !== undefined || change.displayName !== undefined)) {
    throw new HttpError(400, 'STADTFUNK_ERR_OIDC_USER', 'this user signs in through the identity provider: name and role come from its groups at each sign-in; only disabling applies here');
  }
  let passwordHash: string | null = null;
  if (change.password !== undefined) {
    const problem = passwordProblem(change.password, user.username);
    if (problem) throw new HttpError(400, 'STADTFUNK_ERR_WEAK_PASSWORD', problem);
    passwordHash = await hashPassword(change.password);
  }
  return (await updateUser(pool, id, { displayName: change.displayName?.trim() || null, role: change.role ?? null, disabled: change.disabled ?? null, passwordHash }))!;
}
