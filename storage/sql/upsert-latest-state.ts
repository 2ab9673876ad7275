import type pg from 'pg';
import type { ReadingRow } from '../rows.js';
import { pgJson } from './pg-text.js';

/** The key of a metric and channel in latest_state.metrics (metric ids never contain '@'). */
export function latestStateKey(metric: string, channel: string): string {
  return channel === '' ? metric : `${metric}@${channel}`;
}

/** A device's newest uplink in a batch: moves `last_seen_at` forward. */
export interface DeviceSeen {
  devEui: string;
  seenAt: Date;
}

interface DeviceState {
  devEui: string;
  assetId: string | null;
  /** Newest entry's time (epoch ms); null when only last seen moves. */
  time: number | null;
  /** Epoch ms, or null. */
  seen: number | null;
  metrics: Record<string, [number, number, string]>;
}

/**
 * Moves the latest state of each device forward: one row per device, whatever the number
 * of metrics, holding its newest readings and when it was last seen. An entry replaces
 * the stored one only if it is newer, so a reading arriving late never moves a value back
 * in time; last seen only moves forward.
 *
 * Almost always all of a device's new entries come from one uplink and share its time.
 * When that time is past everything stored for the device (the `time` column is the
 * newest entry's time), the new entries simply overwrite; otherwise
 * latest_state_merge compares entry by entry. Entries older than the device's newest
 * new one (two uplinks of one device in a batch with different metrics) go in a
 * second statement that always compares.
 *
 * `rows` holds at most one reading per device, metric and channel (see newestPerKey);
 * `seen` at most one entry per device.
 */
export async function upsertLatestState(db: pg.ClientBase, rows: ReadingRow[], seen: DeviceSeen[] = []): Promise<void> {
  if (rows.length === 0 && seen.length === 0) return;
  const newest = new Map<string, DeviceState>();
  const older: ReadingRow[] = [];
  for (const row of rows) {
    const time = row.time.getTime();
    const state = newest.get(row.devEui);
    if (!state) {
      newest.set(row.devEui, { devEui: row.devEui, assetId: row.assetId, time, seen: null, metrics: { [latestStateKey(row.metric, row.channel)]: [time, row.value, row.quality] } });
    } else if (time === state.time) {
      state.metrics[latestStateKey(row.metric, row.channel)] = [time, row.value, row.quality];
    } else if (time > state.time!) {
      // A newer uplink of the same device: what was collected so far is older.
      for (const [key, [t, value, quality]] of Object.entries(state.metrics)) older.push(entryRow(row.devEui, state.assetId, key, t, value, quality));
      newest.set(row.devEui, { devEui: row.devEui, assetId: row.assetId, time, seen: null, metrics: { [latestStateKey(row.metric, row.channel)]: [time, row.value, row.quality] } });
    } else {
      older.push(row);
    }
  }
  for (const s of seen) {
    const state = newest.get(s.devEui);
    if (state) state.seen = s.seenAt.getTime();
    else newest.set(s.devEui, { devEui: s.devEui, assetId: null, time: null, seen: s.seenAt.getTime(), metrics: {} });
  }
  await upsert(db, [...newest.values()], false);
  if (older.length > 0) {
    const merged = new Map<string, DeviceState>();
    for (const row of older) {
      const time = row.time.getTime();
      const state = merged.get(row.devEui) ?? { devEui: row.devEui, assetId: row.assetId, time, seen: null, metrics: {} };
      if (time > state.time!) state.time = time;
      state.metrics[latestStateKey(row.metric, row.channel)] = [time, row.value, row.quality];
      merged.set(row.devEui, state);
    }
    await upsert(db, [...merged.values()], true);
  }
}

function entryRow(devEui: string, assetId: string | null, key: string, time: number, value: number, quality: string): ReadingRow {
  const at = key.indexOf('@');
  return {
    devEui, assetId, value, quality: quality as ReadingRow['quality'], time: new Date(time), uplinkId: null,
    metric: at < 0 ? key : key.slice(0, at), channel: at < 0 ? '' : key.slice(at + 1),
  };
}

async function upsert(db: pg.ClientBase, states: DeviceState[], alwaysCompare: boolean): Promise<void> {
  // Sorted: concurrent writers lock device rows in the same order and cannot deadlock.
  states.sort((a, b) => (a.devEui < b.devEui ? -1 : a.devEui > b.devEui ? 1 : 0));
  const json = pgJson(states.map((s) => ({ d: s.devEui, a: s.assetId, t: s.time, s: s.seen, m: s.metrics })));
  // GREATEST ignores nulls: an entry without readings keeps `time` (and the asset), one without
  // an uplink keeps last seen.
  const overwrite = alwaysCompare ? 'false' : 'latest_state.time is null or latest_state.time < excluded.time';
  await db.query(
    `insert into latest_state (dev_eui, asset_id, time, last_seen_at, metrics)
     select d, a, to_timestamp(t / 1000.0), to_timestamp(s / 1000.0), m from json_to_recordset($1::json) as r(d text, a text, t float8, s float8, m jsonb)
     on conflict (dev_eui) do update set
       metrics = case when ${overwrite} then latest_state.metrics || excluded.metrics
                      else latest_state_merge(latest_state.metrics, excluded.metrics) end,
       asset_id = case when excluded.time is not null and (latest_state.time is null or latest_state.time <= excluded.time)
                       then excluded.asset_id else latest_state.asset_id end,
       time = greatest(latest_state.time, excluded.time),
       last_seen_at = greatest(latest_state.last_seen_at, excluded.last_seen_at)`,
    [json],
  );
}
