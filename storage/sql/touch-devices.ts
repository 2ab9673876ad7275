import type pg from 'pg';

/** Moves each device's last_seen_at forward (never back). */
export async function touchDevices(db: pg.ClientBase, seen: Map<string, Date>): Promise<void> {
  if (seen.size === 0) return;
  await db.query(
    `update devices d set last_seen_at = s.at
     from unnest($1::text[], $2::timestamptz[]) as s(dev_eui, at)
     where d.dev_eui = s.dev_eui and (d.last_seen_at is null or d.last_seen_at < s.at)`,
    [[...seen.keys()], [...seen.values()]],
  );
}
