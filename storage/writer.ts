/**
 * The batch writer: one transaction per batch, one round trip per statement kind.
 * Idempotent on the uplink identity: readings, latest state and last-seen move only
 * for uplinks this transaction inserted, so a redelivered batch changes nothing.
 */
import type pg from 'pg';
import { inTransaction } from './database.js';
import type { ReadingRow, WriteBatch, WriteResult } from './rows.js';
import { advanceFrameCounters, claimFrameIds, mergeReceptions, upsertConcentratorStats } from './sql/frames.js';
import { insertDeadLetters } from './sql/insert-dead-letters.js';
import { insertReadings } from './sql/insert-readings.js';
import { insertUplinks } from './sql/insert-uplinks.js';
import { touchDevices } from './sql/touch-devices.js';
import { upsertLatestReadings } from './sql/upsert-latest-readings.js';

/** The newest reading per (device, metric, channel). */
export function latestPerKey(rows: ReadingRow[]): ReadingRow[] {
  const latest = new Map<string, ReadingRow>();
  for (const row of rows) {
    const key = `${row.devEui}\u0000${row.metric}\u0000${row.channel}`;
    const seen = latest.get(key);
    if (!seen || seen.time < row.time) latest.set(key, row);
  }
  return [...latest.values()];
}

export async function writeBatch(pool: pg.Pool, batch: WriteBatch): Promise<WriteResult> {
  return inTransaction(pool, async (client) => {
    let uplinks = batch.uplinks;
    const merges = [...(batch.receptionMerges ?? [])];
    if (batch.frameIds && batch.frameIds.length > 0) {
      // A frame another worker (or an earlier delivery) already stored: keep one uplink, add our receptions to it.
      const claimed = await claimFrameIds(client, batch.frameIds);
      const frameIds = new Set(batch.frameIds.map((f) => f.id));
      uplinks = batch.uplinks.filter((u) => !frameIds.has(u.id) || claimed.has(u.id));
      for (const u of batch.uplinks) if (frameIds.has(u.id) && !claimed.has(u.id)) merges.push({ uplinkId: u.id, receptions: u.radio.receptions });
      const claimedDevices = new Set(batch.frameIds.filter((f) => claimed.has(f.id)).map((f) => f.devEui));
      await advanceFrameCounters(client, (batch.counters ?? []).filter((c) => claimedDevices.has(c.devEui)));
    }
    const inserted = await insertUplinks(client, uplinks);
    const readings = batch.readings.filter((r) => r.uplinkId !== null && inserted.has(r.uplinkId));
    readings.push(...batch.healthReadings);
    const stored = await insertReadings(client, readings);
    await upsertLatestReadings(client, latestPerKey(readings));
    const seen = new Map<string, Date>();
    for (const u of batch.uplinks) {
      if (!inserted.has(u.id)) continue;
      const at = seen.get(u.devEui);
      if (!at || at < u.receivedAt) seen.set(u.devEui, u.receivedAt);
    }
    await touchDevices(client, seen);
    await insertDeadLetters(client, batch.deadLetters);
    await mergeReceptions(client, merges);
    await upsertConcentratorStats(client, batch.concentratorStats ?? []);
    return { inserted, newUplinks: inserted.size, duplicateUplinks: batch.uplinks.length - inserted.size, readings: stored };
  });
}
