/** Sessions and known browsers of users (migration 0050). Tokens arrive here as SHA-256 hashes only. */
import type pg from 'pg';
import type { Role } from './api-keys.js';

type Db = pg.Pool | pg.ClientBase;

export async function insertSession(
  db: Db,
  session: { tokenHash: Buffer; userId: string; via: 'password' | 'oidc'; maxAgeS: number; remoteAddr: string | null; userAgent: string | null },
): Promise<{ expiresAt: Date }> {
  const { rows } = await db.query<{ expiresAt: Date }>(
    `insert into user_sessions (token_hash, user_id, via, expires_at, remote_addr, user_agent)
     values ($1, $2, $3, now() + make_interval(secs => $4), $5, $6) returning expires_at as "expiresAt"`,
    [session.tokenHash, session.userId, session.via, session.maxAgeS, session.remoteAddr, session.userAgent],
  );
  return rows[0]!;
}

export interface ActiveSessionRow {
  userId: string;
  /** The local user name, or the identity provider's preferred_username. */
  username: string | null;
  displayName: string;
  role: Role;
  via: 'password' | 'oidc';
  expiresAt: Date;
  /** Seconds since the session was last seen; it is refreshed when this passes a minute. */
  idleS: number;
}

/** The session with this token hash if it is neither idle too long nor past its absolute expiry, and its user is enabled. */
export async function selectActiveSession(db: Db, tokenHash: Buffer, idleTimeoutS: number): Promise<ActiveSessionRow | null> {
  const { rows } = await db.query<ActiveSessionRow>(
    `select s.user_id as "userId", coalesce(u.username, u.oidc_username) as username, u.display_name as "displayName", u.role, s.via, s.expires_at as "expiresAt",
            extract(epoch from now() - s.last_seen_at)::float8 as "idleS"
     from user_sessions s join users u on u.id = s.user_id
     where s.token_hash = $1 and s.expires_at > now() and s.last_seen_at > now() - make_interval(secs => $2) and u.disabled_at is null`,
    [tokenHash, idleTimeoutS],
  );
  return rows[0] ?? null;
}

export async function touchSession(db: Db, tokenHash: Buffer): Promise<void> {
  await db.query(`update user_sessions set last_seen_at = now() where token_hash = $1`, [tokenHash]);
}

/** Ends one session; its user id, or null when there was none. */
export async function deleteSession(db: Db, tokenHash: Buffer): Promise<string | null> {
  const { rows } = await db.query<{ userId: string }>(`delete from user_sessions where token_hash = $1 returning user_id as "userId"`, [tokenHash]);
  return rows[0]?.userId ?? null;
}

/** Ends every session of a user ("sign out everywhere", disabling); how many there were. */
export async function deleteUserSessions(db: Db, userId: string): Promise<number> {
  const r = await db.query(`delete from user_sessions where user_id = $1`, [userId]);
  return r.rowCount ?? 0;
}

export async function countUserSessions(db: Db): Promise<Map<string, number>> {
  const { rows } = await db.query<{ userId: string; n: number }>(
    `select user_id as "userId", count(*)::int as n from user_sessions where expires_at > now() group by user_id`,
  );
  return new Map(rows.map((r) => [r.userId, r.n]));
}

/** Remembers a browser that signed in as this user (or refreshes it). */
export async function upsertUserDevice(db: Db, tokenHash: Buffer, userId: string): Promise<void> {
  await db.query(
    `insert into user_devices (token_hash, user_id) values ($1, $2)
     on conflict (token_hash) do update set last_used_at = now(), failed_sign_ins = 0 where user_devices.user_id = excluded.user_id`,
    [tokenHash, userId],
  );
}

/**
 * Takes one attempt from a known browser of this user before the password is checked.
 * Null when the browser is not known for this user, or has used up its `maxFailures`
 * (it is then treated like any other browser).
 */
export async function claimDeviceAttempt(db: Db, tokenHash: Buffer, userId: string, maxFailures: number, maxAgeS: number): Promise<number | null> {
  const { rows } = await db.query<{ failures: number }>(
    `update user_devices set failed_sign_ins = failed_sign_ins + 1
     where token_hash = $1 and user_id = $2 and failed_sign_ins < $3 and last_used_at > now() - make_interval(secs => $4)
     returning failed_sign_ins as failures`,
    [tokenHash, userId, maxFailures, maxAgeS],
  );
  return rows[0]?.failures ?? null;
}

/** Expired sessions, stale known browsers, abandoned OpenID Connect flows and old per-address counts. */
export async function deleteExpiredSignInState(db: Db, opts: { idleTimeoutS: number; deviceMaxAgeS: number; flowMaxAgeS: number; failureWindowS: number }): Promise<void> {
  await db.query(
    `with s as (delete from user_sessions where expires_at <= now() or last_seen_at <= now() - make_interval(secs => $4)),
          d as (delete from user_devices where last_used_at <= now() - make_interval(secs => $1)),
          f as (delete from oidc_flows where created_at <= now() - make_interval(secs => $2))
     delete from sign_in_failures where window_started_at <= now() - make_interval(secs => $3)`,
    [opts.deviceMaxAgeS, opts.flowMaxAgeS, opts.failureWindowS, opts.idleTimeoutS],
  );
}
