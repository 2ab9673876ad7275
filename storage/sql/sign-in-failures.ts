/** Failed password sign-ins per client address (migration 0050), in fixed windows. */
import type pg from 'pg';

type Db = pg.Pool | pg.ClientBase;

/**
 * Takes one attempt from the client address before the password is checked: a new window
 * starts when the last one is over. Returns null while the address has `maxFailures`
 * in the current window (the attempt is refused unchecked and not counted), else the
 * count including this attempt.
 */
export async function claimAddressAttempt(db: Db, remoteAddr: string, maxFailures: number, windowS: number): Promise<number | null> {
  const { rows } = await db.query<{ failures: number }>(
    `insert into sign_in_failures as f (remote_addr, window_started_at, failures) values ($1, now(), 1)
     on conflict (remote_addr) do update set
       window_started_at = case when f.window_started_at <= now() - make_interval(secs => $3) then now() else f.window_started_at end,
       failures = case when f.window_started_at <= now() - make_interval(secs => $3) then 1 else f.failures + 1 end
     where f.window_started_at <= now() - make_interval(secs => $3) or f.failures < $2
     returning failures`,
    [remoteAddr, maxFailures, windowS],
  );
  return rows[0]?.failures ?? null;
}

/** When the address's current window ends (to tell a refused client when to try again). */
export async function selectAddressWindowEnd(db: Db, remoteAddr: string, windowS: number): Promise<Date | null> {
  const { rows } = await db.query<{ until: Date }>(
    `select window_started_at + make_interval(secs => $2) as until from sign_in_failures where remote_addr = $1`,
    [remoteAddr, windowS],
  );
  return rows[0]?.until ?? null;
}

/** A correct password gives back the attempt it took. */
export async function releaseAddressAttempt(db: Db, remoteAddr: string): Promise<void> {
  await db.query(`update sign_in_failures set failures = greatest(failures - 1, 0) where remote_addr = $1`, [remoteAddr]);
}
