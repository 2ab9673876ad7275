/**
 * The batch writer: one transaction per batch, one round trip per statement kind.
 * Idempotent on the uplink identity: readings, latest state and last-seen move only
 * for uplinks this transaction inserted, so a redelivered batch changes nothing.
 *
 * Uplinks and readings go in with COPY, which cannot skip a stored key. When one is
 * stored already (a redelivered message, or two uplinks with one reading key) the COPY
 * fails, the transaction is rolled back, and the batch is written again with INSERTs
 * that skip what exists. A skipped reading of a new uplink is no redelivery but a reading
 * whose key another one holds: it becomes a dead letter `reading_conflict`, never lost
 * unseen. Uplinks without a source time (`localTime`) have their identity claimed in
 * frame_ids with the raw frames', since their time would differ on a redelivery. That costs a second attempt for such batches, and saves every
 * other batch the savepoints around each COPY: four round trips, each waiting for the
 * event loop of a service busy parsing messages.
 */
import type pg from 'pg';
import { inTransaction } from './database.js';
import { StoredKeyError } from './sql/copy-in.js';
import type { ReadingRow, WriteBatch, WriteResult } from './rows.js';
import { claimFrameIds, mergeReceptions, upsertConcentratorStats } from './sql/frames.js';
import type { DeadLetterRow, UplinkRow } from './rows.js';
import { insertDeadLetters } from './sql/insert-dead-letters.js';
import { copyReadings } from './sql/copy-readings.js';
import { insertNewReadings, insertReadings } from './sql/insert-readings.js';
import { copyUplinks } from './sql/copy-uplinks.js';
import { insertUplinks } from './sql/insert-uplinks.js';
import { updateDeviceProgress, type DeviceProgressRow } from './sql/update-device-progress.js';
import { upsertLatestState, type DeviceSeen } from './sql/upsert-latest-state.js';
import { claimJoins, joinKey, promoteSessions } from './sql/joins.js';
import { applyDeviceAcks, applyTxAcks, recordDataDownlinks, type DownlinkCounterRow } from './sql/downlinks.js';
import { applyNetworkServerReports, updateDownlinkRoutes } from './sql/downlink-queue.js';
import type { PlannedDownlink } from './rows.js';

/** The newest reading per (device, metric, channel), in no particular order. */
export function newestPerKey(rows: ReadingRow[]): ReadingRow[] {
  // Keyed by device, then by metric: a key string is built only for readings with a channel
  // (metric ids never contain U+0000).
  const latest = new Map<string, Map<string, ReadingRow>>();
  for (const row of rows) {
    let device = latest.get(row.devEui);
    if (!device) latest.set(row.devEui, (device = new Map()));
    const key = row.channel === '' ? row.metric : `${row.metric}\u0000${row.channel}`;
    const seen = device.get(key);
    if (!seen || seen.time < row.time) device.set(key, row);
  }
  const out: ReadingRow[] = [];
  for (const device of latest.values()) for (const row of device.values()) out.push(row);
  return out;
}

export async function writeBatch(pool: pg.Pool, batch: WriteBatch): Promise<WriteResult> {
  // Only the table whose COPY met a stored key is written by INSERT the next time: a
  // redelivery repeats uplinks, a device that repeats a reading's time repeats readings.
  const how: WriteMode = { uplinks: 'copy', readings: 'copy' };
  for (;;) {
    try {
      return await inTransaction(pool, (client) => write(client, batch, how));
    } catch (error) {
      if (!(error instanceof StoredKeyError) || how[error.table] === 'insert') throw error;
      how[error.table] = 'insert';
    }
  }
}

/** How one attempt writes uplinks and readings: COPY, or INSERT skipping stored keys. */
interface WriteMode {
  uplinks: 'copy' | 'insert';
  readings: 'copy' | 'insert';
}

