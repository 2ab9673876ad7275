/** User accounts (migration 0050). One function per statement. */
import type pg from 'pg';
import type { Role } from './api-keys.js';

type Db = pg.Pool | pg.ClientBase;

export interface UserRow {
  id: string;
  username: string | null;
  displayName: string;
  role: Role;
  /** Only the sign-in path reads it; never leaves the service. */
  passwordHash: string | null;
  oidcIssuer: string | null;
  oidcSubject: string | null;
  /** The provider's preferred_username or e-mail, for people to read. */
  oidcUsername: string | null;
  disabledAt: Date | null;
  createdAt: Date;
  lastSignInAt: Date | null;
  failedSignIns: number;
  lockedUntil: Date | null;
}

const COLUMNS = `id, username, display_name as "displayName", role, password_hash as "passwordHash",
  oidc_issuer as "oidcIssuer", oidc_subject as "oidcSubject", oidc_username as "oidcUsername", disabled_at as "disabledAt", created_at as "createdAt",
  last_sign_in_at as "lastSignInAt", failed_sign_ins as "failedSignIns", locked_until as "lockedUntil"`;

/** Inserts a local account; false when the user name is taken. */
export async function insertUser(db: Db, user: { id: string; username: string; displayName: string; role: Role; passwordHash: string }): Promise<boolean> {
  const r = await db.query(
    `insert into users (id, username, display_name, role, password_hash) values ($1, $2, $3, $4, $5) on conflict (username) do nothing`,
    [user.id, user.username, user.displayName, user.role, user.passwordHash],
  );
  return (r.rowCount ?? 0) > 0;
}

export async function selectUserByUsername(db: Db, username: string): Promise<UserRow | null> {
  const { rows } = await db.query<UserRow>(`select ${COLUMNS} from users where username = $1`, [username]);
  return rows[0] ?? null;
}

export async function selectUserById(db: Db, id: string): Promise<UserRow | null> {
  const { rows } = await db.query<UserRow>(`select ${COLUMNS} from users where id = $1`, [id]);
  return rows[0] ?? null;
}

export async function selectUsers(db: Db): Promise<UserRow[]> {
  const { rows } = await db.query<UserRow>(`select ${COLUMNS} from users order by coalesce(username, oidc_username, display_name), id`);
  return rows;
}

/** Changes what is given (null leaves a field as it is); returns the row, or null when there is no such user. */
export async function updateUser(
  db: Db,
  id: string,
  change: { displayName: string | null; role: Role | null; disabled: boolean | null; passwordHash: string | null },
): Promise<UserRow | null> {
  const { rows } = await db.query<UserRow>(
    `update users set
       display_name = coalesce($2, display_name),
       role = coalesce($3, role),
       disabled_at = case when $4::boolean is null then disabled_at when $4 then coalesce(disabled_at, now()) else null end,
       password_hash = coalesce($5, password_hash)
     where id = $1 returning ${COLUMNS}`,
    [id, change.displayName, change.role, change.disabled, change.passwordHash],
  );
  return rows[0] ?? null;
}

/**
 * Takes one attempt from the account before the password is checked, so that parallel
 * guesses cannot all pass the lock test first. Returns the failure count including this
 * attempt, or null while the account is locked (a locked account's attempts are not
 * counted: the lock does not grow while it lasts). `lockAfter` failures lock it for
 * `baseLockS` seconds, doubling with each further failure up to `maxLockS`.
 */
export async function claimSignInAttempt(db: Db, userId: string, policy: { lockAfter: number; baseLockS: number; maxLockS: number }): Promise<{ failures: number; lockedUntil: Date | null } | null> {
  const { rows } = await db.query<{ failures: number; lockedUntil: Date | null }>(
    `update users set
       failed_sign_ins = failed_sign_ins + 1,
       locked_until = case when failed_sign_ins + 1 >= $2
         then now() + make_interval(secs => least($4::float8, $3::float8 * power(2, failed_sign_ins + 1 - $2)))
         else null end
     where id = $1 and (locked_until is null or locked_until <= now())
     returning failed_sign_ins as failures, locked_until as "lockedUntil"`,
    [userId, policy.lockAfter, policy.baseLockS, policy.maxLockS],
  );
  return rows[0] ?? null;
}

/**
 * After a correct password. `resetLock`: the account's count and lock are cleared; not
 * after a sign-in from a known browser, which says nothing about the guesses made elsewhere.
 */
export async function recordSignInSuccess(db: Db, userId: string, resetLock: boolean): Promise<void> {
  await db.query(
    `update users set last_sign_in_at = now(),
       failed_sign_ins = case when $2 then 0 else failed_sign_ins end,
       locked_until = case when $2 then null else locked_until end
     where id = $1`,
    [userId, resetLock],
  );
}

/** An admin lifts a lock. */
export async function unlockUser(db: Db, userId: string): Promise<boolean> {
  const r = await db.query(`update users set failed_sign_ins = 0, locked_until = null where id = $1`, [userId]);
  return (r.rowCount ?? 0) > 0;
}

/** Replaces a password hash only if it is still the one that was verified (parameters upgraded at sign-in). */
export async function upgradePasswordHash(db: Db, userId: string, oldHash: string, newHash: string): Promise<void> {
  await db.query(`update users set password_hash = $3 where id = $1 and password_hash = $2`, [userId, oldHash, newHash]);
}

/**
 * A user signing in through OpenID Connect: created on first sign-in, name and role
 * taken from the identity provider each time (it is the source of truth for both).
 */
export async function upsertOidcUser(db: Db, user: { id: string; issuer: string; subject: string; username: string; displayName: string; role: Role }): Promise<UserRow> {
  const { rows } = await db.query<UserRow>(
    `insert into users (id, display_name, role, oidc_issuer, oidc_subject, oidc_username, last_sign_in_at) values ($1, $2, $3, $4, $5, $6, now())
     on conflict (oidc_issuer, oidc_subject) do update set display_name = excluded.display_name, role = excluded.role, oidc_username = excluded.oidc_username,
       last_sign_in_at = case when users.disabled_at is null then now() else users.last_sign_in_at end
     returning ${COLUMNS}`,
    [user.id, user.displayName, user.role, user.issuer, user.subject, user.username],
  );
  return rows[0]!;
}
