/**
 * What the database server did for a benchmark run, read from its statistics views:
 * WAL written (and how much of it was full-page images), and checkpoints. A checkpoint
 * makes the next change of every page write the whole page into WAL again, so a server
 * that checkpoints every few seconds writes several times the WAL of the rows themselves;
 * `max_wal_size` and `checkpoint_timeout` decide how often that happens. The counters are
 * server-wide: other databases' activity during the run counts too.
 */
import type pg from 'pg';

/** The settings that decide what a write-heavy run costs the server, as `name=value` pairs. */
export const WRITE_SETTINGS = ['shared_buffers', 'max_wal_size', 'checkpoint_timeout', 'wal_compression', 'synchronous_commit'] as const;

export interface DatabaseActivity {
  walBytes: number;
  walRecords: number;
  fullPageImages: number;
  checkpoints: number;
}

/** `shared_buffers=128MB, max_wal_size=1GB, …` as the server shows them. */
export async function writeSettings(db: pg.ClientBase | pg.Pool): Promise<string> {
  const { rows } = await db.query<{ name: string; value: string }>(
    'select name, current_setting(name) as value from unnest($1::text[]) with ordinality as s(name, n) order by n',
    [[...WRITE_SETTINGS]],
  );
  return rows.map((r) => `${r.name}=${r.value}`).join(', ');
}

/** The server's counters now; null where the server has no pg_stat_wal (before PostgreSQL 14). */
export async function databaseActivity(db: pg.ClientBase | pg.Pool): Promise<DatabaseActivity | null> {
  const version = Number((await db.query<{ v: string }>(`select current_setting('server_version_num') as v`)).rows[0]!.v);
  if (version < 140000) return null;
  // WAL bytes from the insert position, which is exact at once; pg_stat_wal is cumulative
  // statistics the service's backends flush at most once a second (idle ones after 10 s),
  // so a short run read it unchanged (walBytesPerUnit 0 in test/bench-harness.test.ts).
  const wal = await db.query<{ bytes: string; records: string; fpi: string }>(
    "select pg_wal_lsn_diff(pg_current_wal_insert_lsn(), '0/0')::bigint::text as bytes, wal_records::text as records, wal_fpi::text as fpi from pg_stat_wal");
  // PostgreSQL 17 moved the checkpoint counters from pg_stat_bgwriter to pg_stat_checkpointer.
  const checkpoints = await db.query<{ n: string }>(
    version >= 170000
      ? 'select (num_timed + num_requested)::text as n from pg_stat_checkpointer'
      : 'select (checkpoints_timed + checkpoints_req)::text as n from pg_stat_bgwriter',
  );
  const w = wal.rows[0]!;
  return { walBytes: Number(w.bytes), walRecords: Number(w.records), fullPageImages: Number(w.fpi), checkpoints: Number(checkpoints.rows[0]!.n) };
}

/** What happened between two readings, per unit of work (an uplink, say). */
export function activityPer(before: DatabaseActivity | null, after: DatabaseActivity | null, units: number): { walBytesPerUnit: number; fullPageImagesPerUnit: number; checkpoints: number } | null {
  if (!before || !after || units <= 0) return null;
  return {
    walBytesPerUnit: (after.walBytes - before.walBytes) / units,
    fullPageImagesPerUnit: (after.fullPageImages - before.fullPageImages) / units,
    checkpoints: after.checkpoints - before.checkpoints,
  };
}

/** The results table's row for activityPer's result. */
export function activityRow(a: ReturnType<typeof activityPer>): [string, string] {
  const label = 'database WAL per uplink, full-page images per uplink, checkpoints';
  if (!a) return [label, 'not available (pg_stat_wal needs PostgreSQL 14+)'];
  return [label, `${Math.round(a.walBytesPerUnit).toLocaleString('en-US')} bytes, ${a.fullPageImagesPerUnit.toFixed(3)}, ${a.checkpoints}`];
}