async function write(client: pg.PoolClient, batch: WriteBatch, how: Readonly<WriteMode>): Promise<WriteResult> {
  let uplinks = batch.uplinks;
  const merges = [...(batch.receptionMerges ?? [])];
  const progress = new Map<string, DeviceProgressRow>();
  // Raw-frame uplinks this transaction stored first: only they may move sessions or send downlinks.
  let claimedFrames = new Set<string>();
  const claims = batch.uplinkClaims ?? [];
  if ((batch.frameIds && batch.frameIds.length > 0) || claims.length > 0) {
    // A frame another worker (or an earlier delivery) already stored: keep one uplink, add our receptions to it.
    // An uplink without a source time whose identity is claimed already is a redelivery: nothing to store.
    const frameIdRows = batch.frameIds ?? [];
    const claimed = await claimFrameIds(client, claims.length === 0 ? frameIdRows : [...frameIdRows, ...claims]);
    claimedFrames = claimed;
    const frameIds = new Set(frameIdRows.map((f) => f.id));
    const claimIds = new Set(claims.map((c) => c.id));
    uplinks = batch.uplinks.filter((u) => (!frameIds.has(u.id) && !claimIds.has(u.id)) || claimed.has(u.id));
    for (const u of batch.uplinks) if (frameIds.has(u.id) && !claimed.has(u.id)) merges.push({ uplinkId: u.id, receptions: u.radio.receptions });
    const claimedDevices = new Set(frameIdRows.filter((f) => claimed.has(f.id)).map((f) => f.devEui));
    for (const c of batch.counters ?? []) {
      if (claimedDevices.has(c.devEui)) progress.set(c.devEui, { devEui: c.devEui, fCnt: c.fCnt, reset: c.reset });
    }
  }
  // Sessions first: a promotion clears the counters the progress update and the downlinks then set.
  await promoteSessions(client, (batch.promotions ?? []).filter((p) => claimedFrames.has(p.uplinkId)));
  // Joins and their join-accepts in one statement; data downlinks after the device acks.
  const accepts = new Map<string, PlannedDownlink>();
  const dataDownlinks: PlannedDownlink[] = [];
  for (const p of batch.downlinks ?? []) {
    if ('joinKey' in p.after) accepts.set(p.after.joinKey, p);
    else dataDownlinks.push(p);
  }
  const claimedJoins = await claimJoins(client, (batch.joins ?? []).map((j) => ({ ...j, acceptGatewayId: accepts.get(joinKey(j))?.record.gatewayId ?? null })));
  const downlinks: { planned: PlannedDownlink; id: number }[] = [];
  for (const [key, id] of claimedJoins) {
    const planned = accepts.get(key);
    if (planned && id !== null) downlinks.push({ planned, id });
  }
  await applyDeviceAcks(client, (batch.deviceAcks ?? []).filter((a) => claimedFrames.has(a.uplinkId)), batch.downlinkMaxAttempts ?? 3);
  downlinks.push(...(await writeDownlinks(client, dataDownlinks, claimedFrames)));
  await applyTxAcks(client, batch.txAcks ?? [], batch.downlinkMaxAttempts ?? 3);
  await applyNetworkServerReports(client, batch.networkServerReports ?? []);
  await updateDownlinkRoutes(client, batch.downlinkRoutes ?? []);
  let inserted: Set<string>;
  if (how.uplinks === 'copy') {
    await copyUplinks(client, uplinks);
    inserted = new Set(uplinks.map((u) => u.id));
  } else {
    inserted = await insertUplinks(client, uplinks);
  }
  // Readings of uplinks stored just now are new unless two uplinks carry the same reading key:
  // then COPY fails, and the INSERT that follows says which were not stored; those become dead letters.
  let fresh = batch.readings.filter((r) => r.uplinkId !== null && inserted.has(r.uplinkId));
  let stored: number;
  let conflicts: DeadLetterRow[] = [];
  if (how.readings === 'copy') {
    stored = await copyReadings(client, fresh);
  } else {
    const written = await insertNewReadings(client, fresh);
    stored = written.stored;
    if (written.skipped.length > 0) {
      const skipped = new Set(written.skipped);
      fresh = fresh.filter((r) => !skipped.has(r));
      conflicts = readingConflicts(written.skipped, uplinks);
    }
  }
  // Status readings have no uplink identity; a redelivered status event repeats its keys.
  stored += await insertReadings(client, batch.healthReadings);
  const readings = batch.healthReadings.length > 0 ? [...fresh, ...batch.healthReadings] : fresh;
  const latest = newestPerKey(readings);
  // Last seen travels with the latest state (one row per device): the newest new uplink per device.
  const seen = new Map<string, DeviceSeen>();
  for (const u of uplinks) {
    if (!inserted.has(u.id)) continue;
    const s = seen.get(u.devEui);
    if (!s) seen.set(u.devEui, { devEui: u.devEui, seenAt: u.receivedAt });
    else if (s.seenAt < u.receivedAt) s.seenAt = u.receivedAt;
  }
  await upsertLatestState(client, latest, [...seen.values()]);
  await updateDeviceProgress(client, [...progress.values()]);
  await insertDeadLetters(client, conflicts.length === 0 ? batch.deadLetters : [...batch.deadLetters, ...conflicts]);
  const receptions = await mergeReceptions(client, merges);
  await upsertConcentratorStats(client, batch.concentratorStats ?? []);
  return {
    inserted, newUplinks: inserted.size, duplicateUplinks: batch.uplinks.length - inserted.size, readings: stored, latest, downlinks, joins: new Set(claimedJoins.keys()),
    readingConflicts: conflicts, receptions,
  };
}

/**
 * One dead letter per uplink whose readings were not stored because a reading with the same
 * key (device, metric, channel, time) is stored already: the uplink's message, so it can be
 * looked at and replayed, and the keys in the detail.
 */
function readingConflicts(skipped: ReadingRow[], uplinks: UplinkRow[]): DeadLetterRow[] {
  const byUplink = new Map<string, ReadingRow[]>();
  for (const r of skipped) {
    const list = byUplink.get(r.uplinkId ?? '');
    if (list) list.push(r);
    else byUplink.set(r.uplinkId ?? '', [r]);
  }
  const rows = new Map(uplinks.filter((u) => byUplink.has(u.id)).map((u) => [u.id, u]));
  const letters: DeadLetterRow[] = [];
  for (const [uplinkId, readings] of byUplink) {
    const uplink = rows.get(uplinkId);
    const keys = readings.map((r) => `${r.metric}${r.channel ? `/${r.channel}` : ''}@${r.time.toISOString()}`).join(', ');
    letters.push({
      receivedAt: uplink?.receivedAt ?? new Date(),
      topic: uplink?.origin?.topic ?? `uplink/${uplinkId}`,
      payload: uplink?.origin?.payload ?? uplink?.payload ?? Buffer.alloc(0),
      reason: 'reading_conflict',
      detail: `uplink ${uplinkId}: ${readings.length} reading(s) not stored, their key (device, metric, channel, time) is another reading's: ${keys}`,
      devEui: readings[0]!.devEui,
    });
  }
  return letters;
}

/**
 * Records the data downlinks whose uplink this transaction stored and whose counter it
 * could move, with ids from the downlink sequence, and marks the queue items they carry
 * sent: one statement (recordDataDownlinks). A data downlink always moves FCntDown.
 * (Join-accepts are recorded by claimJoins.)
 */
async function writeDownlinks(client: pg.PoolClient, planned: PlannedDownlink[], frames: Set<string>): Promise<{ planned: PlannedDownlink; id: number }[]> {
  if (planned.length === 0) return [];
  const eligible = planned.filter((p): p is PlannedDownlink & { counter: DownlinkCounterRow } => 'uplinkId' in p.after && frames.has(p.after.uplinkId) && p.counter !== null);
  const ids = await recordDataDownlinks(client, eligible.map((p) => ({ ...p.record, counter: p.counter, devStatusReq: p.devStatusReq })));
  return eligible.flatMap((p, i) => {
    const id = ids.get(i);
    return id === undefined ? [] : [{ planned: p, id }];
  });
}
